"""The home screen's rules on their own: section order, announcements' checks, and an announcement expiring as
the clock (the `now` every caller passes from core.clock) moves past its end."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import select

from core import announcements
from core.announcements import Draft, validate, visible
from core.clock import utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
from core.dossier_status import DossierStatus
from core.errors import DomainError, ErrorCode
from core.home_layout import ActionReason, SectionKind, SectionSetting, action_needed, arrange
from core.models import Dossier, Procedure
from tests.core.factories import create_citizen

A, W, F, N = (SectionKind.ACTION_NEEDED, SectionKind.WALLET, SectionKind.FREQUENT_SERVICES,
              SectionKind.ANNOUNCEMENTS)


def setting(*kinds: SectionKind, off: tuple[SectionKind, ...] = ()) -> list[SectionSetting]:
    return [SectionSetting(k, i, k not in off) for i, k in enumerate(kinds)]


def test_own_sections_lead_in_their_configured_order() -> None:
    assert arrange(setting(N, F, W, A), signed_in=True) == [W, A, N, F]
    assert arrange(setting(A, W, F, N), signed_in=True) == [A, W, F, N]


def test_anonymous_callers_get_generic_sections_only() -> None:
    assert arrange(setting(A, W, F, N), signed_in=False) == [F, N]


def test_disabled_sections_are_left_out_and_unnamed_kinds_follow() -> None:
    assert arrange(setting(F, W, off=(W,)), signed_in=True) == [A, F, N]
    assert arrange([], signed_in=True) == [A, W, F, N]


def draft(**changes: object) -> Draft:
    now = utc_now()
    values: dict[str, object] = {"agency_code": "000.00.00.G09", "title_vi": "Thông báo", "title_en": "Notice",
                                 "body_vi": "Nội dung", "body_en": "Body", "starts_at": now,
                                 "ends_at": now + timedelta(days=1)}
    return Draft(**{**values, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["số 001090123456", "CCCD 001.090.123.456", "0912345678", "+84 912 345 678",
                                  "gọi 0912.345.678"])
def test_personal_numbers_are_refused(text: str) -> None:
    _, errors = validate(draft(body_en=text))
    assert [(e.code, e.field) for e in errors] == [(ErrorCode.ANNOUNCEMENT_PERSONAL_DATA, "bodyEn")]


@pytest.mark.parametrize("text", ["Hotline 1900 1234", "Từ 20/12/2026 đến 31/12/2026", "Phòng 101, tầng 3"])
def test_ordinary_numbers_pass(text: str) -> None:
    assert validate(draft(body_vi=text))[1] == []


def test_window_priority_and_provinces_are_bounded() -> None:
    now = utc_now()
    assert [e.field for e in validate(draft(ends_at=now))[1]] == ["endsAt"]
    assert [e.field for e in validate(draft(ends_at=now + timedelta(days=367)))[1]] == ["endsAt"]
    assert [e.field for e in validate(draft(priority=-1))[1]] == ["priority"]
    assert [e.code for e in validate(draft(provinces=["001", "100"]))[1]] == [ErrorCode.UNKNOWN_PROVINCE]
    row, errors = validate(draft(provinces=["079", "001", "079"]))
    assert errors == []
    assert row.provinces == ",001,079,"
    assert announcements.province_codes(row) == ["001", "079"]


def test_a_callers_province_must_be_a_known_code() -> None:
    assert announcements.check_province("079") == "079"
    assert announcements.check_province(None) is None
    with pytest.raises(DomainError) as refused:
        announcements.check_province("080x")
    assert refused.value.code == ErrorCode.UNKNOWN_PROVINCE


async def test_an_announcement_expires_when_the_clock_passes_its_end(db: Database) -> None:
    start = utc_now() + timedelta(days=30)  # a window of its own, after every other test's announcements
    title = f"Thông báo {uuid.uuid4().hex[:8]}"
    row = await db.transaction(lambda s: announcements.create(s, draft(
        title_vi=title, starts_at=start, ends_at=start + timedelta(hours=2), provinces=["001"])))

    async def shown(at_offset: timedelta, province: str | None = "001") -> bool:
        async with db.read() as session:
            rows = await visible(session, now=start + at_offset, province=province, limit=100)
        return row.id in {r.id for r in rows}

    assert not await shown(-timedelta(microseconds=1))  # not yet valid
    assert await shown(timedelta(0))
    assert await shown(timedelta(hours=2) - timedelta(microseconds=1))
    assert not await shown(timedelta(hours=2))  # the end is exclusive
    assert not await shown(timedelta(hours=1), province="079")
    assert not await shown(timedelta(hours=1), province=None)


async def test_action_needed_lists_what_the_citizen_must_do_then_what_runs_late(
        db: Database, calendar: HolidayCalendar) -> None:
    owner = await create_citizen(db)
    assert owner.id is not None
    today = date(2026, 12, 9)  # a Wednesday
    next_working_day = calendar.add_working_days(today, 1)
    async with db.write() as session:
        procedure = (await session.execute(select(Procedure).where(Procedure.code == "1.004206"))).scalars().one()

        def dossier(status: DossierStatus, due: date) -> Dossier:
            row = Dossier(code=f"T-{uuid.uuid4().hex[:12]}", citizen_id=owner.id or 0, procedure_id=procedure.id or 0,
                          agency_id=procedure.agency_id, status=status.value, submitted_at=utc_now(), due_date=due,
                          updated_at=utc_now())
            session.add(row)
            return row

        late = dossier(DossierStatus.PROCESSING, today - timedelta(days=7))
        soon = dossier(DossierStatus.ACCEPTED, next_working_day)
        dossier(DossierStatus.PROCESSING, today + timedelta(days=30))  # plenty of time: not listed
        dossier(DossierStatus.PROCESSED, today - timedelta(days=7))  # the agency's clock stopped: not late
        supplement = dossier(DossierStatus.SUPPLEMENT_REQUESTED, today + timedelta(days=30))
        payment = dossier(DossierStatus.PAYMENT_REQUESTED, today - timedelta(days=1))
    async with db.read() as session:
        items = await action_needed(session, citizen_id=owner.id, today=today, calendar=calendar)
    assert [(i.reason, i.dossier.code) for i in items] == [
        (ActionReason.SUPPLEMENT_REQUESTED, supplement.code), (ActionReason.PAYMENT_REQUESTED, payment.code),
        (ActionReason.OVERDUE, late.code), (ActionReason.DUE_SOON, soon.code)]
