"""Status events from agencies, applied through the state machine and recorded whatever the outcome.

The HTTP layer has already checked the signature and the timestamp; this module decides what the event
means. An event is identified by its agency's event id, but the id alone proves nothing: a restarted agency
may reuse one. So each recorded event keeps a fingerprint of its content, and a repeat is the same id with
the same content (it changes nothing), while the same id with other content is a conflict the agency is
told about (nothing recorded, nothing changed). An impossible transition is refused and recorded with the
dossier unchanged; a legal one is appended to the dossier's history and, for a part of an interconnected
dossier, moves the parent.

`StatusEvent` checks its own fields against the columns they are stored in, so a plug-in's `parse_event`
cannot hand the database a value PostgreSQL would refuse where SQLite would store it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.dossier_status import DossierStatus
from core.dossiers import change_status
from core.errors import DomainError
from core.forwarding import service_of
from core.interconnected import lock_parent, refresh_parent
from core.locks import Lock, take
from core.models import AgencyEventRecord, Dossier
from core.signatures import VerifyKey
from core.wallet import IssuedResult, receive_result

# Limits of the event's fields, the same on every database (the columns' lengths or tighter): the event id
# is stored as `<service>:<event id>` in dossier_event.external_id (128), hence 64.
EVENT_ID_MAX = 64
DOSSIER_CODE_MAX = 64
STATUS_WORD_MAX = 64
NOTE_MAX = 2000
_DETAIL_MAX = 255
# The statuses an event may carry an issued result with.
RESULT_STATUSES = (DossierStatus.PROCESSED, DossierStatus.RETURNED)


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with an event, as the agency is told it: `field` None means the body as a whole."""

    field: str | None
    code: str  # REQUIRED | INVALID_TYPE | INVALID_LENGTH | INVALID_CHARACTER | INVALID_FORMAT | UNKNOWN_STATUS
    message: str
    allowed: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"field": self.field, "code": self.code, "message": self.message}
        if self.allowed:
            body["allowed"] = list(self.allowed)
        return body


class InvalidEvent(ValueError):
    """The event cannot be applied as sent; `problems` say why, field by field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = problems


def text_problem(name: str, value: object, *, maximum: int, single_token: bool,
                 minimum: int = 1) -> FieldProblem | None:
    """What is wrong with a text field, if anything: type, length, and characters no database stores alike
    (NUL, lone surrogates, other control characters; ids are printable ASCII without spaces)."""
    if not isinstance(value, str):
        return FieldProblem(name, "INVALID_TYPE", "must be a string")
    if not minimum <= len(value) <= maximum:
        return FieldProblem(name, "INVALID_LENGTH", f"must be {minimum} to {maximum} characters")
    if single_token:
        if not all("\x21" <= c <= "\x7e" for c in value):
            return FieldProblem(name, "INVALID_CHARACTER", "only printable ASCII characters, no spaces")
    elif any((c < "\x20" and c not in "\t\n\r") or c == "\x7f" or "\ud800" <= c <= "\udfff" for c in value):
        return FieldProblem(name, "INVALID_CHARACTER", "no control characters and no unpaired surrogates")
    return None


def instant_in_range(value: object) -> bool:
    """An aware datetime that still exists in UTC (`0001-01-01T00:00+14:00` does not: it would overflow)."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        return False
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


@dataclass(frozen=True)
class StatusEvent:
    """An agency's event translated to national terms by its plug-in; raises InvalidEvent if unstorable."""

    event_id: str
    dossier_code: str
    status: DossierStatus
    occurred_at: datetime
    note_vi: str | None = None
    note_en: str | None = None
    result: IssuedResult | None = None  # the document the agency issued, signed (core/wallet.py)
    fingerprint: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        problems = [p for p in (
            text_problem("event_id", self.event_id, maximum=EVENT_ID_MAX, single_token=True),
            text_problem("dossier_ref", self.dossier_code, maximum=DOSSIER_CODE_MAX, single_token=True),
            *(text_problem(name, note, maximum=NOTE_MAX, single_token=False, minimum=0)
              for name, note in (("note_vi", self.note_vi), ("note_en", self.note_en)) if note is not None),
        ) if p is not None]
        if not isinstance(self.status, DossierStatus):
            problems.append(FieldProblem("status", "INVALID_VALUE", "not a national status"))
        if not instant_in_range(self.occurred_at):
            problems.append(FieldProblem("occurred_at", "INVALID_FORMAT", "an ISO 8601 date and time with a time "
                                         "zone, between years 1 and 9999 in UTC"))
        if self.result is not None and self.status not in RESULT_STATUSES:
            problems.append(FieldProblem("result", "INVALID_VALUE", "a result comes with a processed or returned "
                                         "status"))
        if problems:
            raise InvalidEvent(problems)
        object.__setattr__(self, "fingerprint", self._content_fingerprint())

    def _content_fingerprint(self) -> str:
        """SHA-256 of what the event says (everything but its id), independent of how it was spelled."""
        instant = self.occurred_at.astimezone(UTC).isoformat()
        content = [self.dossier_code, self.status.value, instant, self.note_vi, self.note_en]
        if self.result is not None:  # appended only when present: fingerprints of events without one stay
            content.append(self.result.fingerprint())
        return hashlib.sha256(json.dumps(content, ensure_ascii=True).encode()).hexdigest()


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    UNKNOWN_DOSSIER = "unknown_dossier"


async def _record(session: AsyncSession, service_code: str, event: StatusEvent, outcome: Outcome,
                  detail: str | None, now: datetime) -> None:
    session.add(AgencyEventRecord(service_code=service_code, event_id=event.event_id,
                                  dossier_code=event.dossier_code, status=event.status, outcome=outcome,
                                  detail=detail[:_DETAIL_MAX] if detail else None, fingerprint=event.fingerprint,
                                  occurred_at=event.occurred_at, received_at=now))
    await session.flush()


def _same_event(seen: AgencyEventRecord, event: StatusEvent) -> bool:
    if seen.fingerprint is not None:
        return seen.fingerprint == event.fingerprint
    # Recorded before fingerprints: compare what was kept.
    return (seen.dossier_code, seen.status) == (event.dossier_code, event.status.value)


async def apply_event(session: AsyncSession, *, service_code: str, event: StatusEvent, now: datetime,
                      keys: Sequence[VerifyKey] = ()) -> Outcome:
    """`keys`: the service's result-signing keys, which a result the event carries is verified with."""
    # The dossier's row lock comes first, so two deliveries of one event queue here instead of racing to
    # insert the same event id.
    take(session, Lock.DOSSIER, [event.dossier_code])
    dossier = (await session.execute(
        select(Dossier).where(Dossier.code == event.dossier_code).with_for_update()
    )).scalars().first()
    seen = (await session.execute(select(AgencyEventRecord).where(
        AgencyEventRecord.service_code == service_code, AgencyEventRecord.event_id == event.event_id,
    ))).scalars().first()
    if seen is not None:
        return Outcome.DUPLICATE if _same_event(seen, event) else Outcome.CONFLICT
    # An agency may only move the dossiers that were forwarded to it.
    if dossier is None or dossier.id is None or await service_of(session, dossier.id) != service_code:
        return Outcome.UNKNOWN_DOSSIER
    if dossier.parent_id is not None:
        await lock_parent(session, parent_id=dossier.parent_id)  # a part before its parent, both before a stamp
    try:
        await change_status(session, dossier=dossier, target=event.status, source="agency",
                            occurred_at=event.occurred_at, external_id=f"{service_code}:{event.event_id}",
                            note_vi=event.note_vi, note_en=event.note_en)
    except DomainError as error:
        await _record(session, service_code, event, Outcome.REJECTED, error.message_en, now)
        return Outcome.REJECTED
    await _record(session, service_code, event, Outcome.APPLIED, None, now)
    if dossier.parent_id is not None:
        await refresh_parent(session, parent_id=dossier.parent_id, now=now, cause=dossier.code)
    if event.result is not None:
        await receive_result(session, result=event.result, dossier=dossier, service_code=service_code, keys=keys)
    return Outcome.APPLIED
