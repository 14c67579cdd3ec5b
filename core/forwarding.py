"""The durable forward queue: a submitted dossier is owed to its agency until the agency says it has it,
and so is each later thing the citizen does to it (a withdrawal, a supplement).

Jobs are written in the transaction of the change, so a change and its forward job exist together or not
at all. Delivery is at-least-once: the idempotency key lets the agency drop a repeat. A dossier's jobs
reach its agency in the order they were written: a job is not due while an earlier one of its dossier is
still owed, so a withdrawal never overtakes the dossier it withdraws.

A job is owed until it is delivered or ends (`ended_at`): the agency refused it with a final 4xx, or an
operator gave up on it. Network errors, timeouts and 5xx only postpone it (`mark_failed`, with backoff).
What the citizen is told when a job ends is `core.forward_outcomes`' business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from core import audit
from core.backoff import backoff
from core.models import Agency, Citizen, Dossier, ForwardJob, Procedure, Upload
from core.wallet_reuse import forwarded_documents


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment as an agency is told of it: what it is and how to check it; the bytes are fetched
    (uploads/agency_links.py), not carried in the request."""

    id: str
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ForwardRequest:
    """What an agency receives: the narrow view of one dossier, not our table rows."""

    idempotency_key: str
    dossier_code: str
    procedure_code: str
    applicant_id_number: str
    form_data: Mapping[str, Any]
    submitted_at: datetime
    parent_code: str | None
    attachments: tuple[AttachmentRef, ...] = ()
    # Wallet documents the form refers to, as their issuers signed them (core/wallet_reuse.py).
    documents: Sequence[Mapping[str, Any]] = ()


class ForwardAction(StrEnum):
    """What a forward job tells the agency. Stored in `forward_job.action`."""

    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    SUPPLEMENT = "supplement"
    PAYMENT = "payment"  # the citizen paid the fees the agency asked for (core/payments.py): the receipt


@dataclass(frozen=True)
class ActionRequest:
    """What an agency receives about a dossier it already holds: the citizen withdraws it or supplements it.

    `answers` is the supplement's fields (empty for a withdrawal); `agency_reference` is the agency's own
    reference for the dossier, answered when it received it.
    """

    idempotency_key: str
    dossier_code: str
    action: ForwardAction
    answers: Mapping[str, Any]
    requested_at: datetime
    agency_reference: str | None
    attachments: tuple[AttachmentRef, ...] = ()
    documents: Sequence[Mapping[str, Any]] = ()  # wallet documents the answers refer to


async def enqueue(session: AsyncSession, *, dossier: Dossier, service_code: str, now: datetime) -> ForwardJob:
    assert dossier.id is not None
    job = ForwardJob(dossier_id=dossier.id, service_code=service_code, idempotency_key=f"superapp:{dossier.code}",
                     action=ForwardAction.SUBMIT, next_attempt_at=now, created_at=now)
    session.add(job)
    await session.flush()
    return job


async def _submission_job(session: AsyncSession, dossier_id: int) -> ForwardJob | None:
    query = select(ForwardJob).where(ForwardJob.dossier_id == dossier_id, ForwardJob.action == ForwardAction.SUBMIT)
    return (await session.execute(query)).scalars().first()


async def enqueue_action(session: AsyncSession, *, dossier: Dossier, action: ForwardAction, event_seq: int,
                         now: datetime, answers: Mapping[str, Any] | None = None) -> ForwardJob | None:
    """Owe the dossier's agency one more message, in the caller's transaction.

    Only a dossier some service forwarded has an agency to tell (its submission job names the service); any
    other dossier is handled at the agency's desk, and None is returned. The key carries the dossier event's
    sequence number, so each withdrawal or supplement is its own message and a repeat of it is dropped.
    """
    assert dossier.id is not None
    assert action is not ForwardAction.SUBMIT
    submission = await _submission_job(session, dossier.id)
    if submission is None:
        return None
    job = ForwardJob(dossier_id=dossier.id, service_code=submission.service_code, action=action,
                     payload=dict(answers) if answers is not None else None,
                     idempotency_key=f"superapp:{dossier.code}:{action.value}:{event_seq}",
                     next_attempt_at=now, created_at=now)
    session.add(job)
    await session.flush()
    return job


async def lease_due(session: AsyncSession, *, now: datetime, lease: timedelta, limit: int = 20) -> list[ForwardJob]:
    """Claim due jobs by pushing their next attempt past the lease; other workers skip locked rows.

    A job whose dossier has an earlier job still owed is not due: per dossier, the agency hears in order.
    """
    earlier = aliased(ForwardJob)
    owed_before = (select(earlier.id)
                   .where(earlier.dossier_id == ForwardJob.dossier_id, col(earlier.id) < ForwardJob.id,
                          col(earlier.delivered_at).is_(None), col(earlier.ended_at).is_(None))
                   .exists())
    query = (select(ForwardJob)
             .where(col(ForwardJob.delivered_at).is_(None), col(ForwardJob.ended_at).is_(None),
                    col(ForwardJob.next_attempt_at) <= now, ~owed_before)
             .order_by(col(ForwardJob.next_attempt_at), col(ForwardJob.id)).limit(limit)
             .with_for_update(skip_locked=True))
    jobs = list((await session.execute(query)).scalars())
    for job in jobs:
        job.next_attempt_at = now + lease
        session.add(job)
    await session.flush()
    return jobs


async def request_for(session: AsyncSession, job: ForwardJob) -> ForwardRequest | ActionRequest:
    dossier = await session.get(Dossier, job.dossier_id)
    assert dossier is not None
    if job.action != ForwardAction.SUBMIT:
        submission = await _submission_job(session, job.dossier_id)
        attached = select(Upload).where(Upload.forward_job_id == job.id)
        answers = dict(job.payload or {})
        action_procedure = await session.get(Procedure, dossier.procedure_id)
        assert action_procedure is not None
        documents = await forwarded_documents(session, schema=action_procedure.form_schema, form=answers,
                                              citizen_id=dossier.citizen_id)
        return ActionRequest(idempotency_key=job.idempotency_key, dossier_code=dossier.code,
                             action=ForwardAction(job.action), answers=answers,
                             requested_at=job.created_at,
                             agency_reference=submission.agency_reference if submission else None,
                             attachments=await _attachments(session, attached), documents=documents)
    procedure = await session.get(Procedure, dossier.procedure_id)
    citizen = await session.get(Citizen, dossier.citizen_id)
    assert procedure is not None
    assert citizen is not None
    parent = await session.get(Dossier, dossier.parent_id) if dossier.parent_id else None
    # A filing's own attachments; a part of an interconnected filing carries its parent's.
    holders = [dossier.id] + ([dossier.parent_id] if dossier.parent_id else [])
    attached = select(Upload).where(col(Upload.dossier_id).in_(holders), Upload.attached_as == "submit")
    return ForwardRequest(idempotency_key=job.idempotency_key, dossier_code=dossier.code,
                          procedure_code=procedure.code, applicant_id_number=citizen.id_number,
                          form_data=dossier.form_data, submitted_at=dossier.submitted_at,
                          parent_code=parent.code if parent else None,
                          attachments=await _attachments(session, attached),
                          documents=await forwarded_documents(session, schema=procedure.form_schema,
                                                              form=dossier.form_data, citizen_id=citizen.id or 0))


async def _attachments(session: AsyncSession, query: SelectOfScalar[Upload]) -> tuple[AttachmentRef, ...]:
    rows = (await session.execute(query.order_by(col(Upload.completed_at), col(Upload.id)))).scalars()
    return tuple(AttachmentRef(id=r.id, filename=r.filename, content_type=r.content_type or "", size=r.length,
                               sha256=r.sha256 or "") for r in rows)


async def mark_delivered(session: AsyncSession, *, job_id: int, reference: str | None, now: datetime) -> None:
    """`reference` is the agency's reference for a delivered submission; actions have none. A job an
    operator ended while this attempt was in flight keeps its reason: the agency has it all the same."""
    job = await session.get(ForwardJob, job_id)
    assert job is not None
    job.delivered_at = now
    job.last_error = job.last_error if job.ended_at is not None else None
    job.agency_reference = reference[:128] if reference is not None else None
    job.attempts += 1
    session.add(job)
    await _audit_disclosure(session, job, now=now)


# What each delivery hands the agency of the citizen's data (coordinates, core/personal_data.py).
_DISCLOSED: dict[str, tuple[str, ...]] = {
    ForwardAction.SUBMIT: ("Dossier.formData", "Me.idNumber"), ForwardAction.SUPPLEMENT: ("Dossier.formData",),
    ForwardAction.WITHDRAW: ("Dossier.status",), ForwardAction.PAYMENT: ("Dossier.status",),
}


async def _audit_disclosure(session: AsyncSession, job: ForwardJob, *, now: datetime) -> None:
    """The agency now holds the citizen's data: the privacy audit trail says so, in the delivery's transaction
    (a failed row leaves the job owed; the retry carries the same idempotency key)."""
    dossier = await session.get(Dossier, job.dossier_id)
    assert dossier is not None
    agency = await session.get(Agency, dossier.agency_id)
    await audit.append(session, audit.Access(
        actor_kind="agency", actor_id=agency.code if agency is not None else job.service_code,
        subject_citizen_id=dossier.citizen_id, fields=_DISCLOSED.get(job.action, ("Dossier.formData",)),
        operation=f"forward:{job.action}", purpose="dossier_processing", request_id=f"forward-job-{job.id}"),
        now=now)


async def mark_failed(session: AsyncSession, *, job_id: int, error: str, now: datetime, max_backoff: float) -> None:
    """Exponential backoff from 1 s, capped: a long outage costs one attempt per cap, not a storm.

    A job an operator ended while this attempt was in flight stays ended, with the operator's reason."""
    job = await session.get(ForwardJob, job_id)
    assert job is not None
    if job.ended_at is not None:
        return
    job.attempts += 1
    job.last_error = error[:255]
    job.next_attempt_at = now + timedelta(seconds=backoff(job.attempts, minimum=1.0, maximum=max_backoff))
    session.add(job)


async def end(session: AsyncSession, job: ForwardJob, *, error: str, now: datetime) -> list[ForwardJob]:
    """The job is owed no more (refused or given up); so are the dossier's later jobs when it is the dossier
    itself that never reached the agency (its withdrawal or supplement would only be refused in turn).
    Returns the later jobs ended with it."""
    job.ended_at, job.last_error = now, error[:255]
    session.add(job)
    later: list[ForwardJob] = []
    if job.action == ForwardAction.SUBMIT:
        query = select(ForwardJob).where(ForwardJob.dossier_id == job.dossier_id, col(ForwardJob.id) > job.id,
                                         col(ForwardJob.delivered_at).is_(None), col(ForwardJob.ended_at).is_(None))
        later = list((await session.execute(query)).scalars())
        for other in later:
            other.ended_at, other.last_error = now, "SUBMISSION_NOT_DELIVERED"
            session.add(other)
    await session.flush()
    return later


async def troubled(session: AsyncSession, *, limit: int = 200) -> list[tuple[ForwardJob, str]]:
    """The operators' dead-letter view: jobs still owed that have failed at least once, and jobs that ended
    undelivered, oldest first, each with its dossier's code."""
    failing = and_(col(ForwardJob.delivered_at).is_(None),
                   or_(col(ForwardJob.attempts) > 0, col(ForwardJob.ended_at).is_not(None)))
    query = (select(ForwardJob, Dossier.code).join(Dossier, col(Dossier.id) == ForwardJob.dossier_id)
             .where(failing).order_by(col(ForwardJob.id)).limit(limit))
    return [(job, code) for job, code in (await session.execute(query)).all()]


async def requeue(session: AsyncSession, *, job_id: int, now: datetime) -> ForwardJob | None:
    """Due at once (an operator fixed the cause); None when there is no such job still owed."""
    job = (await session.execute(select(ForwardJob).where(ForwardJob.id == job_id).with_for_update())).scalars().first()
    if job is None or job.delivered_at is not None or job.ended_at is not None:
        return None
    job.next_attempt_at = now
    session.add(job)
    await session.flush()
    return job


async def jobs_for_dossiers(session: AsyncSession, dossier_ids: Sequence[int]) -> dict[int, ForwardJob]:
    """Each dossier's submission job (later action jobs are not the dossier's forwarding state)."""
    query = select(ForwardJob).where(col(ForwardJob.dossier_id).in_(dossier_ids),
                                     ForwardJob.action == ForwardAction.SUBMIT)
    return {job.dossier_id: job for job in (await session.execute(query)).scalars()}


async def service_of(session: AsyncSession, dossier_id: int) -> str | None:
    """Which service a dossier was forwarded through: only that agency may move it."""
    job = await _submission_job(session, dossier_id)
    return job.service_code if job else None
