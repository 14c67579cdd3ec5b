"""Drafts: dossiers being filled in on the citizen's devices. Storage and change-log stamping only.

How concurrent edits merge is a sync protocol rule and lives in `sync/conflicts.py`; every write here
stamps the citizen's scope in the caller's transaction, whatever path made it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.change_log import citizen_scope, stamp
from core.models import Draft, DraftRevision

OPEN, SUBMITTED, DELETED = "open", "submitted", "deleted"
TRASH_DAYS = 30


async def draft_for_update(session: AsyncSession, *, draft_id: str) -> Draft | None:
    """The draft under its row lock, whoever owns it (the caller checks ownership)."""
    query = select(Draft).where(Draft.id == draft_id).with_for_update()
    return (await session.execute(query)).scalars().first()


async def save_draft(session: AsyncSession, draft: Draft, *, now: datetime) -> None:
    """Persist a created or changed draft, and stamp it for devices (a deleted draft as a tombstone)."""
    draft.updated_at = now
    session.add(draft)
    await session.flush()
    await stamp(session, scope=citizen_scope(draft.citizen_id), record_type="draft", record_id=draft.id,
                version=draft.version, deleted=draft.status == DELETED, now=now)


async def keep_revision(session: AsyncSession, *, draft: Draft, field: str, value: Any, reason: str,
                        client_id: str | None, now: datetime) -> None:
    session.add(DraftRevision(draft_id=draft.id, field=field, value=value, reason=reason,
                              at_version=draft.version, client_id=client_id, recorded_at=now))
    await session.flush()


async def revisions(session: AsyncSession, draft_ids: list[str], *, limit: int = 20) -> dict[str, list[DraftRevision]]:
    """The newest revisions of each draft (what other devices' pushes overwrote, edits after a delete)."""
    query = (select(DraftRevision).where(col(DraftRevision.draft_id).in_(draft_ids))
             .order_by(col(DraftRevision.draft_id), col(DraftRevision.id).desc()))
    grouped: dict[str, list[DraftRevision]] = {i: [] for i in draft_ids}
    for row in (await session.execute(query)).scalars():
        if len(grouped[row.draft_id]) < limit:
            grouped[row.draft_id].append(row)
    return grouped


async def purge_trash(session: AsyncSession, *, now: datetime, limit: int | None = None) -> int:
    """Deleted drafts past the trash period lose their recoverable content (the tombstone stays); at most
    `limit` of them, oldest first, when given (`core.retention` deletes in batches)."""
    cutoff = now - timedelta(days=TRASH_DAYS)
    query = (select(Draft.id).where(Draft.status == DELETED, col(Draft.deleted_at) < cutoff)
             .order_by(col(Draft.deleted_at), col(Draft.id)))
    old = list((await session.execute(query if limit is None else query.limit(limit))).scalars())
    if old:
        await session.execute(delete(DraftRevision).where(col(DraftRevision.draft_id).in_(old)))
        await session.execute(delete(Draft).where(col(Draft.id).in_(old)))
    return len(old)
