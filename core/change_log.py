"""The sync change log's writer: every core write to data a device holds calls `stamp` in its transaction.

It lives in core so that core write paths can stamp without importing `sync/` (which reads the log and
speaks the protocol). The scope row is bumped with `UPDATE ... RETURNING` first, which takes the row lock
(PostgreSQL) under the writer's `BEGIN IMMEDIATE` (SQLite): sequence numbers are therefore handed out in
commit order within a scope, and a reader who has seen seq N can never later find a committed N-1. That lock
is the last rank of the global lock order (`core.locks`): nothing else may be locked after a stamp.

Record types are plain strings (`dossier`, `document`, `draft`, `procedure`; the notifications inbox adds
`notification` the same way). The log stores no payload: a pull reads the record's current state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.clock import utc_now
from core.locks import Lock, take
from core.models import ChangeLogEntry, SyncScope
from core.upsert import insert_into

PUBLIC_SCOPE = "public"


def citizen_scope(citizen_id: int) -> str:
    return f"c:{citizen_id}"


async def next_seq(session: AsyncSession, scope: str) -> int:
    """The scope's next sequence number; the scope row stays locked until the caller's commit."""
    take(session, Lock.SYNC_SCOPE, [scope])
    await session.execute(insert_into(session, SyncScope).values(scope=scope, last_seq=0, min_retained_seq=0)
                          .on_conflict_do_nothing(index_elements=["scope"]))
    bumped = await session.execute(
        update(SyncScope).where(col(SyncScope.scope) == scope)
        .values(last_seq=col(SyncScope.last_seq) + 1).returning(col(SyncScope.last_seq))
    )
    return int(bumped.scalar_one())


async def stamp(session: AsyncSession, *, scope: str, record_type: str, record_id: str | int,
                version: int | None = None, deleted: bool = False, now: datetime | None = None) -> int:
    """Re-stamp the (scope, record) row with the scope's next seq; `version` defaults to the previous + 1.

    Returns the seq. Must run inside the transaction that made the change.
    """
    seq = await next_seq(session, scope)
    key = (scope, record_type, str(record_id))
    row = await session.get(ChangeLogEntry, key)
    if row is None:
        row = ChangeLogEntry(scope=scope, record_type=record_type, record_id=str(record_id), seq=seq,
                             version=version or 1, deleted=deleted, changed_at=now or utc_now())
    else:
        row.seq, row.deleted, row.changed_at = seq, deleted, now or utc_now()
        row.version = version if version is not None else row.version + 1
    session.add(row)
    await session.flush()
    return seq
