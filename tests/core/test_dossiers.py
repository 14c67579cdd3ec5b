"""Dossier domain functions against the real database: submit, status changes, withdrawal, listing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, func, select

from core.catalogue import procedure_by_code
from core.db import Database
from core.deadlines import HolidayCalendar
from core.dossier_status import DossierStatus
from core.dossiers import (
    CURSOR_KIND,
    Submission,
    change_status,
    citizen_dossier,
    citizen_dossier_by_id,
    events_for,
    list_citizen_dossiers,
    submit_dossier,
    withdraw_dossier,
)
from core.errors import DomainError, ErrorCode
from core.models import Agency, Citizen, Dossier, DossierEvent, Procedure
from core.pagination import encode_cursor, page_request
from core.settings import Settings
from tests.core.factories import PROCEDURE_CODE, create_citizen, morning_of, sample_form

S = DossierStatus
# 2033-03-04 is a Friday; no day off is listed for 2033, so only weekends are skipped.
FRIDAY = date(2033, 3, 4)

# How an agency takes a dossier to each status (written from the national flow).
PATHS: dict[DossierStatus, list[DossierStatus]] = {
    S.SUBMITTED: [],
    S.ACCEPTED: [S.ACCEPTED],
    S.NOT_ACCEPTED: [S.NOT_ACCEPTED],
    S.PROCESSING: [S.ACCEPTED, S.PROCESSING],
    S.SUPPLEMENT_REQUESTED: [S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED],
    S.PAYMENT_REQUESTED: [S.ACCEPTED, S.PROCESSING, S.PAYMENT_REQUESTED],
    S.WITHDRAWAL_REQUESTED: [S.WITHDRAWAL_REQUESTED],
    S.PROCESSING_STOPPED: [S.ACCEPTED, S.PROCESSING_STOPPED],
    S.PROCESSED: [S.ACCEPTED, S.PROCESSING, S.PROCESSED],
    S.RETURNED: [S.ACCEPTED, S.PROCESSING, S.PROCESSED, S.RETURNED],
}
# "The citizen may request withdrawal from submitted, accepted, processing, supplement_requested,
# payment_requested."
WITHDRAWABLE = {S.SUBMITTED, S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED}


@pytest.fixture
def tz(settings: Settings) -> str:
    return settings.timezone


async def _submit(db: Database, calendar: HolidayCalendar, tz: str, citizen: Citizen, *,
                  now: datetime | None = None, form: dict[str, Any] | None = None,
                  client_mutation_id: str | None = None, procedure_code: str = PROCEDURE_CODE) -> Dossier:
    submission = Submission(procedure_code=procedure_code, form_data=sample_form() if form is None else form,
                            client_mutation_id=client_mutation_id)
    async with db.write() as session:
        return await submit_dossier(session, citizen=citizen, submission=submission,
                                    now=now or morning_of(FRIDAY), calendar=calendar, tz_name=tz)


async def _move(db: Database, citizen: Citizen, dossier: Dossier, path: list[DossierStatus],
                at: datetime) -> Dossier:
    assert citizen.id is not None
    async with db.write() as session:
        locked = await citizen_dossier(session, citizen_id=citizen.id, code=dossier.code, for_update=True)
        for step, target in enumerate(path, start=1):
            await change_status(session, dossier=locked, target=target, source="agency",
                                occurred_at=at + timedelta(minutes=step), external_id=f"{dossier.code}/{step}")
    return locked


async def _reload(db: Database, dossier: Dossier) -> tuple[Dossier, list[DossierEvent]]:
    assert dossier.id is not None
    async with db.read() as session:
        fresh = await session.get(Dossier, dossier.id)
        assert fresh is not None
        events = (await events_for(session, [dossier.id]))[dossier.id]
    return fresh, events


# --- submit -----------------------------------------------------------------------------------------------


async def test_submit_stores_the_dossier_and_its_first_event(
    db: Database, calendar: HolidayCalendar, tz: str
) -> None:
    citizen = await create_citizen(db, phone="0912000111")
    now = morning_of(FRIDAY)
    dossier = await _submit(db, calendar, tz, citizen, now=now)

    async with db.read() as session:
        procedure = await procedure_by_code(session, PROCEDURE_CODE)
        assert procedure is not None
        agency = await session.get(Agency, procedure.agency_id)
        assert agency is not None
    stored, events = await _reload(db, dossier)
    assert stored.citizen_id == citizen.id
    assert stored.procedure_id == procedure.id
    assert stored.agency_id == agency.id
    assert stored.status == S.SUBMITTED
    assert stored.version == 1
    assert stored.submitted_at == now
    assert stored.code.startswith(f"{agency.code}-330304-")
    assert stored.due_date == calendar.add_working_days(FRIDAY, procedure.processing_days)
    # The citizen's identity and phone come from the profile, the rest from the form.
    assert stored.form_data == {**sample_form(), "applicant_name": citizen.full_name,
                                "applicant_id_number": citizen.id_number, "phone": "0912000111"}
    assert [(e.seq, e.from_status, e.status, e.source) for e in events] == [(1, None, S.SUBMITTED, "citizen")]
    assert events[0].occurred_at == now


async def test_due_date_counts_working_days_from_the_local_receipt_date(
    db: Database, calendar: HolidayCalendar, tz: str
) -> None:
    citizen = await create_citizen(db)
    # 20:00 UTC on Thursday is already 03:00 on Friday in Hà Nội (UTC+7): received on Friday.
    now = datetime(2033, 3, 10, 20, 0, tzinfo=UTC)
    received = date(2033, 3, 11)
    assert received.isoweekday() == 5
    dossier = await _submit(db, calendar, tz, citizen, now=now)
    async with db.read() as session:
        procedure = await procedure_by_code(session, PROCEDURE_CODE)
        assert procedure is not None
    assert f"-{received:%y%m%d}-" in dossier.code
    assert dossier.due_date == calendar.add_working_days(received, procedure.processing_days)
    # Three working days after a Friday, with no holidays that week, is the next Wednesday.
    assert procedure.processing_days == 3
    assert dossier.due_date == date(2033, 3, 16)


async def test_the_same_client_mutation_id_and_payload_returns_the_same_dossier(
    db: Database, calendar: HolidayCalendar, tz: str
) -> None:
    citizen = await create_citizen(db)
    first = await _submit(db, calendar, tz, citizen, client_mutation_id="offline-42")
    again = await _submit(db, calendar, tz, citizen, client_mutation_id="offline-42",
                          now=morning_of(FRIDAY) + timedelta(hours=5))
    assert (again.id, again.code, again.submitted_at) == (first.id, first.code, first.submitted_at)
    async with db.read() as session:
        count = (await session.execute(
            select(func.count()).where(col(Dossier.citizen_id) == citizen.id))).scalar_one()
        events = (await events_for(session, [first.id or 0]))[first.id or 0]
    assert count == 1
    assert len(events) == 1


async def test_the_same_client_mutation_id_with_another_payload_is_refused(
    db: Database, calendar: HolidayCalendar, tz: str
) -> None:
    citizen = await create_citizen(db)
    await _submit(db, calendar, tz, citizen, client_mutation_id="offline-43")
    with pytest.raises(DomainError) as info:
        await _submit(db, calendar, tz, citizen, client_mutation_id="offline-43",
                      form={**sample_form(), "until": "2028-01-31"})
    assert info.value.code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert info.value.field == "clientMutationId"
    with pytest.raises(DomainError) as other_procedure:
        await _submit(db, calendar, tz, citizen, client_mutation_id="offline-43", procedure_code="1.004194",
                      form=sample_form("1.004194"))
    assert other_procedure.value.code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    async with db.read() as session:
        count = (await session.execute(
            select(func.count()).where(col(Dossier.citizen_id) == citizen.id))).scalar_one()
    assert count == 1


async def test_client_mutation_ids_are_per_citizen(db: Database, calendar: HolidayCalendar, tz: str) -> None:
    one, two = await create_citizen(db), await create_citizen(db)
    first = await _submit(db, calendar, tz, one, client_mutation_id="shared-key")
    second = await _submit(db, calendar, tz, two, client_mutation_id="shared-key",
                           form={**sample_form(), "until": "2028-01-31"})
    assert first.id != second.id
    assert second.citizen_id == two.id


async def test_an_unknown_procedure_is_not_available(db: Database, calendar: HolidayCalendar, tz: str) -> None:
    citizen = await create_citizen(db)
    with pytest.raises(DomainError) as info:
        await _submit(db, calendar, tz, citizen, procedure_code="9.999999", form={})
    assert info.value.code is ErrorCode.PROCEDURE_NOT_AVAILABLE
    assert info.value.field == "procedureCode"
    assert "9.999999" in info.value.message_vi
    assert "9.999999" in info.value.message_en


async def test_an_inactive_procedure_is_not_available(db: Database, calendar: HolidayCalendar, tz: str) -> None:
    citizen = await create_citizen(db)

    class Undo(Exception):
        pass

    async def submit_to_an_inactive_procedure() -> None:
        # The inactive procedure only exists inside this transaction, which is rolled back afterwards.
        async with db.write() as session:
            seeded = await procedure_by_code(session, PROCEDURE_CODE)
            assert seeded is not None
            session.add(Procedure(code="9.000001", name_vi="Thủ tục đã bãi bỏ", name_en="Repealed procedure",
                                  search_text="9.000001", agency_id=seeded.agency_id, online_level="full",
                                  processing_days=1, form_schema=seeded.form_schema, active=False))
            await session.flush()
            with pytest.raises(DomainError) as info:
                await submit_dossier(session, citizen=citizen, now=morning_of(FRIDAY), calendar=calendar,
                                     tz_name=tz,
                                     submission=Submission(procedure_code="9.000001", form_data=sample_form()))
            assert info.value.code is ErrorCode.PROCEDURE_NOT_AVAILABLE
            assert info.value.field == "procedureCode"
            raise Undo

    with pytest.raises(Undo):
        await submit_to_an_inactive_procedure()
    async with db.read() as session:
        assert await procedure_by_code(session, "9.000001") is None


async def test_an_invalid_form_is_refused_with_field_errors_and_nothing_is_stored(
    db: Database, calendar: HolidayCalendar, tz: str
) -> None:
    citizen = await create_citizen(db)
    form = {key: value for key, value in sample_form().items() if key != "address"}
    with pytest.raises(DomainError) as info:
        await _submit(db, calendar, tz, citizen, form={**form, "until": "30/06/2027"})
    assert [(e.code, e.field) for e in info.value.errors] == [
        (ErrorCode.REQUIRED, "formData.address"),
        (ErrorCode.INVALID_FORMAT, "formData.until"),
    ]
    async with db.read() as session:
        count = (await session.execute(
            select(func.count()).where(col(Dossier.citizen_id) == citizen.id))).scalar_one()
    assert count == 0


async def test_a_citizen_cannot_file_in_someone_elses_name(
    db: Database, calendar: HolidayCalendar, tz: str
) -> None:
    citizen = await create_citizen(db)
    dossier = await _submit(db, calendar, tz, citizen, form={**sample_form(), "applicant_name": "Người Khác",
                                                             "applicant_id_number": "079301123456"})
    assert dossier.form_data["applicant_name"] == citizen.full_name
    assert dossier.form_data["applicant_id_number"] == citizen.id_number


# --- status changes -------------------------------------------------------------------------------------------


async def test_change_status_appends_events_with_increasing_seq(
    db: Database, calendar: HolidayCalendar, tz: str
) -> None:
    citizen = await create_citizen(db)
    dossier = await _submit(db, calendar, tz, citizen)
    path = [S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PROCESSING, S.PROCESSED, S.RETURNED]
    at = morning_of(FRIDAY) + timedelta(hours=1)
    moved = await _move(db, citizen, dossier, path, at)
    assert moved.status == S.RETURNED

    stored, events = await _reload(db, dossier)
    assert stored.status == S.RETURNED
    assert stored.version == 1 + len(path)
    assert stored.updated_at == at + timedelta(minutes=len(path))
    assert [e.seq for e in events] == list(range(1, len(path) + 2))
    assert [e.status for e in events] == [S.SUBMITTED, *path]
    assert [e.from_status for e in events] == [None, S.SUBMITTED, *path[:-1]]
    assert [e.source for e in events] == ["citizen"] + ["agency"] * len(path)


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], S.PROCESSING),
        ([], S.SUBMITTED),
        ([S.ACCEPTED], S.SUPPLEMENT_REQUESTED),
        ([S.ACCEPTED, S.PROCESSING], S.RETURNED),
        ([S.NOT_ACCEPTED], S.ACCEPTED),
        ([S.ACCEPTED, S.PROCESSING, S.PROCESSED, S.RETURNED], S.PROCESSING),
    ],
)
async def test_an_impossible_transition_leaves_the_dossier_unchanged(
    db: Database, calendar: HolidayCalendar, tz: str, path: list[DossierStatus], target: DossierStatus
) -> None:
    citizen = await create_citizen(db)
    dossier = await _submit(db, calendar, tz, citizen)
    await _move(db, citizen, dossier, path, morning_of(FRIDAY))
    before, before_events = await _reload(db, dossier)
    assert citizen.id is not None

    # Even a caller that catches the error and commits changes nothing.
    async with db.write() as session:
        locked = await citizen_dossier(session, citizen_id=citizen.id, code=dossier.code, for_update=True)
        with pytest.raises(DomainError) as info:
            await change_status(session, dossier=locked, target=target, source="agency",
                                occurred_at=morning_of(FRIDAY) + timedelta(days=1), external_id="late")
        assert (locked.status, locked.version) == (before.status, before.version)
    assert info.value.code is ErrorCode.INVALID_TRANSITION
    current = path[-1] if path else S.SUBMITTED
    assert current.label_vi in info.value.message_vi
    assert target.label_en in info.value.message_en

    after, after_events = await _reload(db, dossier)
    assert (after.status, after.version, after.updated_at) == (before.status, before.version, before.updated_at)
    assert len(after_events) == len(before_events) == len(path) + 1


async def test_a_repeated_agency_event_changes_nothing(db: Database, calendar: HolidayCalendar, tz: str) -> None:
    citizen = await create_citizen(db)
    assert citizen.id is not None
    dossier = await _submit(db, calendar, tz, citizen)
    at = morning_of(FRIDAY)
    async with db.write() as session:
        locked = await citizen_dossier(session, citizen_id=citizen.id, code=dossier.code, for_update=True)
        accepted = await change_status(session, dossier=locked, target=S.ACCEPTED, source="agency",
                                       occurred_at=at, external_id="evt-1")
        await change_status(session, dossier=locked, target=S.PROCESSING, source="agency",
                            occurred_at=at + timedelta(hours=1), external_id="evt-2")
    before, before_events = await _reload(db, dossier)

    # The same callback delivered again, even with another target, returns the first event.
    for target in (S.ACCEPTED, S.PROCESSED):
        async with db.write() as session:
            locked = await citizen_dossier(session, citizen_id=citizen.id, code=dossier.code, for_update=True)
            repeated = await change_status(session, dossier=locked, target=target, source="agency",
                                           occurred_at=at + timedelta(days=1), external_id="evt-1")
        assert repeated.id == accepted.id
        assert (repeated.seq, repeated.status) == (2, S.ACCEPTED)
    after, after_events = await _reload(db, dossier)
    assert (after.status, after.version) == (before.status, before.version) == (S.PROCESSING, 3)
    assert [e.id for e in after_events] == [e.id for e in before_events]

    # The key is (source, external_id): another source's "evt-1" is a different event.
    async with db.write() as session:
        locked = await citizen_dossier(session, citizen_id=citizen.id, code=dossier.code, for_update=True)
        other = await change_status(session, dossier=locked, target=S.PROCESSED, source="system",
                                    occurred_at=at + timedelta(days=2), external_id="evt-1")
    assert other.id != accepted.id
    assert (other.seq, other.from_status, other.status) == (4, S.PROCESSING, S.PROCESSED)


# --- withdrawal -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(S))
async def test_withdrawal_only_from_withdrawable_statuses(
    db: Database, calendar: HolidayCalendar, tz: str, status: DossierStatus
) -> None:
    citizen = await create_citizen(db)
    assert citizen.id is not None
    dossier = await _submit(db, calendar, tz, citizen)
    await _move(db, citizen, dossier, PATHS[status], morning_of(FRIDAY))
    before, before_events = await _reload(db, dossier)
    assert before.status == status
    later = morning_of(FRIDAY) + timedelta(days=1)

    if status in WITHDRAWABLE:
        async with db.write() as session:
            withdrawn = await withdraw_dossier(session, citizen_id=citizen.id, code=dossier.code, now=later)
        assert withdrawn.status == S.WITHDRAWAL_REQUESTED
        after, events = await _reload(db, dossier)
        assert after.status == S.WITHDRAWAL_REQUESTED
        assert after.version == before.version + 1
        assert (events[-1].seq, events[-1].from_status, events[-1].status, events[-1].source) == (
            len(before_events) + 1, status, S.WITHDRAWAL_REQUESTED, "citizen")
        return

    with pytest.raises(DomainError) as info:
        async with db.write() as session:
            await withdraw_dossier(session, citizen_id=citizen.id, code=dossier.code, now=later)
    assert info.value.code is ErrorCode.NOT_WITHDRAWABLE
    assert info.value.field == "code"
    assert status.label_vi in info.value.message_vi
    assert status.label_en in info.value.message_en
    after, events = await _reload(db, dossier)
    assert (after.status, after.version, len(events)) == (before.status, before.version, len(before_events))


async def test_another_citizens_dossier_is_not_found(db: Database, calendar: HolidayCalendar, tz: str) -> None:
    owner, stranger = await create_citizen(db), await create_citizen(db)
    assert stranger.id is not None
    dossier = await _submit(db, calendar, tz, owner)
    later = morning_of(FRIDAY) + timedelta(hours=2)

    with pytest.raises(DomainError) as theirs:
        async with db.write() as session:
            await withdraw_dossier(session, citizen_id=stranger.id, code=dossier.code, now=later)
    with pytest.raises(DomainError) as missing:
        async with db.write() as session:
            await withdraw_dossier(session, citizen_id=stranger.id, code="000.00.00.G09-330304-9998", now=later)
    assert theirs.value.code is ErrorCode.NOT_FOUND
    # Someone else's dossier is indistinguishable from one that does not exist.
    assert (theirs.value.message_vi, theirs.value.message_en, theirs.value.field) == (
        missing.value.message_vi, missing.value.message_en, missing.value.field)
    async with db.read() as session:
        with pytest.raises(DomainError) as by_id:
            await citizen_dossier_by_id(session, citizen_id=stranger.id, dossier_id=dossier.id or 0)
    assert by_id.value.code is ErrorCode.NOT_FOUND
    after, events = await _reload(db, dossier)
    assert (after.status, after.version, len(events)) == (S.SUBMITTED, 1, 1)


# --- listing ------------------------------------------------------------------------------------------------


async def _walk(db: Database, citizen_id: int, size: int, statuses: list[DossierStatus] | None = None,
                between_pages: Any = None) -> tuple[list[int], list[bool]]:
    seen: list[int] = []
    has_next: list[bool] = []
    after: str | None = None
    while True:
        request = page_request(kind=CURSOR_KIND, first=size, after=after, arity=2, default=20, maximum=100)
        async with db.read() as session:
            page = await list_citizen_dossiers(session, citizen_id=citizen_id, page=request, statuses=statuses)
        seen.extend(d.id or 0 for d in page.items)
        has_next.append(page.has_next)
        if not page.has_next:
            return seen, has_next
        after = encode_cursor(CURSOR_KIND, page.keys[-1])
        if between_pages is not None:
            await between_pages()
            between_pages = None


async def test_pages_are_newest_first_and_never_repeat_or_skip(
    db: Database, calendar: HolidayCalendar, tz: str
) -> None:
    citizen = await create_citizen(db)
    assert citizen.id is not None
    base = morning_of(date(2034, 5, 2))
    # Two pairs submitted at the very same instant: the id breaks the tie.
    offsets = [0, 1, 1, 2, 3, 3, 4]
    dossiers = [await _submit(db, calendar, tz, citizen, now=base + timedelta(hours=h)) for h in offsets]
    expected = [d.id for d in sorted(dossiers, key=lambda d: (d.submitted_at, d.id or 0), reverse=True)]

    for size in (1, 2, 3, 7, 100):
        seen, has_next = await _walk(db, citizen.id, size)
        assert seen == expected
        pages = -(-len(expected) // size)
        assert has_next == [True] * (pages - 1) + [False]


async def test_new_dossiers_between_pages_do_not_shift_the_walk(
    db: Database, calendar: HolidayCalendar, tz: str
) -> None:
    citizen = await create_citizen(db)
    assert citizen.id is not None
    base = morning_of(date(2034, 6, 6))
    dossiers = [await _submit(db, calendar, tz, citizen, now=base + timedelta(hours=h)) for h in range(6)]
    expected = [d.id for d in reversed(dossiers)]
    added: list[Dossier] = []

    async def submit_more() -> None:
        added.append(await _submit(db, calendar, tz, citizen, now=base + timedelta(days=1)))  # newest
        added.append(await _submit(db, calendar, tz, citizen, now=base - timedelta(days=1)))  # oldest

    seen, _ = await _walk(db, citizen.id, 2, between_pages=submit_more)
    # The newer one sorts before the first page and is not seen; the older one comes at the very end.
    assert seen == [*expected, added[1].id]
    assert len(set(seen)) == len(seen)


async def test_listing_filters_by_status(db: Database, calendar: HolidayCalendar, tz: str) -> None:
    citizen = await create_citizen(db)
    assert citizen.id is not None
    base = morning_of(date(2034, 7, 4))
    dossiers = [await _submit(db, calendar, tz, citizen, now=base + timedelta(hours=h)) for h in range(5)]
    for dossier in dossiers[1:4:2]:
        await _move(db, citizen, dossier, [S.ACCEPTED], base + timedelta(days=1))
    await _move(db, citizen, dossiers[4], [S.NOT_ACCEPTED], base + timedelta(days=1))
    newest_first = [d.id for d in reversed(dossiers)]

    accepted, _ = await _walk(db, citizen.id, 1, [S.ACCEPTED])
    assert accepted == [dossiers[3].id, dossiers[1].id]
    open_ones, _ = await _walk(db, citizen.id, 2, [S.SUBMITTED, S.ACCEPTED])
    assert open_ones == [i for i in newest_first if i != dossiers[4].id]
    assert (await _walk(db, citizen.id, 10, [S.RETURNED]))[0] == []
    assert (await _walk(db, citizen.id, 10, None))[0] == newest_first
    assert (await _walk(db, citizen.id, 10, []))[0] == newest_first


async def test_another_citizen_sees_none_of_my_dossiers(
    db: Database, calendar: HolidayCalendar, tz: str
) -> None:
    owner, other = await create_citizen(db), await create_citizen(db)
    assert other.id is not None
    await _submit(db, calendar, tz, owner)
    assert (await _walk(db, other.id, 10))[0] == []


@pytest.mark.parametrize(
    "key",
    [["not-a-date", 1], ["2034-01-01T00:00:00+00:00", "abc"], ["2034-01-01T00:00:00", 1]],
    ids=["date-garbage", "id-garbage", "naive-datetime"],
)
async def test_a_tampered_dossier_cursor_is_an_invalid_cursor(db: Database, key: list[Any]) -> None:
    request = page_request(kind=CURSOR_KIND, first=5, after=encode_cursor(CURSOR_KIND, key), arity=2,
                           default=20, maximum=100)
    with pytest.raises(DomainError) as info:
        async with db.read() as session:
            await list_citizen_dossiers(session, citizen_id=1, page=request)
    assert info.value.code is ErrorCode.INVALID_CURSOR
