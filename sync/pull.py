"""Pull: the changes after a checkpoint, in pages cut by count and by compressed size, never mid-record.

The citizen's scope is served first, then the public catalogue scope. A page reads the change log and then
the records' current state; a record changed again in between is simply sent newer (its later change-log
row re-sends it, and upserts are idempotent), and a record gone in between is sent as a tombstone.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import metrics
from core.change_log import PUBLIC_SCOPE, citizen_scope
from core.errors import DomainError, ErrorCode
from core.models import ChangeLogEntry, SyncScope
from sync import schema_versions
from sync.checkpoint import BadCheckpoint, Checkpoint
from sync.records import LOADERS


class ResetReason(StrEnum):
    CHECKPOINT_INVALID = "CHECKPOINT_INVALID"
    CHECKPOINT_EXPIRED = "CHECKPOINT_EXPIRED"
    CHECKPOINT_AHEAD = "CHECKPOINT_AHEAD"
    EPOCH_CHANGED = "EPOCH_CHANGED"
    SCHEMA_CHANGED = "SCHEMA_CHANGED"
    SCOPE_CHANGED = "SCOPE_CHANGED"


@dataclass(frozen=True)
class PullRequest:
    checkpoint: str | None
    schema_version: int
    limit: int
    max_bytes: int


@dataclass(frozen=True)
class Change:
    record_type: str
    record_id: str
    version: int
    deleted: bool
    data: dict[str, Any] | None

    def wire(self) -> dict[str, Any]:
        return {"type": self.record_type, "id": self.record_id, "version": self.version, "deleted": self.deleted,
                "data": self.data}


@dataclass
class Page:
    changes: list[Change]
    checkpoint: str
    head: str
    remaining: int
    reset: ResetReason | None = None
    bytes_estimate: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_more(self) -> bool:
        return self.remaining > 0


class _Budget:
    """Running gzip size of the page: each record is flushed into one deflate stream, as the response is."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.used = max_bytes, 64  # gzip header, envelope and checkpoint
        self._deflate = zlib.compressobj(6, zlib.DEFLATED, 31)

    def admit(self, change: Change, first: bool) -> bool:
        raw = json.dumps(change.wire(), ensure_ascii=False, separators=(",", ":")).encode()
        size = len(self._deflate.compress(raw)) + len(self._deflate.flush(zlib.Z_SYNC_FLUSH))
        if not first and self.used + size > self.max_bytes:
            return False
        self.used += size
        return True


async def _scopes(session: AsyncSession, names: list[str]) -> dict[str, SyncScope]:
    rows = (await session.execute(select(SyncScope).where(col(SyncScope.scope).in_(names)))).scalars()
    found = {r.scope: r for r in rows}
    return {n: found.get(n) or SyncScope(scope=n, last_seq=0, min_retained_seq=0) for n in names}


def _start(request: PullRequest, *, citizen_id: int, epoch: int,
           scopes: dict[str, SyncScope]) -> tuple[Checkpoint, ResetReason | None]:
    fresh = Checkpoint(epoch=epoch, schema_version=request.schema_version, citizen_id=citizen_id)
    if request.checkpoint is None:
        return fresh, None
    try:
        cp = Checkpoint.decode(request.checkpoint)
    except BadCheckpoint:
        return fresh, ResetReason.CHECKPOINT_INVALID
    mine, public = scopes[citizen_scope(citizen_id)], scopes[PUBLIC_SCOPE]
    reason = None
    if cp.epoch != epoch:
        reason = ResetReason.EPOCH_CHANGED
    elif cp.citizen_id != citizen_id:
        reason = ResetReason.SCOPE_CHANGED
    elif cp.schema_version != request.schema_version:
        reason = ResetReason.SCHEMA_CHANGED
    elif cp.citizen_seq > mine.last_seq or cp.public_seq > public.last_seq:
        reason = ResetReason.CHECKPOINT_AHEAD  # the server never goes back in time; a restore did
    elif 0 < cp.citizen_seq < mine.min_retained_seq or 0 < cp.public_seq < public.min_retained_seq:
        reason = ResetReason.CHECKPOINT_EXPIRED  # tombstones it has not seen were purged
    return (fresh, reason) if reason else (cp, None)


async def _rows(session: AsyncSession, scope: str, after: int, limit: int) -> list[ChangeLogEntry]:
    query = (select(ChangeLogEntry).where(ChangeLogEntry.scope == scope, col(ChangeLogEntry.seq) > after)
             .order_by(col(ChangeLogEntry.seq)).limit(limit))
    return list((await session.execute(query)).scalars())


async def _remaining(session: AsyncSession, scope: str, after: int) -> int:
    query = select(func.count()).where(col(ChangeLogEntry.scope) == scope, col(ChangeLogEntry.seq) > after)
    return int((await session.execute(query)).scalar_one())


async def _changes(session: AsyncSession, rows: list[ChangeLogEntry], *, citizen_id: int,
                   schema_version: int) -> list[tuple[ChangeLogEntry, Change | None]]:
    """Each row with what to send (None: a type this app version does not know; skipped, cursor moves)."""
    wanted: dict[str, list[str]] = {}
    for row in rows:
        if not row.deleted and row.record_type in LOADERS:
            wanted.setdefault(row.record_type, []).append(row.record_id)
    loaded = {t: await LOADERS[t](session, citizen_id, ids) for t, ids in wanted.items()}
    out: list[tuple[ChangeLogEntry, Change | None]] = []
    for row in rows:
        if not schema_versions.knows(schema_version, row.record_type) or row.record_type not in LOADERS:
            out.append((row, None))
            continue
        data = None if row.deleted else loaded[row.record_type].get(row.record_id)
        projected = schema_versions.project(schema_version, row.record_type, data) if data is not None else None
        out.append((row, Change(row.record_type, row.record_id, row.version, data is None, projected)))
    return out


async def pull(session: AsyncSession, *, citizen_id: int, request: PullRequest, epoch: int) -> Page:
    """One page after `request.checkpoint`, or the first page of a replacement sync with `reset` set."""
    if not schema_versions.supported(request.schema_version):
        raise DomainError(ErrorCode.SCHEMA_VERSION_UNSUPPORTED, field="schemaVersion",
                          version=request.schema_version)
    mine = citizen_scope(citizen_id)
    scopes = await _scopes(session, [mine, PUBLIC_SCOPE])
    cp, reset = _start(request, citizen_id=citizen_id, epoch=epoch, scopes=scopes)
    positions = {mine: cp.citizen_seq, PUBLIC_SCOPE: cp.public_seq}
    budget, full = _Budget(request.max_bytes), False
    page_changes: list[Change] = []
    for scope in (mine, PUBLIC_SCOPE):
        room = request.limit - len(page_changes)
        if full or room <= 0:
            break
        for row, change in await _changes(session, await _rows(session, scope, positions[scope], room),
                                          citizen_id=citizen_id, schema_version=request.schema_version):
            if change is not None:
                if not budget.admit(change, first=not page_changes):
                    full = True
                    break
                page_changes.append(change)
            positions[scope] = row.seq
    remaining = sum([await _remaining(session, s, positions[s]) for s in (mine, PUBLIC_SCOPE)])
    base = Checkpoint(epoch=epoch, schema_version=request.schema_version, citizen_id=citizen_id)
    checkpoint = Checkpoint(base.epoch, base.schema_version, citizen_id, positions[mine], positions[PUBLIC_SCOPE])
    head = Checkpoint(base.epoch, base.schema_version, citizen_id, scopes[mine].last_seq,
                      scopes[PUBLIC_SCOPE].last_seq)
    metrics.SYNC_PULLS.inc()
    return Page(changes=page_changes, checkpoint=checkpoint.encode(), head=head.encode(), remaining=remaining,
                reset=reset, bytes_estimate=budget.used)
