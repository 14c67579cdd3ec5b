"""Time in one place: UTC for storage, the service's time zone for calendar dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utc_now() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime, tz_name: str) -> date:
    """The calendar date at `moment` where the agency sits (dossier codes and due dates use it)."""
    return moment.astimezone(ZoneInfo(tz_name)).date()
