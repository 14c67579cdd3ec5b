"""The privacy audit trail: one hash-chained row per read or change of a citizen's personal data.

Why a chain: the table is append-only by convention, and a chain makes any edit after the fact visible. Row
N's `hash` is SHA-256 over the canonical serialisation of its content, its own `seq` and row N-1's `hash`
(`prev_hash`; the first row's is 64 zeros). Changing a row breaks its hash; removing or reordering rows
breaks a `seq` or a `prev_hash`; a row appended without the algorithm breaks its hash; a removed last row
no longer matches the head (`audit_head`). `verify` checks all of it; `canonical` is the documented algorithm
an auditor re-implements (docs/ARCHITECTURE.md, "Privacy audit trail").

Appends are serialised on the head row (`core.locks.Lock.AUDIT`, the last rank: held until commit), so the
chain is one line on PostgreSQL as on SQLite, and a change's row is written in the change's own transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.clock import utc_now
from core.db import is_outage, retryable
from core.errors import DomainError, ErrorCode
from core.locks import Lock, take
from core.models import AuditEntry, AuditHead

GENESIS = "0" * 64
T = TypeVar("T")
ACTOR_KINDS = ("citizen", "officer", "agency", "system")
_MAX_FIELDS = 4000


class AuditUnavailable(DomainError):
    """The trail could not be written: the read or change it records must not happen."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.AUDIT_UNAVAILABLE)


@dataclass(frozen=True)
class Access:
    """What one row records, before it is chained."""

    actor_kind: str
    actor_id: str
    subject_citizen_id: int
    fields: tuple[str, ...]
    operation: str
    purpose: str
    request_id: str


def _utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time in the trail is UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def canonical(row: AuditEntry) -> bytes:
    """The bytes a row's hash is taken over: a JSON object of every column but `hash`, keys sorted, no
    spaces, UTF-8, `at` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, `fields` as the stored comma-separated text."""
    content: dict[str, Any] = {
        "seq": row.seq, "at": _utc(row.at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor_kind": row.actor_kind,
        "actor_id": row.actor_id, "subject_citizen_id": row.subject_citizen_id, "fields": row.fields,
        "operation": row.operation, "purpose": row.purpose, "request_id": row.request_id,
        "prev_hash": row.prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(row: AuditEntry) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


async def append(session: AsyncSession, access: Access, *, now: datetime) -> AuditEntry:
    """Chain one row, in the caller's transaction; call it after the transaction's other locks (rank AUDIT
    is last). A failure that is not a retryable abort or an outage becomes `AuditUnavailable`, so the
    caller's change rolls back with a typed error rather than an INTERNAL_ERROR."""
    if access.actor_kind not in ACTOR_KINDS:
        raise ValueError(f"unknown actor kind {access.actor_kind!r}")
    take(session, Lock.AUDIT, ["head"])
    try:
        head = (await session.execute(
            select(AuditHead).where(col(AuditHead.id) == 1).with_for_update())).scalar_one()
        row = AuditEntry(seq=head.last_seq + 1, at=_utc(now), actor_kind=access.actor_kind,
                         actor_id=access.actor_id[:64], subject_citizen_id=access.subject_citizen_id,
                         fields=",".join(sorted(set(access.fields)))[:_MAX_FIELDS],
                         operation=access.operation[:128], purpose=access.purpose[:32],
                         request_id=access.request_id[:64], prev_hash=head.last_hash, hash="")
        row.hash = digest(row)
        session.add(row)
        head.last_seq, head.last_hash = row.seq, row.hash
        await session.flush()
    except DBAPIError as error:
        if retryable(error) or is_outage(error):
            raise
        raise AuditUnavailable() from error
    except SQLAlchemyError as error:
        raise AuditUnavailable() from error
    return row


def recorded(work: Callable[[AsyncSession], Awaitable[T]], access: Access) -> Callable[[AsyncSession], Awaitable[T]]:
    """`work`, then its audit row, in the same transaction: the change and its record commit together or not
    at all (a refused change, a DomainError from `work`, writes no row)."""
    async def run(session: AsyncSession) -> T:
        result = await work(session)
        await append(session, access, now=utc_now())
        return result

    return run


@dataclass(frozen=True)
class Break:
    """The first row where the chain does not hold: its position (1-based, in seq order) and why."""

    position: int
    seq: int | None
    reason: str


async def rows_in_order(session: AsyncSession, *, batch: int = 1000) -> AsyncIterator[AuditEntry]:
    """Every row by seq, read in keyset batches (the trail is large)."""
    after = -1
    while True:
        rows = (await session.execute(select(AuditEntry).where(col(AuditEntry.seq) > after)
                                      .order_by(col(AuditEntry.seq)).limit(batch))).scalars().all()
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        after = rows[-1].seq


class Chain:
    """The chain rule, fed one row at a time in stored (seq) order, so a trail of any size is checked in
    constant memory."""

    def __init__(self) -> None:
        self.prev_hash, self.position, self.last_seq = GENESIS, 0, 0

    def feed(self, row: AuditEntry) -> Break | None:
        self.position += 1
        if row.seq != self.position:
            return Break(self.position, row.seq, f"seq {row.seq} where {self.position} was expected (a row "
                                                 "removed, moved or inserted)")
        if row.prev_hash != self.prev_hash:
            return Break(self.position, row.seq, "prev_hash is not the previous row's hash (a row removed, "
                                                 "reordered or changed before it)")
        if digest(row) != row.hash:
            return Break(self.position, row.seq, "hash does not match the row's content (the row was changed "
                                                 "or forged)")
        self.prev_hash, self.last_seq = row.hash, row.seq
        return None

    def end(self, head: AuditHead | None) -> Break | None:
        if head is None or (head.last_seq, head.last_hash) == (self.last_seq, self.prev_hash):
            return None
        return Break(self.position + 1, None, f"the head records {head.last_seq} rows, the table ends at "
                                              f"{self.last_seq} (rows removed from the end, or the head changed)")


def check(rows: Iterable[AuditEntry], head: AuditHead | None) -> Break | None:
    """The chain rule over rows in stored order; None when it holds."""
    chain = Chain()
    for row in rows:
        if (found := chain.feed(row)) is not None:
            return found
    return chain.end(head)


async def verify(session: AsyncSession) -> tuple[int, Break | None]:
    """(rows checked, first break or None)."""
    head = (await session.execute(select(AuditHead).where(col(AuditHead.id) == 1))).scalar_one_or_none()
    chain = Chain()
    async for row in rows_in_order(session):
        if (found := chain.feed(row)) is not None:
            return chain.position, found
    return chain.position, chain.end(head)


def exported(row: AuditEntry) -> dict[str, Any]:
    """One JSON line of `superapp audit export`: the hashed content plus the hash."""
    line: dict[str, Any] = json.loads(canonical(row))
    line["hash"] = row.hash
    return line


async def citizen_entries(session: AsyncSession, *, citizen_id: int, first: int,
                          before_seq: int | None) -> list[AuditEntry]:
    """The citizen's own rows, newest first, `first + 1` of them (the extra says there is a next page)."""
    query = select(AuditEntry).where(col(AuditEntry.subject_citizen_id) == citizen_id)
    if before_seq is not None:
        query = query.where(col(AuditEntry.seq) < before_seq)
    rows = await session.execute(query.order_by(col(AuditEntry.seq).desc()).limit(first + 1))
    return list(rows.scalars().all())
