"""Receiving a submission: the dossier (or the interconnected parent and its parts) and its forward jobs,
all in the caller's one transaction, so a received dossier is always owed to its agency.

Everything that can refuse the submission (the procedure, the parent's form, every part's form) is checked
first; then every code is taken in one call (the daily sequences, in ascending agency order), and only then
are dossiers stored and stamped in the citizen's sync scope. That is the global lock order of `core.locks`:
an interconnected and a plain submission by one citizen at the same moment can no longer deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import uploads
from core.catalogue import procedure_by_code
from core.citizens import Profile
from core.clock import local_date
from core.deadlines import HolidayCalendar
from core.dossier_codes import next_dossier_codes
from core.dossiers import Submission, available_procedure, checked_form, find_submission, store_dossier
from core.errors import DomainError, FieldError
from core.form_limits import check_form_size
from core.forms import complete_form, prefill_sources
from core.forwarding import enqueue
from core.interconnected import part_form, part_procedures
from core.models import Agency, Citizen, Dossier, Procedure
from core.quota import count_submission, day_end
from core.wallet_reuse import check_document_references


async def receive(
    session: AsyncSession,
    *,
    citizen: Citizen,
    submission: Submission,
    routes: Mapping[str, str],
    now: datetime,
    calendar: HolidayCalendar,
    tz_name: str,
    profile: Profile | None = None,
    daily_cap: int | None = None,
    max_attachments: int = 20,
) -> Dossier:
    """`routes` maps a procedure code to the service that forwards it (from the enabled plug-ins).

    A dossier whose procedure no enabled service handles is kept as received: the agency's desk takes it.
    `profile` pre-fills the forms (default: what the e-ID token said; see `prefill_wanted`).
    `daily_cap` bounds the citizen's submissions per calendar day (a retry of one already received is not
    counted): over it, DAILY_SUBMISSION_LIMIT and the caller's rollback stores and forwards nothing.
    `submission.attachments` (the citizen's complete uploads) join the dossier; an interconnected filing's
    go to every part's agency.
    """
    assert citizen.id is not None
    check_form_size(submission.form_data)  # before the fingerprint or anything else walks it
    profile = profile or Profile.own(citizen)
    existing = await find_submission(session, citizen_id=citizen.id, submission=submission)
    if existing is not None:
        return existing
    procedure = await available_procedure(session, submission.procedure_code)
    form = checked_form(procedure, submission.form_data, profile)
    parts = _checked_parts(await part_procedures(session, procedure), form, profile)
    for schema, answers in ((procedure.form_schema, form), *((p.form_schema, a) for p, a in parts)):
        await check_document_references(session, schema=schema, form=answers, citizen_id=citizen.id,
                                        today=local_date(now, tz_name))
    wanted = [procedure, *(part for part, _ in parts)]
    if daily_cap is not None:
        day = local_date(now, tz_name)
        await count_submission(session, citizen_id=citizen.id, day=day, cap=daily_cap,
                               expires_at=day_end(day, tz_name))
    codes = await next_dossier_codes(session, agency_codes=[await _agency_code(session, p) for p in wanted],
                                     received=local_date(now, tz_name))
    dossier = await store_dossier(session, citizen=citizen, procedure=procedure, form=form, code=codes[0],
                                  submission=submission, now=now, calendar=calendar, tz_name=tz_name)
    if submission.attachments:
        assert dossier.id is not None
        await uploads.attach(session, citizen_id=citizen.id, upload_ids=submission.attachments,
                             dossier_id=dossier.id, attached_as=uploads.SUBMIT, maximum=max_attachments, now=now)
    if not parts:
        await _enqueue(session, dossier, procedure, routes, now)
    for (part, answers), code in zip(parts, codes[1:], strict=True):
        child = await store_dossier(session, citizen=citizen, procedure=part, form=answers, code=code,
                                    submission=Submission(procedure_code=part.code, form_data=answers),
                                    now=now, calendar=calendar, tz_name=tz_name, parent_id=dossier.id)
        await _enqueue(session, child, part, routes, now)
    return dossier


def _checked_parts(parts: list[Procedure], form: dict[str, Any],
                   profile: Profile) -> list[tuple[Procedure, dict[str, Any]]]:
    """Each part's answers (the parent's it asks for, pre-filled); every part's mistakes at once."""
    checked: list[tuple[Procedure, dict[str, Any]]] = []
    errors: list[FieldError] = []
    for part in parts:
        try:
            answers = complete_form(part.form_schema, stored=part_form(part, form), changes={}, profile=profile)
        except DomainError as error:
            errors.extend(error.errors)
            continue
        checked.append((part, answers))
    if errors:
        raise DomainError.from_fields(sorted(set(errors), key=lambda e: (e.field or "", e.code)))
    return checked


async def _agency_code(session: AsyncSession, procedure: Procedure) -> str:
    agency = await session.get(Agency, procedure.agency_id)
    assert agency is not None
    return agency.code


async def _enqueue(session: AsyncSession, dossier: Dossier, procedure: Procedure, routes: Mapping[str, str],
                   now: datetime) -> None:
    if procedure.code in routes:
        await enqueue(session, dossier=dossier, service_code=routes[procedure.code], now=now)


async def prefill_wanted(session: AsyncSession, procedure_code: str) -> frozenset[str]:
    """The profile fields a submission of this procedure (and of its parts) pre-fills: read before the
    write transaction, so the caller asks an agency only for gaps that matter, and never while holding it."""
    procedure = await procedure_by_code(session, procedure_code)
    if procedure is None:
        return frozenset()
    wanted = set(prefill_sources(procedure.form_schema))
    for part in await part_procedures(session, procedure):
        wanted |= prefill_sources(part.form_schema)
    return frozenset(wanted)
