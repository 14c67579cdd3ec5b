"""Which operation each app version sends: counted in memory on the hot path, written in batches.

A deprecated field may go only when no supported app version still sends an operation that uses it; so the
server records, per app name and version, the trusted documents (by hash) it sends, with counts and first and
last seen. A request only touches a dict (no I/O, no lock: the event loop serialises it); every
`SUPERAPP_APP_USAGE_FLUSH_SECONDS` and at shutdown the aggregate goes to `app_operation_usage` in one
transaction of upserts (`count = count + n`), rows sorted by key so concurrent workers lock them in one order.
The in-memory map is capped (`SUPERAPP_APP_USAGE_MAX_KEYS`): app names and versions come from headers
anyone can write, so a flood of invented ones is dropped (and counted) rather than grow memory or the table.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.clock import utc_now
from core.db import Database, is_outage
from core.models import AppOperationUsage
from core.upsert import insert_into

log = logging.getLogger("superapp.app_usage")
Key = tuple[str, str, str, str]  # app name, version, operation hash, platform


@dataclass
class Tally:
    operation_name: str | None
    count: int
    first_seen: datetime
    last_seen: datetime


class UsageRecorder:
    def __init__(self, db: Database, *, flush_seconds: float, max_keys: int) -> None:
        self._db, self._flush_seconds, self._max_keys = db, flush_seconds, max_keys
        self._pending: dict[Key, Tally] = {}
        self.dropped = 0  # records refused because the map was full (since start)
        self._reported_drops = 0
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def record(self, *, app_name: str, platform: str, version: str, operation_hash: str,
               operation_name: str | None) -> None:
        """The hot path: one dict update."""
        key = (app_name, version, operation_hash, platform)
        tally = self._pending.get(key)
        now = utc_now()
        if tally is not None:
            tally.count += 1
            tally.last_seen = now
        elif len(self._pending) < self._max_keys:
            self._pending[key] = Tally(operation_name, 1, now, now)
        else:
            self.dropped += 1

    async def flush(self) -> int:
        """Writes what was counted since the last flush; on failure it is kept for the next one (as far as the
        cap allows). Returns the rows written."""
        if self.dropped > self._reported_drops:
            log.warning("app usage: %d record(s) dropped, more distinct app versions and operations than "
                        "SUPERAPP_APP_USAGE_MAX_KEYS between two writes", self.dropped - self._reported_drops)
            self._reported_drops = self.dropped
        if not self._pending:
            return 0
        batch, self._pending = self._pending, {}
        try:
            await self._db.transaction(lambda session: _upsert(session, batch))
        except Exception as error:
            if not is_outage(error):
                log.exception("could not write app usage; keeping it for the next flush")
            for key, tally in batch.items():
                self._merge_back(key, tally)
            return 0
        return len(batch)

    def _merge_back(self, key: Key, tally: Tally) -> None:
        newer = self._pending.get(key)
        if newer is not None:
            newer.count += tally.count
            newer.first_seen = min(newer.first_seen, tally.first_seen)
        elif len(self._pending) < self._max_keys:
            self._pending[key] = tally

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="app-usage-flush")

    async def stop(self) -> None:
        """Stops the schedule and flushes what is left (shutdown)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self._flush_seconds)
            except TimeoutError:
                await self.flush()


async def _upsert(session: AsyncSession, batch: dict[Key, Tally]) -> None:
    rows = [{"app_name": name, "app_version": version, "operation_hash": digest, "platform": platform,
             "operation_name": tally.operation_name, "count": tally.count, "first_seen": tally.first_seen,
             "last_seen": tally.last_seen}
            for (name, version, digest, platform), tally in sorted(batch.items())]
    for start in range(0, len(rows), 500):
        insert = insert_into(session, AppOperationUsage).values(rows[start:start + 500])
        excluded = insert.excluded
        await session.execute(insert.on_conflict_do_update(
            index_elements=[col(AppOperationUsage.app_name), col(AppOperationUsage.app_version),
                            col(AppOperationUsage.operation_hash)],
            set_={"count": col(AppOperationUsage.count) + excluded.count,
                  "last_seen": case((excluded.last_seen > col(AppOperationUsage.last_seen), excluded.last_seen),
                                    else_=col(AppOperationUsage.last_seen)),
                  "operation_name": excluded.operation_name}))
