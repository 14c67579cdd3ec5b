"""Due dates (ngày hẹn trả) in working days, and overdue (quá hạn) derived from them, never stored.

The processing time of a procedure is counted in working days from the working day after receipt:
weekends and the official days off in the holiday calendar do not count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from core.dossier_status import CLOCK_RUNNING, DossierStatus


@dataclass(frozen=True)
class HolidayCalendar:
    days_off: frozenset[date]

    @classmethod
    def load(cls, path: Path | None = None) -> HolidayCalendar:
        text = (
            path.read_text(encoding="utf-8")
            if path is not None
            else resources.files("core.data").joinpath("holidays_vn.json").read_text(encoding="utf-8")
        )
        raw: dict[str, object] = json.loads(text)
        days = {
            date.fromisoformat(day)
            for year, listed in raw.items()
            if not year.startswith("_") and isinstance(listed, list)
            for day in listed
        }
        return cls(days_off=frozenset(days))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.days_off

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start`; `start` itself never counts."""
        if days < 0:
            raise ValueError("days must not be negative")
        current, remaining = start, days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for n in range(1, (end - start).days + 1)
                   if self.is_working_day(start + timedelta(days=n)))


@dataclass(frozen=True)
class Deadline:
    due_date: date
    overdue: bool
    due_soon: bool
    working_days_left: int


def deadline_for(
    *, status: DossierStatus, due_date: date, today: date, calendar: HolidayCalendar, warn_days: int = 1
) -> Deadline:
    """Overdue only while the agency's clock runs; `due_soon` warns `warn_days` working days ahead."""
    left = calendar.working_days_between(today, due_date)
    running = status in CLOCK_RUNNING
    overdue = running and today > due_date
    return Deadline(
        due_date=due_date,
        overdue=overdue,
        due_soon=running and not overdue and left <= warn_days,
        working_days_left=left,
    )
