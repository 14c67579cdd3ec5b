"""Push: each mutation exactly once, in the client's order, each in its own transaction.

The per-client row (`sync_client`) is locked first in every mutation's transaction, so two connections
pushing the same batch take turns and the second finds the seq already applied (DUPLICATE, with the stored
original answer). The answer and `last_seq` are written in the same commit as the intent's effects: an
acknowledgement lost on the way back costs nothing but a DUPLICATE on the retry. A refused intent consumes
its seq (REJECTED), so the queue never wedges; only OUT_OF_ORDER and RETRY stop the batch.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import audit, metrics
from core.citizens import Profile
from core.clock import utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
from core.errors import DomainError, ErrorCode
from core.models import Citizen, SyncClient, SyncMutationResult, SyncQuarantine
from core.payments import DEADLINE_DAYS
from core.upsert import insert_into
from sync import limits, schema_versions
from sync.intents import INTENTS, Applied, IntentContext, Status

log = logging.getLogger("superapp.sync")
_TRANSIENT = ("lock", "deadlock", "serializ", "could not obtain")
# What each intent writes of the citizen's personal data (coordinates, see core/personal_data.py); an intent
# not listed (marking the inbox read) writes none and is not audited.
CHANGED_BY_INTENT: dict[str, tuple[str, ...]] = {
    "draft.create": ("Draft.fields",), "draft.update": ("Draft.fields",), "draft.delete": ("Draft.fields",),
    "draft.restore": ("Draft.fields",), "draft.submit": ("Draft.fields", "Dossier.formData"),
    "dossier.withdraw": ("Dossier.status",), "dossier.supplement": ("Dossier.formData",),
}
_WROTE = frozenset({Status.APPLIED, Status.MERGED, Status.CONFLICT})
AuditAs = Callable[[tuple[str, ...], str], audit.Access]  # (fields, operation) -> the row's who and why


@dataclass(frozen=True)
class MutationIn:
    client_mutation_id: str
    seq: int
    intent: str
    record_id: str | None
    base_version: int | None
    args: Any


@dataclass
class PushOutcome:
    results: list[dict[str, Any]]
    last_applied_seq: int
    submitted: bool


def _error(error: DomainError) -> dict[str, Any]:
    return {"code": error.code.value, "field": error.field, "messageVi": error.message_vi,
            "messageEn": error.message_en}


def _answer(m: MutationIn, status: Status, applied: Applied | None = None, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"clientMutationId": m.client_mutation_id, "seq": m.seq, "status": status.value,
                              "recordType": None, "version": None, "record": None, "conflicts": [],
                              "error": None, "expectedSeq": None, "originalStatus": None}
    if applied is not None:
        answer.update(recordType=applied.record_type, version=applied.version, record=applied.record,
                      conflicts=[c.wire() for c in applied.conflicts],
                      error=_error(applied.error) if applied.error else None)
    answer.update(extra)
    return answer


async def claim_client(db: Database, *, client_id: str, citizen_id: int, lowest_seq: int | None = None) -> int:
    """Register the install on first use; refuse an id that belongs to someone else. Returns its last seq.

    `lowest_seq`, the lowest seq of this push, is remembered as `answered_below`: an app sends its queue from
    the head and drops a mutation only once it has its answer, so it holds every answer below that seq and
    will never resend one of them under its seq; retention (core/retention.py) may then forget them."""
    try:
        uuid.UUID(client_id)
    except ValueError as exc:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field="clientId", detail="clientId phải là UUID",
                          detail_en="clientId must be a UUID") from exc
    async def register(session: AsyncSession) -> SyncClient:
        new_client = insert_into(session, SyncClient).values(id=client_id, citizen_id=citizen_id, last_seq=0,
                                                             created_at=utc_now())
        await session.execute(new_client.on_conflict_do_nothing(index_elements=["id"]))
        if lowest_seq is not None:
            await session.execute(update(SyncClient).where(
                col(SyncClient.id) == client_id, col(SyncClient.citizen_id) == citizen_id,
                col(SyncClient.answered_below) < lowest_seq).values(answered_below=lowest_seq))
        client = await session.get(SyncClient, client_id)
        assert client is not None
        return client

    client = await db.transaction(register)
    if client.citizen_id != citizen_id:
        raise DomainError(ErrorCode.SYNC_CLIENT_NOT_OWNED, field="clientId")
    return client.last_seq


async def _stored(session: AsyncSession, client_id: str, seq: int) -> SyncMutationResult | None:
    return await session.get(SyncMutationResult, (client_id, seq))


async def _stored_by_id(session: AsyncSession, client_id: str, key: str) -> SyncMutationResult | None:
    query = select(SyncMutationResult).where(SyncMutationResult.client_id == client_id,
                                             SyncMutationResult.client_mutation_id == key)
    return (await session.execute(query)).scalars().first()


def _key(client_mutation_id: str) -> str:
    """What the answer is stored under: the id itself, or (for an id past the limits, which is answered
    REJECTED) a digest that fits the column."""
    if limits.check_client_mutation_id(client_mutation_id) is None:
        return client_mutation_id
    return "sha256:" + hashlib.sha256(client_mutation_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _duplicate(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "status": Status.DUPLICATE.value, "originalStatus": result["status"]}


def _refused(m: MutationIn, code: ErrorCode, **params: Any) -> dict[str, Any]:
    return _answer(m, Status.REJECTED, error=_error(DomainError(code, field="seq", seq=m.seq, **params)))


async def _apply(session: AsyncSession, m: MutationIn, ctx: IntentContext, schema_version: int) -> Applied:
    """The intent inside a savepoint: a refusal rolls back its writes but not the answer we store."""
    try:
        bad_id = limits.check_client_mutation_id(m.client_mutation_id)
        if bad_id is not None:
            raise bad_id
        limits.check(intent=m.intent, record_id=m.record_id, base_version=m.base_version, args=m.args)
    except DomainError as error:
        return Applied(Status.REJECTED, error=error)
    handler = INTENTS.get(m.intent)
    if handler is None or not schema_versions.supported(schema_version):
        raise schema_versions.Unreadable(f"intent {m.intent!r} at schema {schema_version}")
    args = schema_versions.upcast(schema_version, m.intent, {} if m.args is None else m.args)
    try:
        async with session.begin_nested():
            return await handler(ctx, m.record_id, m.base_version, args)
    except DomainError as error:
        return Applied(Status.REJECTED, error=error)


async def _one(db: Database, m: MutationIn, *, citizen: Citizen, client_id: str, schema_version: int,
               routes: Mapping[str, str], calendar: HolidayCalendar, tz_name: str,
               now: datetime, profile: Profile | None = None, payment_deadline_days: int = DEADLINE_DAYS,
               daily_cap: int | None = None, audit_as: AuditAs | None = None,
               max_attachments: int = 20) -> tuple[dict[str, Any], bool]:
    """(answer, applied-and-submitted). Runs in one write transaction."""
    if m.seq < 1:  # names no mutation: never a DUPLICATE (the app would drop it), never stored
        return _refused(m, ErrorCode.SEQUENCE_INVALID), False
    key = _key(m.client_mutation_id)

    async def apply(session: AsyncSession) -> tuple[dict[str, Any], bool]:
        client = (await session.execute(
            select(SyncClient).where(SyncClient.id == client_id).with_for_update())).scalars().one()
        if m.seq <= client.last_seq:
            stored = await _stored(session, client_id, m.seq)
            if stored is None:  # nothing recorded under this seq: DUPLICATE only repeats a recorded answer
                return _refused(m, ErrorCode.SEQUENCE_INVALID), False
            if stored.result.get("clientMutationId") != m.client_mutation_id:
                return _refused(m, ErrorCode.SEQUENCE_REUSED), False
            return _duplicate(stored.result), False
        if m.seq != client.last_seq + 1:
            return _answer(m, Status.OUT_OF_ORDER, expectedSeq=client.last_seq + 1), False
        earlier = await _stored_by_id(session, client_id, key)
        if earlier is not None:
            # This very action was answered under another seq (the queue was numbered again after a
            # restore): repeat its answer, and let this seq hold that answer so the queue moves on.
            original = {**earlier.result, "seq": m.seq}
            session.add(SyncMutationResult(client_id=client_id, seq=m.seq, client_mutation_id=f"{key}@{m.seq}",
                                           result=original, created_at=now))
            client.last_seq = m.seq
            session.add(client)
            return _duplicate(original), False
        ctx = IntentContext(session=session, citizen=citizen, client_id=client_id,
                            client_mutation_id=m.client_mutation_id, routes=routes, calendar=calendar,
                            tz_name=tz_name, now=now, profile=profile, daily_cap=daily_cap,
                            max_attachments=max_attachments,
                            payment_deadline_days=payment_deadline_days)
        try:
            applied = await _apply(session, m, ctx, schema_version)
        except schema_versions.Unreadable as unreadable:
            session.add(SyncQuarantine(client_id=client_id, seq=m.seq, client_mutation_id=m.client_mutation_id,
                                       schema_version=schema_version, reason=str(unreadable)[:255], created_at=now,
                                       mutation={"intent": m.intent, "recordId": m.record_id,
                                                 "baseVersion": m.base_version, "args": m.args}))
            log.warning("sync mutation quarantined (client %s, seq %s): %s", client_id[:8], m.seq, unreadable)
            applied = Applied(Status.REJECTED, error=DomainError(ErrorCode.MUTATION_QUARANTINED))
        if applied.record is not None and applied.record_type is not None:
            applied.record = schema_versions.project(schema_version, applied.record_type, applied.record)
        answer = _answer(m, applied.status, applied)
        written = CHANGED_BY_INTENT.get(m.intent)
        if audit_as is not None and written and applied.status in _WROTE:
            # Last, after the intent's own locks (core.locks: AUDIT is the last rank).
            await audit.append(session, audit_as(written, f"syncPush:{m.intent}"), now=now)
        session.add(SyncMutationResult(client_id=client_id, seq=m.seq, client_mutation_id=key, result=answer,
                                       created_at=now))
        client.last_seq = m.seq
        session.add(client)
        return answer, applied.submitted

    return await db.transaction(apply)


def _count(results: list[dict[str, Any]]) -> None:
    """/metrics: answers by status, and the quarantined ones (they need an operator)."""
    for answer in results:
        metrics.SYNC_PUSHED.labels(status=answer["status"]).inc()
        if (answer.get("error") or {}).get("code") == ErrorCode.MUTATION_QUARANTINED.value \
                and answer["status"] != Status.DUPLICATE.value:
            metrics.SYNC_QUARANTINED.inc()


async def push(db: Database, *, citizen: Citizen, client_id: str, schema_version: int,
               mutations: list[MutationIn], routes: Mapping[str, str], calendar: HolidayCalendar, tz_name: str,
               max_mutations: int, profile: Profile | None = None, daily_cap: int | None = None,
               audit_as: AuditAs | None = None, max_attachments: int = 20,
               payment_deadline_days: int = DEADLINE_DAYS) -> PushOutcome:
    """`audit_as(fields, operation)` says who is changing whose data: each mutation that writes personal data
    gets its audit row in its own transaction."""
    if len(mutations) > max_mutations:
        raise DomainError(ErrorCode.TOO_MANY_MUTATIONS, field="mutations", maximum=max_mutations)
    assert citizen.id is not None
    lowest = min((m.seq for m in mutations), default=None)
    last = await claim_client(db, client_id=client_id, citizen_id=citizen.id, lowest_seq=lowest)
    results, submitted = [], False
    for m in sorted(mutations, key=lambda x: x.seq):  # a batch reordered on the way is put back in order
        try:
            answer, filed = await _one(db, m, citizen=citizen, client_id=client_id, schema_version=schema_version,
                                       routes=routes, calendar=calendar, tz_name=tz_name, now=utc_now(),
                                       profile=profile, daily_cap=daily_cap, audit_as=audit_as,
                                       max_attachments=max_attachments,
                                       payment_deadline_days=payment_deadline_days)
        except IntegrityError:
            # The same mutation committed on another connection between our lock and our insert.
            answer, filed = _answer(m, Status.RETRY), False
        except DBAPIError as error:
            if not (error.connection_invalidated or any(w in str(error.orig).lower() for w in _TRANSIENT)):
                raise
            answer, filed = _answer(m, Status.RETRY), False
        results.append(answer)
        submitted = submitted or filed
        if answer["status"] in (Status.OUT_OF_ORDER, Status.RETRY):
            break
    _count(results)
    async with db.read() as session:
        client = await session.get(SyncClient, client_id)
        last = client.last_seq if client is not None else last
    return PushOutcome(results=results, last_applied_seq=last, submitted=submitted)
