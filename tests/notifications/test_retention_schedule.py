"""`superapp worker` runs the tables' retention on its schedule (`SUPERAPP_RETENTION_INTERVAL_SECONDS`), next to
its deliveries, and stops both on the same signal."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import utc_now
from core.db import Database
from core.models import AgencyEventRecord
from core.settings import Settings
from notifications.dispatcher import run_worker


async def _events(db: Database, ids: list[int]) -> list[int]:
    async with db.read() as session:
        query = select(AgencyEventRecord.id).where(col(AgencyEventRecord.id).in_(ids))
        return sorted(int(i) for i in (await session.execute(query)).scalars())


async def test_the_worker_prunes_on_its_schedule(notify_settings: Settings, db: Database) -> None:
    now = utc_now()

    async def insert(session: AsyncSession) -> list[int]:
        rows = [AgencyEventRecord(service_code="retention", event_id=uuid.uuid4().hex, dossier_code="X",
                                  status="processing", outcome="applied", occurred_at=now - age, received_at=now - age)
                for age in (timedelta(days=400), timedelta(days=1))]
        session.add_all(rows)
        await session.flush()
        return [row.id or 0 for row in rows]

    old, new = await db.transaction(insert)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(notify_settings.updated(retention={"interval_seconds": 0.3}), stop))
    try:
        for _ in range(100):
            if await _events(db, [old, new]) == [new]:
                break
            await asyncio.sleep(0.1)
        assert await _events(db, [old, new]) == [new]
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=30)
