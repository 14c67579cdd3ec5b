"""Public figures of a procedure or an agency: how citizens rate it and how fast it delivers.

The programme's reviews name "results not made public" among what holds provinces back, so these are
public (no token): average rating and rating count, the share of finished dossiers returned on or before
their due date, and the median processing time in calendar days. Nothing personal goes in or out: only
stars, statuses and dates are read, never a comment, a name or a form.

A dossier is *finished* when its result was returned (its RETURNED event); it is on time when that event's
date, in the agency's time zone, is on or before the due date; its processing time is the calendar days
from reception to return. Ratings are aggregated in SQL (sum and count, so the average is computed the same
way on SQLite and PostgreSQL); on-time share and median need each dossier's local dates, so they are
computed here from the `FINISHED_WINDOW` most recently finished dossiers: a bounded query, identical answers
on both databases, and figures that follow the agency's recent performance.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import local_date
from core.dossier_status import DossierStatus
from core.models import Dossier, DossierEvent, DossierRating

FINISHED_WINDOW = 5000


@dataclass(frozen=True)
class Figures:
    rating_count: int
    average_rating: float | None  # None without ratings; rounded to 2 decimals
    finished_count: int  # of the window
    on_time_share: float | None  # 0..1, rounded to 4 decimals; None when nothing finished
    median_processing_days: float | None


def _ratings_filter(procedure_id: int | None, agency_id: int | None) -> Any:
    return (DossierRating.procedure_id == procedure_id) if procedure_id is not None \
        else (DossierRating.agency_id == agency_id)


def _dossier_filter(procedure_id: int | None, agency_id: int | None) -> Any:
    return (Dossier.procedure_id == procedure_id) if procedure_id is not None else (Dossier.agency_id == agency_id)


async def figures(session: AsyncSession, *, tz_name: str, procedure_id: int | None = None,
                  agency_id: int | None = None) -> Figures:
    """The figures of one procedure, or of one agency (all its procedures); exactly one of the two ids."""
    assert (procedure_id is None) != (agency_id is None)
    count, total = (await session.execute(
        select(func.count(), func.coalesce(func.sum(DossierRating.stars), 0))
        .where(_ratings_filter(procedure_id, agency_id)))).one()
    count, total = int(count), int(total)
    finished = (await session.execute(
        select(col(Dossier.submitted_at), col(Dossier.due_date), col(DossierEvent.occurred_at))
        .join(DossierEvent, col(DossierEvent.dossier_id) == col(Dossier.id))
        .where(_dossier_filter(procedure_id, agency_id), DossierEvent.status == DossierStatus.RETURNED.value,
               col(DossierEvent.from_status) != DossierStatus.RETURNED.value)
        .order_by(col(DossierEvent.occurred_at).desc(), col(Dossier.id).desc())
        .limit(FINISHED_WINDOW))).all()
    on_time, days = 0, []
    for submitted_at, due_date, returned_at in finished:
        returned_on = local_date(returned_at, tz_name)
        on_time += returned_on <= due_date
        days.append((returned_on - local_date(submitted_at, tz_name)).days)
    return Figures(rating_count=count, average_rating=round(total / count, 2) if count else None,
                   finished_count=len(finished),
                   on_time_share=round(on_time / len(finished), 4) if finished else None,
                   median_processing_days=float(statistics.median(days)) if days else None)


class FiguresCache:
    """Figures change slowly and the catalogue screen asks for many at once: each is kept `seconds` in this
    process (0: not at all). A stale figure is at most `seconds` old; nothing private is cached."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self._clock = seconds, clock
        self._entries: dict[tuple[str, int], tuple[float, Figures]] = {}

    def get(self, key: tuple[str, int]) -> Figures | None:
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry[0] >= self.seconds:
            return None
        return entry[1]

    def put(self, key: tuple[str, int], value: Figures) -> None:
        if self.seconds <= 0:
            return
        if len(self._entries) >= 10_000:  # bounded: one entry per procedure and agency in practice
            self._entries.clear()
        self._entries[key] = (self._clock(), value)


@lru_cache(maxsize=4)
def shared_cache(seconds: float) -> FiguresCache:
    """The process's cache for a configured lifetime (one per value, so a test app with 0 caches nothing)."""
    return FiguresCache(seconds)
