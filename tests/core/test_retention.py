"""`superapp maintenance`: every bounded table is filled with old and new rows, the real command runs in a
subprocess, and exactly the rows still needed remain; deletes go in short batches that let other writers in."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from core.change_log import citizen_scope, stamp
from core.clock import utc_now
from core.db import Database
from core.models import (
    AgencyEventRecord,
    Announcement,
    AppOperationUsage,
    ChangeLogEntry,
    Dossier,
    DossierEvent,
    Draft,
    DraftRevision,
    ForwardJob,
    Notification,
    OutboxMessage,
    Procedure,
    QuotaBucket,
    SyncClient,
    SyncMutationResult,
    SyncScope,
    Upload,
)
from core.retention import run
from core.settings import Settings
from tests.core.factories import create_citizen

OLD, NEW = timedelta(days=400), timedelta(days=1)
TABLES = ["outbox_message", "notification", "sync_mutation_result", "agency_event", "forward_job", "change_log",
          "draft", "quota_bucket", "announcement", "upload", "app_operation_usage"]


@dataclass
class Filled:
    """Ids of the rows one test made, by table: `keep` must survive maintenance, `drop` must not."""

    keep: dict[str, set[object]] = field(default_factory=lambda: {t: set() for t in TABLES})
    drop: dict[str, set[object]] = field(default_factory=lambda: {t: set() for t in TABLES})
    citizen_id: int = 0
    read_old_notification: int = 0


class _Maker:
    def __init__(self, session: AsyncSession, citizen_id: int, dossier: Dossier, now: datetime) -> None:
        self.session, self.citizen_id, self.dossier, self.now, self.seq = session, citizen_id, dossier, now, 0

    async def notification(self, *, age: timedelta, read_age: timedelta | None) -> int:
        assert self.dossier.id is not None
        self.seq += 1
        event = DossierEvent(dossier_id=self.dossier.id, seq=self.seq, status="processing", source="agency",
                             occurred_at=self.now - age, recorded_at=self.now - age)
        self.session.add(event)
        await self.session.flush()
        assert event.id is not None
        row = Notification(citizen_id=self.citizen_id, dossier_id=self.dossier.id, event_id=event.id,
                           dossier_code=self.dossier.code, procedure_name_vi="Thủ tục", procedure_name_en="Procedure",
                           status="processing", delivery="delivered", created_at=self.now - age,
                           read_at=None if read_age is None else self.now - read_age)
        self.session.add(row)
        await self.session.flush()
        assert row.id is not None
        return row.id

    async def outbox(self, notification_id: int, *, state: str, age: timedelta) -> int:
        row = OutboxMessage(notification_id=notification_id, channel="push", device_id=None,
                            dedupe_key=f"ret:{uuid.uuid4().hex}", state=state, next_attempt_at=self.now + OLD,
                            created_at=self.now - age, sent_at=self.now - age if state == "sent" else None)
        self.session.add(row)
        await self.session.flush()
        assert row.id is not None
        return row.id

    async def job(self, action: str, *, delivered: timedelta | None = None, ended: timedelta | None = None) -> int:
        assert self.dossier.id is not None
        row = ForwardJob(dossier_id=self.dossier.id, service_code="civil_status", action=action,
                         idempotency_key=f"ret:{uuid.uuid4().hex}", next_attempt_at=self.now + OLD,
                         created_at=self.now - OLD, delivered_at=None if delivered is None else self.now - delivered,
                         ended_at=None if ended is None else self.now - ended)
        self.session.add(row)
        await self.session.flush()
        assert row.id is not None
        return row.id


async def _dossier(session: AsyncSession, citizen_id: int, now: datetime) -> Dossier:
    procedure = (await session.execute(select(Procedure).order_by(col(Procedure.id)).limit(1))).scalars().one()
    assert procedure.id is not None
    dossier = Dossier(code=f"RET-{uuid.uuid4().hex[:12]}", citizen_id=citizen_id, procedure_id=procedure.id,
                      agency_id=procedure.agency_id, status="processing", submitted_at=now - OLD,
                      due_date=date(2025, 1, 1), updated_at=now - OLD)
    session.add(dossier)
    await session.flush()
    return dossier


async def fill(db: Database) -> Filled:
    """Old and new rows in every table maintenance prunes, and old rows that must stay because work is owed."""
    citizen = await create_citizen(db)
    assert citizen.id is not None
    filled, now = Filled(citizen_id=citizen.id), utc_now()
    keep, drop = filled.keep, filled.drop

    async def work(session: AsyncSession) -> None:
        make = _Maker(session, citizen.id or 0, await _dossier(session, citizen.id or 0, now), now)
        # Outbox: finished and old goes; recent, still pending, or beside a pending sibling stays.
        unread = await make.notification(age=OLD, read_age=None)
        keep["notification"].add(unread)
        drop["outbox_message"] |= {await make.outbox(unread, state="sent", age=OLD),
                                   await make.outbox(unread, state="failed", age=OLD),
                                   await make.outbox(unread, state="dropped", age=OLD)}
        keep["outbox_message"] |= {await make.outbox(unread, state="sent", age=NEW)}
        waiting = await make.notification(age=OLD, read_age=None)
        keep["notification"].add(waiting)
        keep["outbox_message"] |= {await make.outbox(waiting, state="sent", age=OLD),
                                   await make.outbox(waiting, state="pending", age=OLD)}
        # Notifications: read long ago goes (with its rows); read lately, or with a delivery owed, stays.
        filled.read_old_notification = await make.notification(age=OLD, read_age=OLD)
        drop["notification"].add(filled.read_old_notification)
        drop["outbox_message"].add(await make.outbox(filled.read_old_notification, state="sent", age=NEW))
        keep["notification"].add(await make.notification(age=OLD, read_age=NEW))
        owed = await make.notification(age=OLD, read_age=OLD)
        keep["notification"].add(owed)
        keep["outbox_message"].add(await make.outbox(owed, state="pending", age=OLD))
        # Stored sync answers: old ones go once the install holds them (below its latest push's lowest seq).
        busy, quiet, unknown = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        session.add_all([SyncClient(id=busy, citizen_id=citizen.id or 0, last_seq=150, answered_below=51),
                         SyncClient(id=quiet, citizen_id=citizen.id or 0, last_seq=2, answered_below=2),
                         SyncClient(id=unknown, citizen_id=citizen.id or 0, last_seq=1)])
        await session.flush()
        below = {busy: 51, quiet: 2, unknown: 0}
        for client_id, seq, age in ((busy, 1, OLD), (busy, 2, OLD), (busy, 50, OLD), (busy, 4, NEW),
                                    (busy, 51, OLD), (busy, 150, OLD), (quiet, 1, OLD), (quiet, 2, OLD),
                                    (unknown, 1, OLD)):
            session.add(SyncMutationResult(client_id=client_id, seq=seq, client_mutation_id=str(uuid.uuid4()),
                                           result={"seq": seq}, created_at=now - age))
            stays = age == NEW or seq >= below[client_id]
            (keep if stays else drop)["sync_mutation_result"].add((client_id, seq))
        # Agency events: past the redelivery window goes.
        for age in (OLD, OLD, NEW):
            row = AgencyEventRecord(service_code="retention", event_id=uuid.uuid4().hex, dossier_code="X",
                                    status="processing", outcome="applied", occurred_at=now - age,
                                    received_at=now - age)
            session.add(row)
            await session.flush()
            (keep if age == NEW else drop)["agency_event"].add(row.id)
        # Forward jobs: settled actions go; the submission job and anything still owed stay.
        keep["forward_job"] |= {await make.job("submit", delivered=OLD), await make.job("withdraw", delivered=NEW),
                                await make.job("withdraw"), await make.job("supplement", ended=NEW)}
        drop["forward_job"] |= {await make.job("withdraw", delivered=OLD), await make.job("supplement", ended=OLD)}
        # Change log: tombstones past retention go; a recent one and live records stay.
        scope = citizen_scope(citizen.id or 0)
        await stamp(session, scope=scope, record_type="draft", record_id="gone-long-ago", deleted=True, now=now - OLD)
        await stamp(session, scope=scope, record_type="draft", record_id="gone-lately", deleted=True, now=now - NEW)
        await stamp(session, scope=scope, record_type="dossier", record_id="live", now=now - OLD)
        drop["change_log"].add("gone-long-ago")
        keep["change_log"] |= {"gone-lately", "live"}
        # Draft trash: deleted more than 30 days ago goes; open drafts and a recent delete stay.
        for status, deleted in (("deleted", now - OLD), ("deleted", now - NEW), ("open", None)):
            draft = Draft(id=str(uuid.uuid4()), citizen_id=citizen.id or 0, procedure_code="1.001193",
                          status=status, deleted_at=deleted, created_at=now - OLD, updated_at=now - OLD)
            session.add(draft)
            await session.flush()
            session.add(DraftRevision(draft_id=draft.id, field="child_name", value="An", reason="after_delete",
                                      at_version=1))
            (drop if deleted == now - OLD else keep)["draft"].add(draft.id)
        # Quota rows: one whose bucket is full again (or whose day is gone) goes; a live one stays.
        epoch, tag = now.timestamp(), uuid.uuid4().hex
        for key, expires in ((f"citizen:retention-{tag}-old", epoch - 1),
                             (f"citizen:retention-{tag}-live", epoch + 3600)):
            session.add(QuotaBucket(key=key, value=expires, expires_at=expires))
            (drop if expires < epoch else keep)["quota_bucket"].add(key)
        # Announcements: ended or withdrawn long ago go; one that ended lately and one still running stay.
        for ends, withdrawn in ((now - OLD, None), (now + NEW, now - OLD), (now - NEW, None), (now + NEW, None)):
            notice = Announcement(agency_code="G09", title_vi="Thông báo", title_en="Notice", body_vi="Nội dung",
                                  body_en="Body", starts_at=ends - OLD, ends_at=ends, withdrawn_at=withdrawn)
            session.add(notice)
            await session.flush()
            (drop if ends == now - OLD or withdrawn is not None else keep)["announcement"].add(notice.id)
        # App usage: a version none of whose operations was seen within the window goes, all its rows; a
        # version still seen keeps even an operation it last sent long ago (a rare screen still uses its fields).
        for version, digest, seen in (("0.1.0", "a", OLD), ("0.1.0", "b", OLD), ("0.2.0", "a", OLD),
                                      ("0.2.0", "b", NEW)):
            usage = AppOperationUsage(app_name=f"retention-{tag[:20]}-android", platform="android",
                                      app_version=version, operation_hash=digest * 64, count=1,
                                      first_seen=now - OLD, last_seen=now - seen)
            session.add(usage)
            await session.flush()
            (drop if version == "0.1.0" else keep)["app_operation_usage"].add(usage.id)

    await db.transaction(work)
    return filled


async def remaining(db: Database, filled: Filled) -> dict[str, set[object]]:
    """Which of the rows `fill` made are still there, by table."""
    mine = {t: filled.keep[t] | filled.drop[t] for t in TABLES}
    async with db.read() as session:
        async def ids(query: SelectOfScalar[Any]) -> set[object]:
            return set((await session.execute(query)).scalars())

        scope = citizen_scope(filled.citizen_id)
        answers = (await session.execute(select(SyncMutationResult.client_id, SyncMutationResult.seq)
                                         .join(SyncClient, col(SyncClient.id) == SyncMutationResult.client_id)
                                         .where(SyncClient.citizen_id == filled.citizen_id))).all()
        return {
            "outbox_message": await ids(select(OutboxMessage.id).where(col(OutboxMessage.id).in_(
                mine["outbox_message"]))),
            "notification": await ids(select(Notification.id).where(Notification.citizen_id == filled.citizen_id)),
            "sync_mutation_result": {(c, s) for c, s in answers},
            "agency_event": await ids(select(AgencyEventRecord.id).where(col(AgencyEventRecord.id).in_(
                mine["agency_event"]))),
            "forward_job": await ids(select(ForwardJob.id).where(col(ForwardJob.id).in_(mine["forward_job"]))),
            "change_log": await ids(select(ChangeLogEntry.record_id).where(
                ChangeLogEntry.scope == scope, ChangeLogEntry.record_type != "notification")),
            "draft": await ids(select(Draft.id).where(Draft.citizen_id == filled.citizen_id)),
            "quota_bucket": await ids(select(QuotaBucket.key).where(col(QuotaBucket.key).in_(mine["quota_bucket"]))),
            "announcement": await ids(select(Announcement.id).where(col(Announcement.id).in_(mine["announcement"]))),
            "upload": await ids(select(Upload.id).where(col(Upload.id).in_(mine["upload"]))),  # tests/uploads
            "app_operation_usage": await ids(select(AppOperationUsage.id).where(col(AppOperationUsage.id).in_(
                mine["app_operation_usage"]))),
        }


def _maintenance(settings: Settings, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPERAPP_DATA_DIR": str(tmp_path), "SUPERAPP_DATABASE_URL": settings.database_url,
           "SUPERAPP_ENV": "test"}
    return subprocess.run([sys.executable, "-m", "api.cli", "maintenance"], env=env, capture_output=True, text=True,
                          check=False, timeout=300)


async def test_maintenance_removes_exactly_the_finished_rows_past_their_windows(
        settings: Settings, db: Database, tmp_path: Path) -> None:
    filled = await fill(db)
    assert await remaining(db, filled) == {t: filled.keep[t] | filled.drop[t] for t in TABLES}

    done = await asyncio.to_thread(_maintenance, settings, tmp_path)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    printed = {line.split(":")[0]: int(line.split(": ")[1].split()[0]) for line in lines[:-1]}
    assert list(printed) == TABLES
    # The read entry's own outbox row goes with the entry, so it is not counted under outbox_message.
    least = {t: len(filled.drop[t]) - (t == "outbox_message") for t in TABLES}
    assert all(printed[t] >= least[t] for t in TABLES), (printed, least)
    assert lines[-1] == f"maintenance done: {sum(printed.values())} rows removed"
    assert await remaining(db, filled) == filled.keep
    async with db.read() as session:
        scope = citizen_scope(filled.citizen_id)
        tombstone = await session.get(ChangeLogEntry, (scope, "notification", str(filled.read_old_notification)))
        sync_scope = await session.get(SyncScope, scope)
        revisions = set((await session.execute(select(DraftRevision.draft_id).where(
            col(DraftRevision.draft_id).in_(filled.keep["draft"] | filled.drop["draft"])))).scalars())
    assert tombstone is not None
    assert tombstone.deleted  # every device drops the entry on its next pull
    assert sync_scope is not None
    assert sync_scope.min_retained_seq == 1  # "gone-long-ago" was this scope's seq 1
    assert revisions == filled.keep["draft"]


async def test_pruning_runs_in_short_batches_and_lets_other_writers_in_between(
        settings: Settings, db: Database) -> None:
    small = settings.updated(retention={"batch_size": 10})
    await run(db, small, now=utc_now())  # whatever earlier tests left that is old
    now = utc_now()

    async def insert_old(session: AsyncSession) -> list[int]:
        rows = [AgencyEventRecord(service_code="retention", event_id=uuid.uuid4().hex, dossier_code="X",
                                  status="processing", outcome="applied", occurred_at=now - OLD, received_at=now - OLD)
                for _ in range(35)]
        session.add_all(rows)
        await session.flush()
        return [row.id or 0 for row in rows]

    ids = await db.transaction(insert_old)
    batches: list[tuple[str, int]] = []
    other = Database.from_url(settings.database_url)

    async def between(table: str, count: int) -> None:
        batches.append((table, count))
        if table == "agency_event" and len(batches) == 1:
            # Another connection changes a row a later batch will delete: no lock of the run is held now.
            async def touch(session: AsyncSession) -> None:
                await session.execute(update(AgencyEventRecord).where(col(AgencyEventRecord.id) == ids[-1])
                                      .values(detail="touched between batches"))
            await asyncio.wait_for(other.transaction(touch), timeout=10)

    try:
        removed = await run(db, small, now=utc_now(), on_batch=between)
    finally:
        await other.dispose()
    assert [b for b in batches if b[0] == "agency_event"] == [("agency_event", 10)] * 3 + [("agency_event", 5)]
    assert removed["agency_event"] == 35
    async with db.read() as session:
        left = (await session.execute(select(AgencyEventRecord.id).where(col(AgencyEventRecord.id).in_(ids)))).all()
    assert left == []
