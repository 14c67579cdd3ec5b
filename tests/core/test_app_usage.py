"""Usage counts from several server processes add up in one row per (app, version, operation), and the
in-memory map stops growing at its cap (names and versions are whatever a client writes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from core.app_usage import UsageRecorder
from core.db import Database
from core.models import AppOperationUsage

DIGEST = "c" * 64


async def _rows(db: Database, name: str) -> list[AppOperationUsage]:
    async with db.read() as session:
        return list((await session.execute(select(AppOperationUsage).where(
            col(AppOperationUsage.app_name) == name).order_by(col(AppOperationUsage.app_version)))).scalars())


async def _forget(db: Database, name: str) -> None:
    async def work(session: Any) -> None:
        await session.execute(delete(AppOperationUsage).where(col(AppOperationUsage.app_name) == name))
    await db.transaction(work)


async def test_flushes_of_two_processes_add_up(db: Database) -> None:
    name = "usage-sum-android"
    first, second = (UsageRecorder(db, flush_seconds=3600, max_keys=100) for _ in range(2))
    try:
        for _ in range(3):
            first.record(app_name=name, platform="android", version="1.0.0", operation_hash=DIGEST,
                         operation_name="HomeScreen")
        second.record(app_name=name, platform="android", version="1.0.0", operation_hash=DIGEST,
                      operation_name="HomeScreen")
        second.record(app_name=name, platform="android", version="1.1.0", operation_hash=DIGEST,
                      operation_name="HomeScreen")
        assert await first.flush() == 1
        assert await second.flush() == 2
        assert await second.flush() == 0  # nothing new: no write
        rows = await _rows(db, name)
        assert [(r.app_version, r.count) for r in rows] == [("1.0.0", 4), ("1.1.0", 1)]
        assert rows[0].first_seen <= rows[0].last_seen
    finally:
        await _forget(db, name)


async def test_the_map_is_capped(db: Database) -> None:
    name = "usage-cap-android"
    recorder = UsageRecorder(db, flush_seconds=3600, max_keys=10)
    try:
        for patch in range(15):
            recorder.record(app_name=name, platform="android", version=f"1.0.{patch}", operation_hash=DIGEST,
                            operation_name=None)
        recorder.record(app_name=name, platform="android", version="1.0.0", operation_hash=DIGEST,
                        operation_name=None)  # a key already counted is still counted
        assert recorder.dropped == 5
        assert await recorder.flush() == 10
        rows = await _rows(db, name)
        assert len(rows) == 10
        assert sum(r.count for r in rows) == 11
    finally:
        await _forget(db, name)
