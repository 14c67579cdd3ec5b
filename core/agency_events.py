"""Status events from agencies, applied through the state machine and recorded whatever the outcome.

The HTTP layer has already checked the signature and the timestamp; this module decides what the event
means: a repeat (same agency event id) changes nothing, an impossible transition is refused and recorded
with the dossier unchanged, a legal one is appended to the dossier's history and, for a part of an
interconnected dossier, moves the parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True)
class StatusEvent:
    """An agency's event translated to national terms by its plug-in."""

    event_id: str
    dossier_code: str
    status: DossierStatus
    occurred_at: datetime
    note_vi: str | None = None
    note_en: str | None = None


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    UNKNOWN_DOSSIER = "unknown_dossier"


async def _record(session: AsyncSession, service_code: str, event: StatusEvent, outcome: Outcome,
                  detail: str | None, now: datetime) -> None:
    session.add(AgencyEventRecord(service_code=service_code, event_id=event.event_id,
                                  dossier_code=event.dossier_code, status=event.status, outcome=outcome,
                                  detail=detail, occurred_at=event.occurred_at, received_at=now))
    await session.flush()


async def apply_event(session: AsyncSession, *, service_code: str, event: StatusEvent, now: datetime) -> Outcome:
    seen = (await session.execute(select(AgencyEventRecord).where(
        AgencyEventRecord.service_code == service_code, AgencyEventRecord.event_id == event.event_id,
    ))).scalars().first()
    if seen is not None:
        return Outcome.DUPLICATE
    take(session, Lock.DOSSIER, [event.dossier_code])
    dossier = (await session.execute(
        select(Dossier).where(Dossier.code == event.dossier_code).with_for_update()
    )).scalars().first()
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
    return Outcome.APPLIED
