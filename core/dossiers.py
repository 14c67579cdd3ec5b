"""Dossiers: submission, the citizen's own reads, and status changes through the state machine.

Every read here is scoped by `citizen_id`: a dossier of someone else is indistinguishable from one that
does not exist. Status changes append to `dossier_event` and update the dossier's current status in the
same transaction, under the dossier's row lock, so the stored status is always the replay of its events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import uploads
from core.catalogue import procedure_by_code
from core.change_log import citizen_scope, stamp
from core.citizens import Profile
from core.clock import local_date
from core.deadlines import HolidayCalendar
from core.dossier_codes import next_dossier_code
from core.dossier_status import WITHDRAWABLE, DossierStatus, check_transition
from core.errors import DomainError, ErrorCode, not_found
from core.forms import complete_form, read_only_fields
from core.forwarding import ForwardAction, enqueue_action
from core.locks import Lock, take
from core.models import Agency, Citizen, Dossier, DossierEvent, Procedure
from core.outbox import record_status_change
from core.pagination import Page, PageRequest, cut
from core.row_ids import row_id
from core.wallet_reuse import check_document_references

CURSOR_KIND = "dossier"
CLIENT_MUTATION_ID_MAX = 64


@dataclass(frozen=True)
class Submission:
    procedure_code: str
    form_data: dict[str, Any]
    client_mutation_id: str | None = None
    attachments: tuple[str, ...] = ()  # upload ids (core/uploads.py), checked by `core.uploads.check_ids`

    def fingerprint(self) -> str:
        # Attachments join the fingerprint only when there are some: earlier submissions keep theirs.
        parts: list[Any] = [self.procedure_code, self.form_data]
        if self.attachments:
            parts.append(list(self.attachments))
        canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _dossier_not_found() -> DomainError:
    return not_found("hồ sơ", "Dossier")


async def _existing_submission(
    session: AsyncSession, *, citizen_id: int, submission: Submission
) -> Dossier | None:
    if submission.client_mutation_id is None:
        return None
    if len(submission.client_mutation_id) > CLIENT_MUTATION_ID_MAX:
        raise DomainError(ErrorCode.INVALID_LENGTH, field="clientMutationId", label="clientMutationId")
    query = select(Dossier).where(
        Dossier.citizen_id == citizen_id, Dossier.client_mutation_id == submission.client_mutation_id
    )
    existing = (await session.execute(query)).scalars().first()
    if existing is not None and existing.request_hash != submission.fingerprint():
        raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED, field="clientMutationId")
    return existing


async def available_procedure(session: AsyncSession, code: str) -> Procedure:
    procedure = await procedure_by_code(session, code)
    if procedure is None or not procedure.active:
        raise DomainError(ErrorCode.PROCEDURE_NOT_AVAILABLE, field="procedureCode", code=code)
    return procedure


def checked_form(procedure: Procedure, form_data: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """The answers completed by `complete_form` (pre-fill over read-only fields), valid against the
    procedure's e-form (or raises)."""
    return complete_form(procedure.form_schema, stored={}, changes=form_data, profile=profile)


async def submit_dossier(
    session: AsyncSession,
    *,
    citizen: Citizen,
    submission: Submission,
    now: datetime,
    calendar: HolidayCalendar,
    tz_name: str,
    profile: Profile | None = None,
) -> Dossier:
    """Store a new dossier and its first event; a repeated `client_mutation_id` returns the first one.
    `profile` pre-fills the form (default: what the e-ID token said, asking no agency)."""
    assert citizen.id is not None
    existing = await _existing_submission(session, citizen_id=citizen.id, submission=submission)
    if existing is not None:
        return existing
    procedure = await available_procedure(session, submission.procedure_code)
    form = checked_form(procedure, submission.form_data, profile or Profile.own(citizen))
    await check_document_references(session, schema=procedure.form_schema, form=form, citizen_id=citizen.id,
                                    today=local_date(now, tz_name))
    agency = await session.get(Agency, procedure.agency_id)
    assert agency is not None
    code = await next_dossier_code(session, agency_code=agency.code, received=local_date(now, tz_name))
    return await store_dossier(session, citizen=citizen, procedure=procedure, form=form, code=code,
                               submission=submission, now=now, calendar=calendar, tz_name=tz_name)


async def store_dossier(
    session: AsyncSession,
    *,
    citizen: Citizen,
    procedure: Procedure,
    form: dict[str, Any],
    code: str,
    submission: Submission,
    now: datetime,
    calendar: HolidayCalendar,
    tz_name: str,
    parent_id: int | None = None,
) -> Dossier:
    """The dossier row, its first event and its stamp, under a code the caller has taken already (the daily
    sequences are locked before any sync scope: `core.locks`)."""
    assert citizen.id is not None
    received = local_date(now, tz_name)
    dossier = Dossier(
        code=code,
        citizen_id=citizen.id,
        procedure_id=procedure.id or 0,
        agency_id=procedure.agency_id,
        parent_id=parent_id,
        status=DossierStatus.SUBMITTED,
        form_data=form,
        submitted_at=now,
        due_date=calendar.add_working_days(received, procedure.processing_days),
        updated_at=now,
        client_mutation_id=submission.client_mutation_id,
        request_hash=submission.fingerprint(),
    )
    session.add(dossier)
    await session.flush()
    assert dossier.id is not None
    session.add(
        DossierEvent(dossier_id=dossier.id, seq=1, from_status=None, status=DossierStatus.SUBMITTED,
                     source="citizen", occurred_at=now, recorded_at=now)
    )
    await session.flush()
    await stamp_dossier(session, dossier)
    return dossier


async def stamp_dossier(session: AsyncSession, dossier: Dossier) -> None:
    """The dossier (with its events) changed: devices holding it must re-pull it."""
    await stamp(session, scope=citizen_scope(dossier.citizen_id), record_type="dossier", record_id=dossier.code,
                version=dossier.version, now=dossier.updated_at)


async def find_submission(
    session: AsyncSession, *, citizen_id: int, submission: Submission
) -> Dossier | None:
    """After a lost race on the same `client_mutation_id`: the winner's dossier."""
    return await _existing_submission(session, citizen_id=citizen_id, submission=submission)


async def citizen_dossier(
    session: AsyncSession, *, citizen_id: int, code: str, for_update: bool = False
) -> Dossier:
    query = select(Dossier).where(Dossier.code == code, Dossier.citizen_id == citizen_id)
    if for_update:
        take(session, Lock.DOSSIER, [code])
        query = query.with_for_update()
    dossier = (await session.execute(query)).scalars().first()
    if dossier is None:
        raise _dossier_not_found()
    return dossier


async def citizen_dossier_by_id(session: AsyncSession, *, citizen_id: int, dossier_id: int) -> Dossier:
    query = select(Dossier).where(Dossier.id == dossier_id, Dossier.citizen_id == citizen_id)
    dossier = (await session.execute(query)).scalars().first()
    if dossier is None:
        raise _dossier_not_found()
    return dossier


async def list_citizen_dossiers(
    session: AsyncSession,
    *,
    citizen_id: int,
    page: PageRequest,
    statuses: Sequence[DossierStatus] | None = None,
) -> Page[Dossier]:
    """Newest first; the keyset is (submitted_at, id), matching `ix_dossier_citizen_newest`."""
    query = select(Dossier).where(Dossier.citizen_id == citizen_id, col(Dossier.parent_id).is_(None))
    if statuses:
        query = query.where(col(Dossier.status).in_([s.value for s in statuses]))
    if page.after:
        at, last_id = _dossier_keyset(page.after)
        query = query.where(
            or_(col(Dossier.submitted_at) < at, and_(col(Dossier.submitted_at) == at, col(Dossier.id) < last_id))
        )
    query = query.order_by(col(Dossier.submitted_at).desc(), col(Dossier.id).desc()).limit(page.first + 1)
    rows = list((await session.execute(query)).scalars())
    return cut(rows, page.first, lambda d: [d.submitted_at.isoformat(), d.id])


def _dossier_keyset(after: list[Any]) -> tuple[datetime, int]:
    """The cursor's (submitted_at, id); anything else is a cursor we did not issue."""
    try:
        at, last_id = datetime.fromisoformat(str(after[0])), after[1]
    except ValueError as exc:
        raise DomainError(ErrorCode.INVALID_CURSOR, field="after") from exc
    key = row_id(last_id)
    if at.tzinfo is None or key is None:
        raise DomainError(ErrorCode.INVALID_CURSOR, field="after")
    return at, key


async def events_for(session: AsyncSession, dossier_ids: Sequence[int]) -> dict[int, list[DossierEvent]]:
    query = (select(DossierEvent).where(col(DossierEvent.dossier_id).in_(dossier_ids))
             .order_by(col(DossierEvent.dossier_id), col(DossierEvent.seq)))
    grouped: dict[int, list[DossierEvent]] = {i: [] for i in dossier_ids}
    for event in (await session.execute(query)).scalars():
        grouped[event.dossier_id].append(event)
    return grouped


async def change_status(
    session: AsyncSession,
    *,
    dossier: Dossier,
    target: DossierStatus,
    source: str,
    occurred_at: datetime,
    external_id: str | None = None,
    note_vi: str | None = None,
    note_en: str | None = None,
    notify: bool | None = None,
) -> DossierEvent:
    """Append one event through the state machine; a repeated `(source, external_id)` changes nothing.

    The caller holds the dossier's row lock (`citizen_dossier(..., for_update=True)` or equivalent). In the
    same transaction the change is announced to live subscribers and, unless the citizen made it
    themselves or the dossier is a part of an interconnected one (`notify` defaults to `source !=
    "citizen"` for a dossier without parent), an inbox entry and its outbox rows are written: the citizen
    follows the parent, which notifies when its derived status changes (`core.interconnected`).
    """
    assert dossier.id is not None
    if external_id is not None:
        query = select(DossierEvent).where(DossierEvent.dossier_id == dossier.id,
                                           DossierEvent.source == source,
                                           DossierEvent.external_id == external_id)
        repeated = (await session.execute(query)).scalars().first()
        if repeated is not None:
            return repeated
    current = DossierStatus(dossier.status)
    check_transition(current, target)
    last_seq = (await session.execute(
        select(func.max(DossierEvent.seq)).where(DossierEvent.dossier_id == dossier.id)
    )).scalar_one()
    event = DossierEvent(dossier_id=dossier.id, seq=int(last_seq or 0) + 1, from_status=current,
                         status=target, source=source, external_id=external_id, note_vi=note_vi,
                         note_en=note_en, occurred_at=occurred_at, recorded_at=occurred_at)
    session.add(event)
    dossier.status = target
    dossier.version += 1
    dossier.updated_at = occurred_at
    session.add(dossier)
    await session.flush()
    await record_status_change(session, dossier=dossier, event=event,
                               notify=(source != "citizen" and dossier.parent_id is None) if notify is None
                               else notify)
    await stamp_dossier(session, dossier)
    return event


async def withdraw_dossier(
    session: AsyncSession, *, citizen_id: int, code: str, now: datetime
) -> Dossier:
    """The citizen asks to withdraw; the agency holding the dossier is told in the same transaction (a
    forward job), and its stop (PROCESSING_STOPPED) arrives later as a status event."""
    dossier = await citizen_dossier(session, citizen_id=citizen_id, code=code, for_update=True)
    current = DossierStatus(dossier.status)
    if current not in WITHDRAWABLE:
        raise DomainError(ErrorCode.NOT_WITHDRAWABLE, field="code", current=current.label_vi,
                          current_en=current.label_en)
    event = await change_status(session, dossier=dossier, target=DossierStatus.WITHDRAWAL_REQUESTED,
                                source="citizen", occurred_at=now)
    await enqueue_action(session, dossier=dossier, action=ForwardAction.WITHDRAW, event_seq=event.seq, now=now)
    return dossier


SERVER_OWNED = frozenset({"status", "code", "fees", "feeVnd", "fee_vnd", "dueDate", "due_date", "result",
                          "agencyResult", "deadline", "version"})


async def supplement_dossier(
    session: AsyncSession, *, citizen_id: int, code: str, answers: dict[str, Any], now: datetime,
    profile: Profile | None = None, attachments: Sequence[str] = (), max_attachments: int = 20,
) -> Dossier:
    """The citizen sends what the agency asked for: the answers join the form, processing resumes, and the
    agency holding the dossier is sent the answers (a forward job in the same transaction).

    The form is completed like a submission's (`complete_form`): read-only identity fields keep the
    profile's (or the filed) values whatever the answers say, and only the answers the citizen may give
    are forwarded. `profile` defaults to what the e-ID token said. `attachments` (complete uploads of the
    citizen's, core/uploads.py) join the dossier and go to the agency with the answers."""
    dossier = await citizen_dossier(session, citizen_id=citizen_id, code=code, for_update=True)
    for name in answers:
        if name in SERVER_OWNED:
            raise DomainError(ErrorCode.SERVER_OWNED_FIELD, field=f"fields.{name}", label=name)
    current = DossierStatus(dossier.status)
    if current is not DossierStatus.SUPPLEMENT_REQUESTED:
        raise DomainError(ErrorCode.INVALID_TRANSITION, field="dossierCode", current=current.label_vi,
                          current_en=current.label_en, target=DossierStatus.PROCESSING.label_vi,
                          target_en=DossierStatus.PROCESSING.label_en)
    procedure = await session.get(Procedure, dossier.procedure_id)
    assert procedure is not None
    if profile is None:
        citizen = await session.get(Citizen, citizen_id)
        assert citizen is not None
        profile = Profile.own(citizen)
    dossier.form_data = complete_form(procedure.form_schema, stored=dossier.form_data, changes=answers,
                                      profile=profile)
    await check_document_references(session, schema=procedure.form_schema, form=dossier.form_data,
                                    citizen_id=citizen_id, today=now.date(), only=answers.keys())
    read_only = read_only_fields(procedure.form_schema)
    event = await change_status(session, dossier=dossier, target=DossierStatus.PROCESSING, source="citizen",
                                occurred_at=now, note_vi="Công dân đã bổ sung giấy tờ",
                                note_en="The citizen supplemented")
    job = await enqueue_action(session, dossier=dossier, action=ForwardAction.SUPPLEMENT, event_seq=event.seq,
                               now=now, answers={name: dossier.form_data[name] for name in answers
                                                 if name not in read_only and name in dossier.form_data})
    if attachments:
        assert dossier.id is not None
        await uploads.attach(session, citizen_id=citizen_id, upload_ids=attachments, dossier_id=dossier.id,
                             attached_as=uploads.SUPPLEMENT, maximum=max_attachments, now=now,
                             forward_job_id=job.id if job is not None else None)
    return dossier
