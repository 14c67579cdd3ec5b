"""The durable forward queue: a submitted dossier is owed to its agency until the agency says it has it.

Jobs are written in the submitting transaction, so a dossier and its forward job exist together or not
at all. Delivery is at-least-once: the idempotency key lets the agency drop a repeat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.models import Citizen, Dossier, ForwardJob, Procedure


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


async def enqueue(session: AsyncSession, *, dossier: Dossier, service_code: str, now: datetime) -> ForwardJob:
    assert dossier.id is not None
    job = ForwardJob(dossier_id=dossier.id, service_code=service_code, idempotency_key=f"superapp:{dossier.code}",
                     next_attempt_at=now, created_at=now)
    session.add(job)
    await session.flush()
    return job


async def lease_due(session: AsyncSession, *, now: datetime, lease: timedelta, limit: int = 20) -> list[ForwardJob]:
    """Claim due jobs by pushing their next attempt past the lease; other workers skip locked rows."""
    query = (select(ForwardJob)
             .where(col(ForwardJob.delivered_at).is_(None), col(ForwardJob.next_attempt_at) <= now)
             .order_by(col(ForwardJob.next_attempt_at), col(ForwardJob.id)).limit(limit)
             .with_for_update(skip_locked=True))
    jobs = list((await session.execute(query)).scalars())
    for job in jobs:
        job.next_attempt_at = now + lease
        session.add(job)
    await session.flush()
    return jobs


async def request_for(session: AsyncSession, job: ForwardJob) -> ForwardRequest:
    dossier = await session.get(Dossier, job.dossier_id)
    assert dossier is not None
    procedure = await session.get(Procedure, dossier.procedure_id)
    citizen = await session.get(Citizen, dossier.citizen_id)
    assert procedure is not None
    assert citizen is not None
    parent = await session.get(Dossier, dossier.parent_id) if dossier.parent_id else None
    return ForwardRequest(idempotency_key=job.idempotency_key, dossier_code=dossier.code,
                          procedure_code=procedure.code, applicant_id_number=citizen.id_number,
                          form_data=dossier.form_data, submitted_at=dossier.submitted_at,
                          parent_code=parent.code if parent else None)


async def mark_delivered(session: AsyncSession, *, job_id: int, reference: str, now: datetime) -> None:
    job = await session.get(ForwardJob, job_id)
    assert job is not None
    job.delivered_at, job.agency_reference, job.last_error = now, reference[:128], None
    job.attempts += 1
    session.add(job)


async def mark_failed(session: AsyncSession, *, job_id: int, error: str, now: datetime, max_backoff: float) -> None:
    """Exponential backoff from 1 s, capped: a long outage costs one attempt per cap, not a storm."""
    job = await session.get(ForwardJob, job_id)
    assert job is not None
    job.attempts += 1
    job.last_error = error[:255]
    job.next_attempt_at = now + timedelta(seconds=min(max_backoff, 2.0 ** (job.attempts - 1)))
    session.add(job)


async def jobs_for_dossiers(session: AsyncSession, dossier_ids: Sequence[int]) -> dict[int, ForwardJob]:
    rows = (await session.execute(select(ForwardJob).where(col(ForwardJob.dossier_id).in_(dossier_ids)))).scalars()
    return {job.dossier_id: job for job in rows}


async def service_of(session: AsyncSession, dossier_id: int) -> str | None:
    """Which service a dossier was forwarded through: only that agency may move it."""
    job = (await session.execute(select(ForwardJob).where(ForwardJob.dossier_id == dossier_id))).scalars().first()
    return job.service_code if job else None
