"""Retention: rows whose work is done leave their tables, in short batches, so no table grows without bound.

Each rule deletes at most `batch_size` rows, chosen by primary key, in one `Database.transaction`; the runner
repeats a rule until a batch comes back short. A batch holds its row locks for one short statement pair, so
the dispatcher, the forwarder and pushes never wait long behind maintenance. A rule removes only what nothing
will read again; what stays and why (a pending delivery, an unread inbox entry, answers an install may not hold,
a dossier's submission job) is explained per rule and in docs/SCALING.md, "Retention".

`superapp maintenance` runs every rule once and prints what each removed; `superapp worker` runs them every
`SUPERAPP_RETENTION_INTERVAL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from core.announcements import prune as prune_announcements
from core.change_log import citizen_scope, stamp
from core.clock import utc_now
from core.db import Database, is_outage
from core.drafts import purge_trash
from core.forwarding import ForwardAction
from core.locks import Lock, take
from core.models import (
    AgencyEventRecord,
    AppOperationUsage,
    ChangeLogEntry,
    ForwardJob,
    Notification,
    OutboxMessage,
    QuotaBucket,
    SyncClient,
    SyncMutationResult,
    SyncScope,
    Upload,
)
from core.settings import Settings
from core.storage import Storage, storage_for

log = logging.getLogger("superapp.retention")
FINISHED_OUTBOX_STATES = ("sent", "failed", "dropped")

Batch = Callable[[AsyncSession, int], Awaitable[int]]


@dataclass(frozen=True)
class Rule:
    """One table's retention: `batch(session, limit)` deletes at most `limit` rows and returns how many."""

    table: str
    batch: Batch


async def _outbox(session: AsyncSession, limit: int, *, cutoff: datetime) -> int:
    """Finished deliveries past the window. A row stays while a sibling of its inbox entry is still pending:
    the dispatcher decides "delivered" and the SMS fallback from all of an entry's rows."""
    sibling = aliased(OutboxMessage)
    pending_sibling = exists().where(col(sibling.notification_id) == col(OutboxMessage.notification_id),
                                     col(sibling.state) == "pending")
    ids = list((await session.execute(
        select(OutboxMessage.id).where(col(OutboxMessage.state).in_(FINISHED_OUTBOX_STATES),
                                       col(OutboxMessage.created_at) < cutoff, ~pending_sibling)
        .order_by(col(OutboxMessage.id)).limit(limit))).scalars())
    if ids:
        await session.execute(delete(OutboxMessage).where(col(OutboxMessage.id).in_(ids)))
    return len(ids)


async def _read_notifications(session: AsyncSession, limit: int, *, cutoff: datetime) -> int:
    """Inbox entries read before the window, with nothing left to deliver: gone from the server, and from every
    device through a tombstone in the citizen's change log. Unread entries stay whatever their age."""
    pending = exists().where(col(OutboxMessage.notification_id) == col(Notification.id),
                             col(OutboxMessage.state) == "pending")
    rows = list((await session.execute(
        select(Notification.id, Notification.citizen_id).where(col(Notification.read_at) < cutoff, ~pending)
        .order_by(col(Notification.id)).limit(limit))).all())
    if not rows:
        return 0
    ids = [int(row_id) for row_id, _ in rows]
    await session.execute(delete(OutboxMessage).where(col(OutboxMessage.notification_id).in_(ids)))
    await session.execute(delete(Notification).where(col(Notification.id).in_(ids)))
    # Scope locks in the order `core.locks.take` sorts them, so two batches never wait on each other crosswise.
    for scope, row_id in sorted((citizen_scope(int(citizen)), int(row_id)) for row_id, citizen in rows):
        await stamp(session, scope=scope, record_type="notification", record_id=row_id, deleted=True)
    return len(rows)


async def _sync_answers(session: AsyncSession, limit: int, *, cutoff: datetime) -> int:
    """Stored push answers older than the window that the install is known to hold: below the lowest seq of
    its latest push (`sync_client.answered_below`). Any other answer may still be asked for under its seq (a
    lost answer is resent whenever the device returns, however late), so it stays whatever its age."""
    rows = list((await session.execute(
        select(SyncMutationResult.client_id, SyncMutationResult.seq)
        .join(SyncClient, col(SyncClient.id) == SyncMutationResult.client_id)
        .where(col(SyncMutationResult.created_at) < cutoff,
               col(SyncMutationResult.seq) < col(SyncClient.answered_below))
        .order_by(col(SyncMutationResult.created_at)).limit(limit))).all())
    if rows:
        key = tuple_(col(SyncMutationResult.client_id), col(SyncMutationResult.seq))
        await session.execute(delete(SyncMutationResult).where(key.in_([(c, s) for c, s in rows])))
    return len(rows)


async def _agency_events(session: AsyncSession, limit: int, *, cutoff: datetime) -> int:
    """Received events past the redelivery window (docs/agency-api.yaml); the dossier's history keeps them."""
    ids = list((await session.execute(
        select(AgencyEventRecord.id).where(col(AgencyEventRecord.received_at) < cutoff)
        .order_by(col(AgencyEventRecord.id)).limit(limit))).scalars())
    if ids:
        await session.execute(delete(AgencyEventRecord).where(col(AgencyEventRecord.id).in_(ids)))
    return len(ids)


async def _forward_jobs(session: AsyncSession, limit: int, *, cutoff: datetime) -> int:
    """Withdrawals and supplements delivered or ended before the window (a supplement's payload holds the
    citizen's answers). A dossier's submission job stays: it says which agency holds the dossier, so which
    agency may move it and where its later actions go (`core.forwarding.service_of`)."""
    settled = or_(col(ForwardJob.delivered_at) < cutoff, col(ForwardJob.ended_at) < cutoff)
    ids = list((await session.execute(
        select(ForwardJob.id).where(col(ForwardJob.action) != ForwardAction.SUBMIT.value, settled)
        .order_by(col(ForwardJob.id)).limit(limit))).scalars())
    if ids:
        await session.execute(delete(ForwardJob).where(col(ForwardJob.id).in_(ids)))
    return len(ids)


async def _tombstones(session: AsyncSession, limit: int | None, *, cutoff: datetime) -> int:
    """Deletions older than the tombstone retention leave the change log, lowest seq of each scope first, and
    the scope remembers up to where it purged, so a device whose checkpoint is older gets a reset instead of
    missing a delete (docs/SYNC_PROTOCOL.md, section 6)."""
    query = (select(ChangeLogEntry.scope, ChangeLogEntry.record_type, ChangeLogEntry.record_id, ChangeLogEntry.seq)
             .where(col(ChangeLogEntry.deleted).is_(True), col(ChangeLogEntry.changed_at) < cutoff)
             .order_by(col(ChangeLogEntry.scope), col(ChangeLogEntry.seq)))
    rows = list((await session.execute(query if limit is None else query.limit(limit))).all())
    highest: dict[str, int] = {}
    for scope, _, _, seq in rows:
        highest[scope] = max(highest.get(scope, 0), int(seq))
    for scope in take(session, Lock.SYNC_SCOPE, highest):
        locked = select(SyncScope).where(SyncScope.scope == scope).with_for_update()
        row = (await session.execute(locked)).scalars().one()
        row.min_retained_seq = max(row.min_retained_seq, highest[scope])
        session.add(row)
    key = tuple_(col(ChangeLogEntry.scope), col(ChangeLogEntry.record_type), col(ChangeLogEntry.record_id))
    for start in range(0, len(rows), 500):
        chunk = [(scope, kind, record) for scope, kind, record, _ in rows[start:start + 500]]
        await session.execute(delete(ChangeLogEntry).where(key.in_(chunk)))
    return len(rows)


async def purge_tombstones(session: AsyncSession, *, now: datetime, retention_days: int) -> int:
    """Every tombstone past retention in the caller's transaction (`superapp sync-purge`, tests)."""
    return await _tombstones(session, None, cutoff=now - timedelta(days=retention_days))


async def _quota_buckets(session: AsyncSession, limit: int, *, now: datetime) -> int:
    """Quota rows past `expires_at` say nothing any more (a bucket full again, a day gone). The delete asks
    again, so a row a charge renewed in between stays."""
    epoch = now.timestamp()
    keys = list((await session.execute(
        select(QuotaBucket.key).where(col(QuotaBucket.expires_at) < epoch).order_by(col(QuotaBucket.key))
        .limit(limit))).scalars())
    if keys:
        await session.execute(delete(QuotaBucket).where(col(QuotaBucket.key).in_(keys),
                                                        col(QuotaBucket.expires_at) < epoch))
    return len(keys)


async def _uploads(session: AsyncSession, limit: int, *, now: datetime, storage: Storage) -> int:
    """Attachments nobody finished before `expires_at`, and finished ones no dossier took in time: the row and
    its bytes. Rows are locked and deleted first (an upload being attached at this moment waits, then finds
    nothing: attaching refuses an expired upload anyway); the files go after the delete, so a failed
    transaction leaves at worst an expired row without its file, which the next run removes."""
    ids = list((await session.execute(
        select(Upload.id).where(col(Upload.dossier_id).is_(None), col(Upload.expires_at) < now)
        .order_by(col(Upload.id)).limit(limit).with_for_update(skip_locked=True))).scalars())
    if ids:
        await session.execute(delete(Upload).where(col(Upload.id).in_(ids), col(Upload.dossier_id).is_(None)))
        for upload_id in ids:
            await storage.delete(upload_id)
    return len(ids)


async def _app_usage(session: AsyncSession, limit: int, *, cutoff: datetime) -> int:
    """Usage rows of app versions (name and version) none of whose operations was seen since the window: a
    version nobody runs any more. A version still seen keeps every row, even an operation sent rarely, so a
    field a rare screen of a supported version uses is never taken for unused."""
    newer = aliased(AppOperationUsage)
    still_seen = exists().where(col(newer.app_name) == col(AppOperationUsage.app_name),
                                col(newer.app_version) == col(AppOperationUsage.app_version),
                                col(newer.last_seen) >= cutoff)
    ids = list((await session.execute(
        select(AppOperationUsage.id).where(col(AppOperationUsage.last_seen) < cutoff, ~still_seen)
        .order_by(col(AppOperationUsage.id)).limit(limit))).scalars())
    if ids:
        await session.execute(delete(AppOperationUsage).where(col(AppOperationUsage.id).in_(ids)))
    return len(ids)


def rules(settings: Settings, now: datetime) -> list[Rule]:
    """Every table's rule, with its window measured back from `now`."""
    keep = settings.retention
    storage = storage_for(settings.uploads)

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    return [
        Rule("outbox_message", lambda s, n: _outbox(s, n, cutoff=ago(keep.outbox_days))),
        Rule("notification", lambda s, n: _read_notifications(s, n, cutoff=ago(keep.read_notification_days))),
        Rule("sync_mutation_result", lambda s, n: _sync_answers(s, n, cutoff=ago(keep.sync_answer_days))),
        Rule("agency_event", lambda s, n: _agency_events(s, n, cutoff=ago(keep.agency_event_days))),
        Rule("forward_job", lambda s, n: _forward_jobs(s, n, cutoff=ago(keep.forward_job_days))),
        Rule("change_log", lambda s, n: _tombstones(s, n, cutoff=ago(settings.sync.tombstone_retention_days))),
        Rule("draft", lambda s, n: purge_trash(s, now=now, limit=n)),
        Rule("quota_bucket", lambda s, n: _quota_buckets(s, n, now=now)),
        Rule("announcement", lambda s, n: prune_announcements(s, n, cutoff=ago(keep.announcement_days))),
        Rule("upload", lambda s, n: _uploads(s, n, now=now, storage=storage)),
        Rule("app_operation_usage", lambda s, n: _app_usage(s, n, cutoff=ago(keep.app_usage_days))),
    ]


async def _one_batch(db: Database, rule: Rule, size: int) -> int:
    return await db.transaction(lambda session: rule.batch(session, size))


async def run(db: Database, settings: Settings, *, now: datetime,
              on_batch: Callable[[str, int], Awaitable[None]] | None = None) -> dict[str, int]:
    """Every rule until its table has nothing more to remove; returns rows removed per table.

    Each batch is its own transaction (retried on a deadlock like any write); between batches the loop
    yields, so other work on this process runs and other transactions take the rows' locks in between.
    """
    removed: dict[str, int] = {}
    size = settings.retention.batch_size
    for rule in rules(settings, now):
        removed[rule.table] = 0
        while True:
            count = await _one_batch(db, rule, size)
            removed[rule.table] += count
            if on_batch is not None and count:
                await on_batch(rule.table, count)  # after the commit: nothing of this batch is locked any more
            if count < size:
                break
            await asyncio.sleep(0)
    return removed



async def run_on_schedule(db: Database, settings: Settings, stop: asyncio.Event) -> None:
    """The worker's maintenance: one run every `SUPERAPP_RETENTION_INTERVAL_SECONDS` (0: never), the first one
    interval after start, so a worker restarted in a loop does not hammer the tables. Several workers may run
    it at once: each batch deletes what is still there, so they only share the work."""
    interval = settings.retention.interval_seconds
    if interval <= 0:
        return
    while True:
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
            return
        except TimeoutError:
            pass
        try:
            removed = await run(db, settings, now=utc_now())
            if any(removed.values()):
                log.info("maintenance removed %s", ", ".join(f"{t} {n}" for t, n in removed.items() if n))
        except Exception as error:  # the next run tries again; a maintenance failure must not stop deliveries
            if not is_outage(error):
                log.exception("maintenance run failed; trying again at the next interval")
