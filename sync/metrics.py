"""Operator-facing numbers for sync, in Prometheus text format (served at `/metrics`)."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.models import ChangeLogEntry, SyncClient, SyncQuarantine


async def prometheus_text(session: AsyncSession) -> str:
    """Quarantined mutations need a person; a growing tombstone count means the purge is not running."""
    quarantined = (await session.execute(select(func.count()).select_from(SyncQuarantine))).scalar_one()
    tombstones = (await session.execute(
        select(func.count()).select_from(ChangeLogEntry).where(ChangeLogEntry.deleted == True)  # noqa: E712
    )).scalar_one()
    clients = (await session.execute(select(func.count()).select_from(SyncClient))).scalar_one()
    return (
        "# HELP superapp_sync_quarantined_mutations Pushed mutations the server could not read, kept for an operator.\n"
        "# TYPE superapp_sync_quarantined_mutations gauge\n"
        f"superapp_sync_quarantined_mutations {quarantined}\n"
        "# HELP superapp_sync_tombstones Deletions still held in the change log.\n"
        "# TYPE superapp_sync_tombstones gauge\n"
        f"superapp_sync_tombstones {tombstones}\n"
        "# HELP superapp_sync_clients Registered app installs.\n"
        "# TYPE superapp_sync_clients gauge\n"
        f"superapp_sync_clients {clients}\n"
    )
