"""The citizen's notification inbox: newest first, keyset-paged by id, marked read in bulk.

Everything is scoped by `citizen_id`: ids of someone else's notifications are silently ignored, exactly
like ids that do not exist. Offline sync delivers this table too (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.change_log import citizen_scope, stamp
from core.errors import DomainError, ErrorCode
from core.models import Notification
from core.pagination import Page, PageRequest, cut
from core.row_ids import row_id

CURSOR_KIND = "notification"
MAX_MARK = 100


async def list_notifications(session: AsyncSession, *, citizen_id: int, page: PageRequest,
                             unread_only: bool = False) -> Page[Notification]:
    query = select(Notification).where(Notification.citizen_id == citizen_id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    if page.after:
        last_id = row_id(page.after[0])
        if last_id is None:  # not a cursor we issued (and beyond int4, PostgreSQL would fail the query)
            raise DomainError(ErrorCode.INVALID_CURSOR, field="after")
        query = query.where(col(Notification.id) < last_id)
    query = query.order_by(col(Notification.id).desc()).limit(page.first + 1)
    rows = list((await session.execute(query)).scalars())
    return cut(rows, page.first, lambda n: [n.id])


async def unread_count(session: AsyncSession, *, citizen_id: int) -> int:
    query = select(func.count()).where(col(Notification.citizen_id) == citizen_id,
                                       col(Notification.read_at).is_(None))
    return int((await session.execute(query)).scalar_one())


async def stamp_notification(session: AsyncSession, notification: Notification, now: datetime) -> None:
    """The inbox is part of what offline sync delivers: every change re-stamps it in the change log."""
    assert notification.id is not None
    await stamp(session, scope=citizen_scope(notification.citizen_id), record_type="notification",
                record_id=notification.id, now=now)


async def mark_read(session: AsyncSession, *, citizen_id: int, ids: Sequence[int], now: datetime) -> list[int]:
    """Mark the citizen's own notifications read; returns the ids that belong to them (read before or now)."""
    if len(ids) > MAX_MARK:
        raise DomainError(ErrorCode.TOO_MANY_IDS, field="ids", maximum=MAX_MARK)
    if not ids:
        return []
    own = col(Notification.citizen_id) == citizen_id
    chosen = col(Notification.id).in_(list(ids))
    unread = list((await session.execute(
        select(Notification).where(own, chosen, col(Notification.read_at).is_(None)))).scalars())
    for notification in unread:
        notification.read_at = now
        session.add(notification)
        await stamp_notification(session, notification, now)
    await session.flush()
    return sorted((await session.execute(select(Notification.id).where(own, chosen))).scalars())
