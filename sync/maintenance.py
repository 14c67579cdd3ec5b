"""The tombstone purge: tombstones older than the retention leave the change log, and each scope remembers
up to where it purged, so a device whose checkpoint is older gets a reset instead of missing a delete.
Deleted drafts past the trash period lose their recoverable content.

`superapp maintenance` (core/retention.py) does the same in short batches, with every other table's
retention; this one-transaction form serves `superapp sync-purge` and tests.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.drafts import purge_trash
from core.retention import purge_tombstones


async def purge(session: AsyncSession, *, now: datetime, retention_days: int) -> int:
    """Returns how many tombstones were purged."""
    purged = await purge_tombstones(session, now=now, retention_days=retention_days)
    await purge_trash(session, now=now)
    return purged
