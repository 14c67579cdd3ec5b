"""Rate quotas (GCRA) kept in process or in the database, and the per-citizen daily submission cap.

A quota is `amount` cost units per `period` seconds, refilled evenly: GCRA (the generic cell rate
algorithm) keeps one number per key, the theoretical arrival time `tat`; a charge of `cost` moves it
`cost * period / amount` ahead and is refused when that would put it more than `period` past now. So a key
quiet for a period may burst `amount` at once, then gets `amount / period` per second; a refusal says
exactly when the charge would fit (Retry-After) and changes nothing.

**Decision:** our own dozen lines rather than the `limits` library: `limits` has no PostgreSQL storage,
and a memory store from it beside our own SQL one would give two algorithms whose answers differ with the
backend. One number per key also makes the shared store one atomic `INSERT ... ON CONFLICT DO UPDATE ...
WHERE` per charge (`DatabaseQuotaStore`), the same statement on PostgreSQL and SQLite.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import Database, is_outage
from core.errors import DomainError, ErrorCode
from core.locks import Lock, take
from core.models import QuotaBucket
from core.upsert import insert_into

log = logging.getLogger("superapp.quota")
Clock = Callable[[], float]


@dataclass(frozen=True)
class Limit:
    amount: int
    period: float

    @property
    def interval(self) -> float:
        """Seconds one cost unit occupies."""
        return self.period / self.amount

    def increment(self, cost: int) -> float:
        """How far a charge moves the arrival time; a cost over the whole quota is charged as the quota (a
        request the cost budget let through must be possible at all, after a quiet period)."""
        return min(max(cost, 1), self.amount) * self.interval


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0

    @property
    def retry_after_seconds(self) -> int:
        """For `Retry-After` and `retryAfter`: whole seconds, at least 1, never before the charge fits."""
        return max(1, math.ceil(self.retry_after))


def gcra(tat: float | None, *, now: float, cost: int, limit: Limit) -> tuple[float | None, Verdict]:
    """The new arrival time (None: unchanged, refused) and the verdict for charging `cost` at `now`."""
    new_tat = max(tat if tat is not None else now, now) + limit.increment(cost)
    fits_at = new_tat - limit.period
    if fits_at <= now:
        return new_tat, Verdict(True)
    return None, Verdict(False, fits_at - now)


class QuotaStore(Protocol):
    async def charge(self, key: str, cost: int, limit: Limit) -> Verdict: ...


class MemoryQuotaStore:
    """One process's quotas (the embedded default, and SQLite). Each charge runs without awaiting, so it
    is atomic on the event loop. Keys whose bucket is full again are dropped once the map is large."""

    def __init__(self, *, clock: Clock = time.time, max_keys: int = 100_000) -> None:
        self._tats: dict[str, float] = {}
        self._clock, self._max_keys = clock, max_keys

    async def charge(self, key: str, cost: int, limit: Limit) -> Verdict:
        now = self._clock()
        tat, verdict = gcra(self._tats.get(key), now=now, cost=cost, limit=limit)
        if tat is not None:
            self._tats[key] = tat
            if len(self._tats) > self._max_keys:
                self._tats = {k: t for k, t in self._tats.items() if t > now}
        return verdict


def _greatest(a: Any, b: float) -> ColumnElement[float]:
    """GREATEST on PostgreSQL, MAX(a, b) on SQLite: one CASE spells it for both."""
    return case((a > b, a), else_=literal(b))


class DatabaseQuotaStore:
    """Quotas every worker sharing the database sees: one atomic upsert per charge (row-locked on
    PostgreSQL, so concurrent charges of one key serialize) and one read when refused, for Retry-After.

    An outage fails open: the quota protects the service, and refusing every request because the
    database is briefly gone would turn a blip into a refusal storm (the request's own reads answer
    SERVICE_UNAVAILABLE anyway). Rows past `expires_at` are deleted by `superapp maintenance`
    (core/retention.py), in batches, not by a charge."""

    def __init__(self, db: Database, *, clock: Clock = time.time, max_keys: int = 100_000) -> None:
        self._db, self._clock, self._max_keys = db, clock, max_keys
        # key -> (until, cost): a charge of at least `cost` is refused before `until`. Safe to answer from
        # memory: other workers' charges only move a key's arrival time later, never earlier, so a refusal
        # read from the table stays true until then; a flood past its quota costs no database round trip.
        self._refused: dict[str, tuple[float, int]] = {}

    async def charge(self, key: str, cost: int, limit: Limit) -> Verdict:
        now = self._clock()
        until, refused_cost = self._refused.get(key, (0.0, 0))
        if now < until and cost >= refused_cost:
            return Verdict(False, until - now)
        try:
            verdict = await self._db.transaction(lambda session: self._charge(session, key, cost, limit))
        except Exception as error:
            if not is_outage(error):
                raise
            return Verdict(True)
        if not verdict.allowed:
            if len(self._refused) >= self._max_keys:
                self._refused = {k: v for k, v in self._refused.items() if v[0] > now}
            self._refused[key] = (now + verdict.retry_after, cost)
        return verdict

    async def _charge(self, session: AsyncSession, key: str, cost: int, limit: Limit) -> Verdict:
        now, step = self._clock(), limit.increment(cost)
        current = col(QuotaBucket.value)
        moved = _greatest(current, now) + step
        statement = (insert_into(session, QuotaBucket).values(key=key, value=now + step, expires_at=now + step)
                     .on_conflict_do_update(index_elements=["key"], set_={"value": moved, "expires_at": moved},
                                            where=moved - limit.period <= now)
                     .returning(current))
        if (await session.execute(statement)).first() is not None:
            return Verdict(True)
        tat = (await session.execute(select(current).where(col(QuotaBucket.key) == key))).scalar_one()
        return gcra(float(tat), now=now, cost=cost, limit=limit)[1]


# Day counters known to be at a cap ({key: (the day's end, that cap)}): a day's count only grows, so a citizen
# at the cap is refused from memory for the rest of the day, without a write (a flood of submissions past
# the cap costs no transaction). Bounded: expired keys go when it is large.
_AT_CAP: dict[str, tuple[float, int]] = {}
_AT_CAP_MAX = 100_000


async def count_submission(session: AsyncSession, *, citizen_id: int, day: date, cap: int,
                           expires_at: float) -> None:
    """Count one more submission of the citizen on `day` (their calendar day in the configured time zone)
    in the caller's transaction; DAILY_SUBMISSION_LIMIT over `cap`, and the caller's rollback stores
    nothing. The counter row is the citizen's lock for the day: concurrent submissions of one citizen
    wait on it (PostgreSQL) or on the write lock (SQLite), so the cap holds under concurrency."""
    key = f"submissions:{citizen_id}:{day.isoformat()}"
    day_end_at, reached = _AT_CAP.get(key, (0.0, 0))
    if day_end_at > time.time() and cap <= reached:
        raise DomainError(ErrorCode.DAILY_SUBMISSION_LIMIT, limit=cap)
    take(session, Lock.SUBMISSION_CAP, [key])
    statement = (insert_into(session, QuotaBucket).values(key=key, value=1, expires_at=expires_at)
                 .on_conflict_do_update(index_elements=["key"], set_={"value": col(QuotaBucket.value) + 1})
                 .returning(col(QuotaBucket.value)))
    if (await session.execute(statement)).scalar_one() > cap:
        if len(_AT_CAP) >= _AT_CAP_MAX:
            now = time.time()
            for stale in [k for k, (end, _) in _AT_CAP.items() if end <= now]:
                del _AT_CAP[stale]
        _AT_CAP[key] = (expires_at, cap)
        raise DomainError(ErrorCode.DAILY_SUBMISSION_LIMIT, limit=cap)


def day_end(day: date, tz_name: str) -> float:
    """Epoch seconds when `day` ends in `tz_name`: a day's counter means nothing after it."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), ZoneInfo(tz_name)).timestamp()
