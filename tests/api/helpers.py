"""Helpers for the HTTP/GraphQL tests: dossier queries, state changes through core, independent date rules."""

from __future__ import annotations

import copy
import os
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import col, func, select

from core import dossiers
from core.citizens import citizen_by_id_number
from core.clock import utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
from core.dossier_status import DossierStatus
from core.models import Dossier, DossierEvent
from core.seed_data import PROCEDURES
from tests.support import Citizen, gql

# The database the suite runs on, decided exactly as tests/conftest.py decides it.
ON_POSTGRES = os.environ.get("SUPERAPP_DATABASE_URL", "").startswith("postgresql")
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
BIRTH_REGISTRATION = "1.001193"

# The ten national statuses in national-code order (docs/ARCHITECTURE.md), with their Vietnamese labels.
NATIONAL_ORDER: list[tuple[str, str]] = [
    ("SUBMITTED", "Mới đăng ký"),
    ("ACCEPTED", "Được tiếp nhận"),
    ("NOT_ACCEPTED", "Không được tiếp nhận"),
    ("PROCESSING", "Đang xử lý"),
    ("SUPPLEMENT_REQUESTED", "Yêu cầu bổ sung giấy tờ"),
    ("PAYMENT_REQUESTED", "Yêu cầu thực hiện nghĩa vụ tài chính"),
    ("WITHDRAWAL_REQUESTED", "Công dân yêu cầu rút hồ sơ"),
    ("PROCESSING_STOPPED", "Dừng xử lý"),
    ("PROCESSED", "Đã xử lý xong"),
    ("RETURNED", "Đã trả kết quả"),
]

DOSSIER_FIELDS = """
    id code status statusCode statusLabel { vi en } submittedAt dueDate updatedAt version formData
    overdue dueSoon workingDaysLeft
    procedure { code processingDays agency { code } }
    agency { code }
    events { seq status statusCode fromStatus source occurredAt }
    documents { id kind number title { vi en } }
"""

SUBMIT = f"""
mutation Submit($input: SubmitDossierInput!) {{
  submitDossier(input: $input) {{
    clientMutationId
    dossier {{ {DOSSIER_FIELDS} }}
    errors {{ code field message messageVi messageEn }}
  }}
}}
"""

WITHDRAW = f"""
mutation Withdraw($code: String!) {{
  withdrawDossier(input: {{code: $code, clientMutationId: "w-1"}}) {{
    clientMutationId
    dossier {{ {DOSSIER_FIELDS} }}
    errors {{ code field message messageVi messageEn }}
  }}
}}
"""

DOSSIER = f"query Dossier($code: String!) {{ dossier(code: $code) {{ {DOSSIER_FIELDS} }} }}"

MY_DOSSIERS_PAGE = """
query Mine($first: Int, $after: String, $status: [DossierStatus!]) {
  myDossiers(first: $first, after: $after, status: $status) {
    edges { cursor node { id code status submittedAt procedure { code } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def sample_form(procedure_code: str) -> dict[str, Any]:
    """The seed data's valid sample answers for a procedure's e-form (a fresh copy)."""
    for procedure in PROCEDURES:
        if procedure["code"] == procedure_code:
            return copy.deepcopy(procedure["sample"])
    raise KeyError(procedure_code)


async def submit(client: httpx.AsyncClient, who: Citizen, procedure_code: str = BIRTH_REGISTRATION,
                 form_data: Any = None, *, client_mutation_id: str | None = None,
                 headers: dict[str, str] | None = None) -> dict[str, Any]:
    """`submitDossier` over HTTP; returns the payload, asserting the request itself raised no GraphQL error."""
    data = sample_form(procedure_code) if form_data is None else form_data
    variables: dict[str, Any] = {"input": {"procedureCode": procedure_code, "formData": data}}
    if client_mutation_id is not None:
        variables["input"]["clientMutationId"] = client_mutation_id
    body = await gql(client, SUBMIT, variables, who=who, headers=headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["submitDossier"]
    return payload


async def submitted_code(client: httpx.AsyncClient, who: Citizen, procedure_code: str = BIRTH_REGISTRATION) -> str:
    payload = await submit(client, who, procedure_code)
    assert payload["errors"] == [], payload
    code: str = payload["dossier"]["code"]
    return code


async def walk_my_dossiers(client: httpx.AsyncClient, who: Citizen, first: int,
                           status: list[str] | None = None) -> list[dict[str, Any]]:
    """Every edge node of `myDossiers`, following `endCursor` until `hasNextPage` is false."""
    nodes: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(1000):
        body = await gql(client, MY_DOSSIERS_PAGE, {"first": first, "after": after, "status": status}, who=who)
        assert "errors" not in body, body
        connection = body["data"]["myDossiers"]
        edges = connection["edges"]
        info = connection["pageInfo"]
        assert len(edges) <= first
        assert info["hasPreviousPage"] is (after is not None)
        if edges:
            assert info["startCursor"] == edges[0]["cursor"]
            assert info["endCursor"] == edges[-1]["cursor"]
        nodes.extend(edge["node"] for edge in edges)
        if not info["hasNextPage"]:
            return nodes
        assert len(edges) == first, "a page that is not the last must be full"
        after = info["endCursor"]
    raise AssertionError("pagination never ended")


async def citizen_id_of(db: Database, id_number: str) -> int:
    async with db.read() as session:
        citizen = await citizen_by_id_number(session, id_number)
    assert citizen is not None, f"citizen {id_number} is not enrolled"
    assert citizen.id is not None
    return citizen.id


async def is_enrolled(db: Database, id_number: str) -> bool:
    async with db.read() as session:
        return await citizen_by_id_number(session, id_number) is not None


async def move(db: Database, id_number: str, code: str, *targets: DossierStatus) -> None:
    """Drive a dossier through agency status changes with the domain's own state machine."""
    citizen_id = await citizen_id_of(db, id_number)
    for target in targets:
        async with db.write() as session:
            dossier = await dossiers.citizen_dossier(session, citizen_id=citizen_id, code=code, for_update=True)
            await dossiers.change_status(session, dossier=dossier, target=target, source="agency",
                                         occurred_at=utc_now())


async def dossier_count(db: Database, id_number: str) -> int:
    citizen_id = await citizen_id_of(db, id_number)
    async with db.read() as session:
        query = select(func.count()).where(col(Dossier.citizen_id) == citizen_id)
        return int((await session.execute(query)).scalar_one())


async def stored_dossier(db: Database, code: str) -> tuple[str, int, list[str]]:
    """(status, version, event statuses in seq order) straight from the tables."""
    async with db.read() as session:
        row = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
        events = (await session.execute(
            select(DossierEvent).where(DossierEvent.dossier_id == row.id).order_by(col(DossierEvent.seq))
        )).scalars().all()
    return row.status, row.version, [e.status for e in events]


def local_today() -> date:
    return datetime.now(TIMEZONE).date()


def is_working_day(day: date, calendar: HolidayCalendar) -> bool:
    return day.weekday() < 5 and day not in calendar.days_off


def working_days_after(start: date, end: date, calendar: HolidayCalendar) -> int:
    """Working days in (start, end], counted day by day."""
    return sum(1 for n in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=n), calendar))


def received_on(submitted_at: str) -> date:
    """The local calendar date of a UTC `submittedAt` from the API."""
    moment = datetime.fromisoformat(submitted_at)
    assert moment.tzinfo is not None, f"submittedAt {submitted_at!r} carries no offset"
    return moment.astimezone(TIMEZONE).date()


def without_locations(error: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in error.items() if k != "locations"}
