"""`superapp seed`: the demo catalogue and citizens, and dossiers in every status, through the domain rules.

Running it again updates the catalogue and leaves existing citizens and their dossiers alone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from core import announcements
from core.catalogue import search_text_for, stamp_procedure_if_changed
from core.citizens import citizen_by_id_number
from core.clock import utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
from core.documents import issue_document
from core.dossier_status import DossierStatus
from core.dossiers import Submission, change_status, submit_dossier
from core.id_numbers import Sex, validate_id_number
from core.models import (
    Agency,
    Announcement,
    Citizen,
    Dossier,
    FeatureFlag,
    HomeDefaultService,
    HomeSectionSetting,
    Procedure,
)
from core.payments import check_fees
from core.seed_data import (
    AGENCIES,
    CITIZENS,
    DEMO_ANNOUNCEMENTS,
    DEMO_DOSSIERS,
    DEMO_FLAGS,
    HOME_DEFAULT_SERVICES,
    HOME_SECTION_ORDER,
    PROCEDURES,
    RETURNED_DEMO_RECEIVED_AT,
)
from core.wallet import Verification, demo_signing_key

DEMO_CITIZEN_ID_NUMBER = CITIZENS[0]["id_number"]


def dev_agency_secret(code: str) -> bytes:
    """The event secret an agency has outside production when none is configured (services/agency_settings.py)."""
    return f"dev-secret-{code}".encode()


async def _upsert_agencies(session: AsyncSession) -> dict[str, Agency]:
    existing = {a.code: a for a in (await session.execute(select(Agency))).scalars()}
    for data in AGENCIES:
        agency = existing.get(data["code"]) or Agency(code=data["code"], name_vi="", name_en="")
        agency.name_vi, agency.name_en = data["name_vi"], data["name_en"]
        session.add(agency)
        existing[agency.code] = agency
    await session.flush()
    return existing


async def _upsert_procedures(session: AsyncSession, agencies: dict[str, Agency], now: datetime) -> None:
    existing = {p.code: p for p in (await session.execute(select(Procedure))).scalars()}
    for data in PROCEDURES:
        procedure = existing.get(data["code"]) or Procedure(
            code=data["code"], name_vi="", name_en="", search_text="", agency_id=0, online_level="full",
            processing_days=0,
        )
        agency_id = agencies[data["agency"]].id
        assert agency_id is not None
        procedure.name_vi, procedure.name_en = data["name_vi"], data["name_en"]
        procedure.search_text = search_text_for(code=data["code"], name_vi=data["name_vi"],
                                                name_en=data["name_en"])
        procedure.agency_id, procedure.online_level = agency_id, data["online_level"]
        procedure.processing_days, procedure.fee_vnd = data["processing_days"], data["fee_vnd"]
        check_fees(data["code"], data.get("fees", []), data["fee_vnd"])
        procedure.fees = list(data.get("fees", []))
        procedure.form_schema, procedure.active = data["form_schema"], True
        await stamp_procedure_if_changed(session, procedure, now=now)


async def _ensure_citizens(session: AsyncSession, today: date) -> list[Citizen]:
    citizens = []
    for data in CITIZENS:
        citizen = await citizen_by_id_number(session, data["id_number"])
        if citizen is None:
            birth = date.fromisoformat(data["birth_date"])
            validate_id_number(data["id_number"], birth_date=birth, sex=Sex(data["sex"]), today=today)
            citizen = Citizen(**{**data, "birth_date": birth})
            session.add(citizen)
        citizens.append(citizen)
    await session.flush()
    return citizens


async def _has_dossiers(session: AsyncSession, citizen: Citizen) -> bool:
    query = select(func.count()).where(col(Dossier.citizen_id) == citizen.id)
    return bool((await session.execute(query)).scalar_one())


Demo = tuple[str, list[str], int]


async def _seed_dossier(session: AsyncSession, citizen: Citizen, demo: Demo, *,
                        now: datetime, calendar: HolidayCalendar, tz_name: str) -> None:
    """One demo dossier walked to its status: a transaction of its own, because its code is taken before
    anything is stamped (`core.locks`) and the next dossier would take another code after this one's stamps."""
    assert citizen.id is not None
    code, path, days_ago = demo
    sample = next(p["sample"] for p in PROCEDURES if p["code"] == code)
    returned = bool(path) and path[-1] == DossierStatus.RETURNED
    # The returned one is received on a fixed day, so its code (the guide's example) is the same everywhere.
    submitted = RETURNED_DEMO_RECEIVED_AT if returned else now - timedelta(days=days_ago, hours=1)
    dossier = await submit_dossier(session, citizen=citizen, now=submitted, calendar=calendar, tz_name=tz_name,
                                   submission=Submission(procedure_code=code, form_data=sample))
    for step, status in enumerate(path, start=1):
        at = submitted + timedelta(hours=step * 5)
        await change_status(session, dossier=dossier, target=DossierStatus(status), source="agency",
                            occurred_at=at, external_id=f"seed-{dossier.code}-{step}", notify=False)
    if returned:
        assert dossier.id is not None
        issued_at = submitted + timedelta(days=1)
        # Signed as the civil-status sandbox signs (its demo key with the default development secret), so the
        # demo wallet verifies against the keys the demo server trusts.
        payload = {"v": 1, "kind": "birth_certificate", "number": "123/2026/KS", "title_vi": "Giấy khai sinh",
                   "title_en": "Birth certificate", "issuer": "civil_status", "dossier_code": dossier.code,
                   "issued_at": issued_at.isoformat(), "valid_from": issued_at.date().isoformat(),
                   "valid_until": None, "holder": {"relation": "child", "name": sample["child_name"],
                                                   "birth_date": sample["child_birth_date"]}}
        key = demo_signing_key("civil_status", dev_agency_secret("civil_status"))
        signature = key.sign(payload)
        verification = Verification.VALID if key.public().verify(payload, signature) else Verification.INVALID
        await issue_document(session, citizen_id=citizen.id, dossier_id=dossier.id, agency_id=dossier.agency_id,
                             kind="birth_certificate", title_vi="Giấy khai sinh (bản điện tử)",
                             title_en="Birth certificate (electronic copy)", number="123/2026/KS",
                             issued_at=issued_at, valid_from=issued_at.date(), signed_payload=payload,
                             signature=signature, signing_kid=key.kid, verification=verification)


async def _demo_flags(session: AsyncSession, now: datetime) -> None:
    """The demo's staged roll-out: the interconnected birth procedure is on in Hà Nội (the demo ward's
    province) only. An operator's own setting of the flag is never overwritten by a re-seed."""
    for name, provinces in DEMO_FLAGS.items():
        if await session.get(FeatureFlag, name) is None:
            session.add(FeatureFlag(name=name, provinces=list(provinces), updated_at=now))
    await session.flush()


async def seed(db: Database, *, calendar: HolidayCalendar, tz_name: str, now: datetime | None = None) -> int:
    """Returns how many dossiers it created (0 when the demo citizens already had some)."""
    start = now or utc_now()

    async def catalogue_and_citizens(session: AsyncSession) -> list[tuple[Citizen, datetime]]:
        agencies = await _upsert_agencies(session)
        await _upsert_procedures(session, agencies, start)
        citizens = await _ensure_citizens(session, start.date())
        await _demo_flags(session, start)
        return [(c, at) for c, at in ((citizens[0], start), (citizens[1], start - timedelta(days=3)))
                if not await _has_dossiers(session, c)]

    owners = await db.transaction(catalogue_and_citizens)
    await db.transaction(lambda session: _seed_home(session, start))
    for citizen, at in owners:
        for demo in DEMO_DOSSIERS:
            async def one(session: AsyncSession, citizen: Citizen = citizen, demo: Demo = demo,
                          at: datetime = at) -> None:
                await _seed_dossier(session, citizen, demo, now=at, calendar=calendar, tz_name=tz_name)

            await db.transaction(one)
    return len(owners) * len(DEMO_DOSSIERS)


SEED_SOURCE = "seed"


async def _seed_home(session: AsyncSession, now: datetime) -> None:
    """The demo home screen: a layout and default services where operators set none yet, and the demo
    announcements, their windows renewed from `now` so `make run` shows them however old the database."""
    if (await session.execute(select(HomeSectionSetting.kind))).first() is None:
        for position, kind in enumerate(HOME_SECTION_ORDER):
            session.add(HomeSectionSetting(kind=kind, position=position, enabled=True))
    if (await session.execute(select(HomeDefaultService.procedure_code))).first() is None:
        for position, code in enumerate(HOME_DEFAULT_SERVICES):
            session.add(HomeDefaultService(procedure_code=code, position=position))
    for data in DEMO_ANNOUNCEMENTS:
        checked, errors = announcements.validate(announcements.Draft(
            agency_code=data["agency_code"], title_vi=data["title_vi"], title_en=data["title_en"],
            body_vi=data["body_vi"], body_en=data["body_en"], starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=data["days"]), provinces=data["provinces"], priority=data["priority"]))
        assert not errors, errors  # the demo text obeys the same rules as everyone's
        row = (await session.execute(select(Announcement).where(
            Announcement.service_code == SEED_SOURCE, Announcement.external_id == data["key"]))).scalars().first()
        if row is None:
            checked.service_code, checked.external_id = SEED_SOURCE, data["key"]
            session.add(checked)
            continue
        for name in ("agency_code", "title_vi", "title_en", "body_vi", "body_en", "starts_at", "ends_at", "provinces",
                     "priority"):
            setattr(row, name, getattr(checked, name))
        row.withdrawn_at = None
        session.add(row)
