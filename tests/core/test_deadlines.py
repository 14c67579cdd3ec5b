"""Working days, due dates and overdue (derived, never stored)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from core.deadlines import HolidayCalendar, deadline_for
from core.dossier_status import DossierStatus

S = DossierStatus

# A week with a known shape: 2031-03-03 is a Monday.
MON = date(2031, 3, 3)
TUE, WED, THU, FRI, SAT, SUN = (MON + timedelta(days=n) for n in range(1, 7))
NEXT_MON = MON + timedelta(days=7)

NO_HOLIDAYS = HolidayCalendar(days_off=frozenset())
# The same week with Wednesday off.
WED_OFF = HolidayCalendar(days_off=frozenset({WED}))

# The statuses in which the agency's clock runs (the rule).
RUNNING = {S.SUBMITTED, S.ACCEPTED, S.PROCESSING}


def test_the_fixed_week_starts_on_a_monday() -> None:
    assert MON.isoweekday() == 1
    assert SAT.isoweekday() == 6


def test_weekends_and_listed_days_are_not_working_days() -> None:
    assert [NO_HOLIDAYS.is_working_day(d) for d in (MON, TUE, WED, THU, FRI, SAT, SUN)] == [
        True, True, True, True, True, False, False]
    assert WED_OFF.is_working_day(WED) is False
    assert WED_OFF.is_working_day(TUE) is True


@pytest.mark.parametrize(
    ("calendar", "start", "days", "due"),
    [
        (NO_HOLIDAYS, MON, 0, MON),
        (NO_HOLIDAYS, MON, 1, TUE),  # the start day never counts
        (NO_HOLIDAYS, MON, 4, FRI),
        (NO_HOLIDAYS, MON, 5, NEXT_MON),
        (NO_HOLIDAYS, FRI, 1, NEXT_MON),
        (NO_HOLIDAYS, SAT, 1, NEXT_MON),
        (NO_HOLIDAYS, SUN, 1, NEXT_MON),
        (NO_HOLIDAYS, FRI, 3, NEXT_MON + timedelta(days=2)),
        (NO_HOLIDAYS, MON, 10, MON + timedelta(days=14)),
        (WED_OFF, MON, 1, TUE),
        (WED_OFF, MON, 2, THU),
        (WED_OFF, TUE, 1, THU),
        (WED_OFF, WED, 1, THU),  # received on a day off: the next working day is day 1
        (WED_OFF, MON, 5, NEXT_MON + timedelta(days=1)),
        (HolidayCalendar(days_off=frozenset({FRI, NEXT_MON})), THU, 1, NEXT_MON + timedelta(days=1)),
    ],
)
def test_add_working_days(calendar: HolidayCalendar, start: date, days: int, due: date) -> None:
    assert calendar.add_working_days(start, days) == due


def test_negative_processing_time_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        NO_HOLIDAYS.add_working_days(MON, -1)


@pytest.mark.parametrize(
    ("calendar", "start", "end", "count"),
    [
        (NO_HOLIDAYS, MON, MON, 0),
        (NO_HOLIDAYS, MON, TUE, 1),
        (NO_HOLIDAYS, MON, FRI, 4),
        (NO_HOLIDAYS, FRI, NEXT_MON, 1),
        (NO_HOLIDAYS, FRI, SUN, 0),
        (WED_OFF, MON, FRI, 3),
        (NO_HOLIDAYS, FRI, MON, -4),
        (NO_HOLIDAYS, NEXT_MON, FRI, -1),
        (WED_OFF, THU, TUE, -1),
    ],
)
def test_working_days_between(calendar: HolidayCalendar, start: date, end: date, count: int) -> None:
    assert calendar.working_days_between(start, end) == count


def test_shipped_calendar_skips_national_day_2026() -> None:
    calendar = HolidayCalendar.load()
    national_day = date(2026, 9, 2)  # Wednesday, Quốc khánh
    assert national_day.isoweekday() == 3
    assert calendar.is_working_day(national_day) is False
    assert calendar.is_working_day(date(2026, 9, 3)) is True
    assert calendar.add_working_days(date(2026, 9, 1), 1) == date(2026, 9, 3)


def test_shipped_calendar_knows_tet_and_new_year_2026() -> None:
    calendar = HolidayCalendar.load()
    assert calendar.is_working_day(date(2026, 2, 17)) is False  # Tết Nguyên Đán, a Tuesday
    assert calendar.is_working_day(date(2026, 1, 1)) is False  # New Year's Day, a Thursday
    assert calendar.is_working_day(date(2026, 3, 3)) is True  # an ordinary Tuesday


def test_calendar_file_ignores_comment_keys(tmp_path: Path) -> None:
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps({"_comment": "not a year", "_note": ["2031-03-04"], "2031": ["2031-03-05"],
                                "2032": "not a list"}), encoding="utf-8")
    calendar = HolidayCalendar.load(path)
    assert calendar.days_off == frozenset({WED})


def test_shipped_calendar_matches_the_fixture(calendar: HolidayCalendar) -> None:
    assert calendar == HolidayCalendar.load()


@pytest.mark.parametrize("status", list(S))
def test_overdue_only_while_the_clock_runs_and_strictly_after_the_due_date(status: DossierStatus) -> None:
    after = deadline_for(status=status, due_date=MON, today=TUE, calendar=NO_HOLIDAYS)
    assert after.overdue is (status in RUNNING)
    assert after.due_soon is False
    assert after.working_days_left == -1
    assert after.due_date == MON

    on_the_day = deadline_for(status=status, due_date=MON, today=MON, calendar=NO_HOLIDAYS)
    assert on_the_day.overdue is False
    assert on_the_day.working_days_left == 0
    assert on_the_day.due_soon is (status in RUNNING)


@pytest.mark.parametrize("status", list(S))
def test_due_soon_warns_one_working_day_ahead(status: DossierStatus) -> None:
    running = status in RUNNING
    one_before = deadline_for(status=status, due_date=WED, today=TUE, calendar=NO_HOLIDAYS)
    assert (one_before.overdue, one_before.due_soon, one_before.working_days_left) == (False, running, 1)
    two_before = deadline_for(status=status, due_date=WED, today=MON, calendar=NO_HOLIDAYS)
    assert (two_before.overdue, two_before.due_soon, two_before.working_days_left) == (False, False, 2)
    wider = deadline_for(status=status, due_date=WED, today=MON, calendar=NO_HOLIDAYS, warn_days=2)
    assert (wider.overdue, wider.due_soon, wider.working_days_left) == (False, running, 2)


def test_due_soon_counts_working_days_across_a_weekend() -> None:
    # Due Monday, seen on Friday: one working day left, so the warning is up.
    friday = deadline_for(status=S.PROCESSING, due_date=NEXT_MON, today=FRI, calendar=NO_HOLIDAYS)
    assert (friday.overdue, friday.due_soon, friday.working_days_left) == (False, True, 1)
    # Due Friday with Wednesday off, seen on Tuesday: two working days left (Thursday, Friday).
    tuesday = deadline_for(status=S.ACCEPTED, due_date=FRI, today=TUE, calendar=WED_OFF)
    assert (tuesday.overdue, tuesday.due_soon, tuesday.working_days_left) == (False, False, 2)


def test_working_days_left_is_negative_when_past() -> None:
    late = deadline_for(status=S.PROCESSING, due_date=MON, today=WED, calendar=NO_HOLIDAYS)
    assert (late.overdue, late.due_soon, late.working_days_left) == (True, False, -2)
    week_late = deadline_for(status=S.SUBMITTED, due_date=MON, today=NEXT_MON, calendar=NO_HOLIDAYS)
    assert (week_late.overdue, week_late.working_days_left) == (True, -5)
    stopped = deadline_for(status=S.PROCESSING_STOPPED, due_date=MON, today=WED, calendar=NO_HOLIDAYS)
    assert (stopped.overdue, stopped.due_soon, stopped.working_days_left) == (False, False, -2)


def test_paused_statuses_are_never_overdue() -> None:
    for status in (S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED, S.WITHDRAWAL_REQUESTED, S.PROCESSED,
                   S.RETURNED, S.NOT_ACCEPTED, S.PROCESSING_STOPPED):
        late = deadline_for(status=status, due_date=MON, today=NEXT_MON + timedelta(days=30),
                            calendar=NO_HOLIDAYS)
        assert late.overdue is False
        assert late.due_soon is False
