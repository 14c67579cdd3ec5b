"""Public figures per procedure and agency, against values worked out by hand from generated dossiers.

The dossiers are written straight to the tables (their history is what an agency would have sent), with
times chosen around midnight in Asia/Ho_Chi_Minh so that a figure computed on UTC dates would differ; the
ratings go through `rateDossier` over HTTP like a citizen's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import select

from api.app import create_app
from core.db import Database
from core.dossier_status import DossierStatus
from core.models import Agency, Dossier, DossierEvent, Procedure
from core.settings import Settings
from tests.api.helpers import citizen_id_of
from tests.support import Citizen, citizen, gql, serve

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIGURES = "figures { ratingCount averageRating finishedCount onTimeShare medianProcessingDays }"
QUERY = f"query($code: String!) {{ procedure(code: $code) {{ code {FIGURES} agency {{ code {FIGURES} }} }} }}"
RATE = """mutation($input: RateDossierInput!) { rateDossier(input: $input) { errors { code } } }"""


@dataclass(frozen=True)
class Spec:
    procedure: int  # index into the generated procedures
    received: datetime  # local time
    due: date
    returned: datetime | None  # local time; None: not finished
    stars: int | None = None


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=VN)


SPECS = [
    Spec(0, _local(2, 9), date(2026, 3, 6), _local(5, 15), stars=5),  # on time, 3 days
    Spec(0, _local(2, 23, 30), date(2026, 3, 4), _local(5, 6), stars=4),  # late (UTC date would say 4th), 3 days
    Spec(0, _local(3, 10), date(2026, 3, 10), _local(12, 10), stars=2),  # late, 9 days
    Spec(0, _local(3, 0, 30), date(2026, 3, 5), _local(5, 8)),  # on time, 2 days (3 on UTC dates)
    Spec(0, _local(1, 9), date(2026, 3, 1), None),  # still processing: not counted
    Spec(1, _local(1, 8), date(2026, 3, 3), _local(3, 17), stars=3),  # on time, 2 days
    Spec(1, _local(1, 8), date(2026, 3, 2), _local(9, 8)),  # late, 8 days
    Spec(1, _local(2, 8), date(2026, 3, 6), _local(6, 23)),  # on time (23:00 on the due date), 4 days
]


@dataclass
class Generated:
    agency_code: str
    procedure_codes: list[str]
    owner: Citizen


async def _generate(db: Database, settings: Settings, client: httpx.AsyncClient) -> Generated:
    owner = citizen(settings)
    assert "errors" not in await gql(client, "{ me { idNumber } }", who=owner)  # enrols the citizen
    citizen_id = await citizen_id_of(db, owner.id_number)
    tag = uuid.uuid4().hex[:6].upper()
    agency_code = f"T{tag}.00.00.H99"
    codes = [f"9.9{tag}{n}" for n in range(3)]
    async with db.write() as session:
        agency = Agency(code=agency_code, name_vi="Cơ quan thử số liệu", name_en="Figures test agency")
        session.add(agency)
        await session.flush()
        assert agency.id is not None
        procedures = [Procedure(code=code, name_vi=f"Thủ tục {code}", name_en=f"Procedure {code}",
                                search_text=code, agency_id=agency.id, online_level="full", processing_days=3)
                      for code in codes]
        session.add_all(procedures)
        await session.flush()
        for n, spec in enumerate(SPECS):
            procedure = procedures[spec.procedure]
            status = DossierStatus.RETURNED if spec.returned else DossierStatus.PROCESSING
            received = spec.received.astimezone(UTC)
            dossier = Dossier(code=f"{agency_code}-260301-{n:04d}", citizen_id=citizen_id,
                              procedure_id=procedure.id or 0, agency_id=agency.id, status=status,
                              submitted_at=received, due_date=spec.due, updated_at=received)
            session.add(dossier)
            await session.flush()
            assert dossier.id is not None
            session.add(DossierEvent(dossier_id=dossier.id, seq=1, status=DossierStatus.SUBMITTED, source="citizen",
                                     occurred_at=received))
            if spec.returned:
                session.add(DossierEvent(dossier_id=dossier.id, seq=2, from_status=DossierStatus.PROCESSED,
                                         status=DossierStatus.RETURNED, source="agency",
                                         occurred_at=spec.returned.astimezone(UTC)))
    for n, spec in enumerate(SPECS):
        if spec.stars is not None:
            body = await gql(client, RATE, {"input": {"dossierCode": f"{agency_code}-260301-{n:04d}",
                                                      "stars": spec.stars}}, who=owner)
            assert body["data"]["rateDossier"]["errors"] == [], body
    return Generated(agency_code, codes, owner)


@pytest.fixture
async def generated(db: Database, settings: Settings, client: httpx.AsyncClient) -> AsyncIterator[Generated]:
    data = await _generate(db, settings, client)
    yield data
    async with db.write() as session:  # out of the catalogue other tests read
        for row in (await session.execute(select(Procedure).where(
                Procedure.code.in_(data.procedure_codes)))).scalars():  # type: ignore[attr-defined]
            row.active = False
            session.add(row)


def _expected(specs: list[Spec]) -> dict[str, Any]:
    """The figures worked out from the specs alone: local dates, on-time by the due date, the middle value."""
    finished = [s for s in specs if s.returned is not None]
    days = sorted((s.returned.date() - s.received.date()).days for s in finished if s.returned is not None)
    middle = len(days) // 2
    median = (days[middle] if len(days) % 2 else (days[middle - 1] + days[middle]) / 2) if days else None
    on_time = sum(1 for s in finished if s.returned is not None and s.returned.date() <= s.due)
    stars = [s.stars for s in specs if s.stars is not None]
    return {"ratingCount": len(stars), "averageRating": round(sum(stars) / len(stars), 2) if stars else None,
            "finishedCount": len(finished), "onTimeShare": round(on_time / len(finished), 4) if finished else None,
            "medianProcessingDays": float(median) if median is not None else None}


async def test_figures_match_the_hand_computed_values(generated: Generated, settings: Settings) -> None:
    fresh = settings.updated(graphql={"figures_cache_seconds": 0})  # the session server caches for a minute
    with serve(create_app(fresh)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            answers = []
            for code in generated.procedure_codes:
                body = await gql(http, QUERY, {"code": code})
                assert "errors" not in body, body
                answers.append(body["data"]["procedure"])
    first, second, empty = answers
    assert first["figures"] == _expected([s for s in SPECS if s.procedure == 0]) == {
        "ratingCount": 3, "averageRating": 3.67, "finishedCount": 4, "onTimeShare": 0.5,
        "medianProcessingDays": 3.0}
    assert second["figures"] == _expected([s for s in SPECS if s.procedure == 1]) == {
        "ratingCount": 1, "averageRating": 3.0, "finishedCount": 3, "onTimeShare": 0.6667,
        "medianProcessingDays": 4.0}
    assert empty["figures"] == {"ratingCount": 0, "averageRating": None, "finishedCount": 0, "onTimeShare": None,
                                "medianProcessingDays": None}
    assert first["agency"]["code"] == generated.agency_code
    assert first["agency"]["figures"] == empty["agency"]["figures"] == _expected(SPECS) == {
        "ratingCount": 4, "averageRating": 3.5, "finishedCount": 7, "onTimeShare": 0.5714,
        "medianProcessingDays": 3.0}
    assert generated.owner.id_number not in str(answers)


async def test_figures_are_public_and_cached_briefly(client: httpx.AsyncClient, generated: Generated) -> None:
    """No token needed; the session server (60 s cache) answers the same figures twice in a row."""
    first = await gql(client, QUERY, {"code": generated.procedure_codes[0]})
    again = await gql(client, QUERY, {"code": generated.procedure_codes[0]})
    assert "errors" not in first, first
    assert first == again
    assert first["data"]["procedure"]["figures"]["ratingCount"] == 3
