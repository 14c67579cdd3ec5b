"""The nightly purge: tombstones older than the retention leave the change log, and each scope remembers
up to where it purged, so a device whose checkpoint is older gets a reset instead of missing a delete.
Deleted drafts past the trash period lose their recoverable content."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.drafts import purge_trash
from core.models import ChangeLogEntry, SyncScope


async def purge(session: AsyncSession, *, now: datetime, retention_days: int) -> int:
    """Returns how many tombstones were purged."""
    cutoff = now - timedelta(days=retention_days)
    old = (col(ChangeLogEntry.deleted).is_(True)) & (col(ChangeLogEntry.changed_at) < cutoff)
    highest = (await session.execute(
        select(ChangeLogEntry.scope, func.max(ChangeLogEntry.seq), func.count()).where(old)
        .group_by(col(ChangeLogEntry.scope)))).all()
    for scope, seq, _ in highest:
        query = select(SyncScope).where(SyncScope.scope == scope).with_for_update()
        row = (await session.execute(query)).scalars().one()
        row.min_retained_seq = max(row.min_retained_seq, int(seq))
        session.add(row)
    await session.execute(delete(ChangeLogEntry).where(old))
    await purge_trash(session, now=now)
    return sum(int(count) for _, _, count in highest)
