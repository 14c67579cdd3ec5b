"""When a forward job ends undelivered, the citizen is told, in the transaction that ends it.

A job ends when the agency refuses it (a final 4xx: its reason is kept) or an operator gives up on it
(`superapp forward give-up`). What the citizen sees follows the national state machine:

- a refused submission: the dossier takes the agency's "no", NOT_ACCEPTED "Không được tiếp nhận" (or, if the
  citizen already asked to withdraw it, PROCESSING_STOPPED), with the reason in the event's note;
- a refused withdrawal or supplement: the dossier keeps its status (the agency still holds it, as it was),
  and a *note event* is appended: an event whose `from_status` equals its `status`, source "agency", with
  the refusal and its reason in the note. It is the dossier's history the app already shows and syncs, and
  it notifies like a status change (inbox entry, push, SMS fallback).

A part of an interconnected dossier moves its parent (`refresh_parent`), which notifies once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.dossier_status import DossierStatus, can_transition
from core.dossiers import change_status, stamp_dossier
from core.forwarding import ForwardAction, end
from core.interconnected import refresh_parent
from core.models import Dossier, DossierEvent, ForwardJob
from core.outbox import record_status_change

_REFUSED = {
    ForwardAction.SUBMIT: ("Cơ quan không tiếp nhận hồ sơ", "The agency did not accept the dossier"),
    ForwardAction.WITHDRAW: ("Cơ quan không chấp nhận yêu cầu rút hồ sơ", "The agency refused the withdrawal"),
    ForwardAction.SUPPLEMENT: ("Cơ quan không nhận phần bổ sung", "The agency refused the supplement"),
    ForwardAction.PAYMENT: ("Cơ quan không nhận thông báo đã nộp phí", "The agency refused the payment notice"),
}
_UNDELIVERED = {
    ForwardAction.SUBMIT: ("Không gửi được hồ sơ đến cơ quan", "The dossier could not be delivered to the agency"),
    ForwardAction.WITHDRAW: ("Không gửi được yêu cầu rút hồ sơ đến cơ quan",
                             "The withdrawal could not be delivered to the agency"),
    ForwardAction.SUPPLEMENT: ("Không gửi được phần bổ sung đến cơ quan",
                               "The supplement could not be delivered to the agency"),
    ForwardAction.PAYMENT: ("Không gửi được thông báo đã nộp phí đến cơ quan",
                            "The payment notice could not be delivered to the agency"),
}


async def refused(session: AsyncSession, *, job_id: int, status: int, reason: str, now: datetime) -> None:
    """The agency answered a final 4xx with `reason`: the job ends and the citizen learns why."""
    job = await _locked_job(session, job_id)
    if job is None:
        return
    job.attempts += 1
    await end(session, job, error=f"HTTP_{status}: {reason}", now=now)
    vi, en = _REFUSED[ForwardAction(job.action)]
    await _tell_citizen(session, job, note_vi=f"{vi}: {reason}", note_en=f"{en}: {reason}", now=now)


async def given_up(session: AsyncSession, *, job_id: int, reason: str | None, now: datetime) -> ForwardJob | None:
    """An operator ends a job still owed; None when there is no such job (unknown, delivered or ended)."""
    job = await _locked_job(session, job_id)
    if job is None:
        return None
    await end(session, job, error=f"GIVEN_UP: {reason or job.last_error or '-'}", now=now)
    vi, en = _UNDELIVERED[ForwardAction(job.action)]
    await _tell_citizen(session, job, note_vi=f"{vi}: {reason}" if reason else vi,
                        note_en=f"{en}: {reason}" if reason else en, now=now)
    return job


async def _locked_job(session: AsyncSession, job_id: int) -> ForwardJob | None:
    job = (await session.execute(select(ForwardJob).where(ForwardJob.id == job_id).with_for_update())).scalars().first()
    if job is None or job.delivered_at is not None or job.ended_at is not None:
        return None
    return job


async def _tell_citizen(session: AsyncSession, job: ForwardJob, *, note_vi: str, note_en: str,
                        now: datetime) -> None:
    dossier = (await session.execute(select(Dossier).where(Dossier.id == job.dossier_id).with_for_update())
               ).scalars().one()
    current = DossierStatus(dossier.status)
    target = next((s for s in (DossierStatus.NOT_ACCEPTED, DossierStatus.PROCESSING_STOPPED)
                   if can_transition(current, s)), None)
    if job.action != ForwardAction.SUBMIT or target is None:
        await note_event(session, dossier=dossier, note_vi=note_vi, note_en=note_en, now=now)
        return
    await change_status(session, dossier=dossier, target=target, source="agency", occurred_at=now,
                        note_vi=note_vi, note_en=note_en)
    if dossier.parent_id is not None:
        await refresh_parent(session, parent_id=dossier.parent_id, now=now, cause=dossier.code,
                             detail_vi=note_vi, detail_en=note_en)


async def note_event(session: AsyncSession, *, dossier: Dossier, note_vi: str, note_en: str,
                     now: datetime) -> DossierEvent:
    """An event that keeps the dossier's status and says something the citizen must know; it notifies."""
    assert dossier.id is not None
    last_seq = (await session.execute(
        select(func.max(DossierEvent.seq)).where(DossierEvent.dossier_id == dossier.id))).scalar_one()
    event = DossierEvent(dossier_id=dossier.id, seq=int(last_seq or 0) + 1, from_status=dossier.status,
                         status=dossier.status, source="agency", note_vi=note_vi[:2000], note_en=note_en[:2000],
                         occurred_at=now, recorded_at=now)
    session.add(event)
    dossier.version += 1
    dossier.updated_at = now
    session.add(dossier)
    await session.flush()
    await record_status_change(session, dossier=dossier, event=event, notify=True)
    await stamp_dossier(session, dossier)
    return event
