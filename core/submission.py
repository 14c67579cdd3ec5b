"""Receiving a submission: the dossier (or the interconnected parent and its parts) and its forward jobs,
all in the caller's one transaction, so a received dossier is always owed to its agency."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.catalogue import procedure_by_code
from core.citizens import Profile
from core.deadlines import HolidayCalendar
from core.dossiers import Submission, find_submission, stamp_dossier, submit_dossier
from core.errors import DomainError, FieldError
from core.form_limits import check_form_size
from core.forms import complete_form, prefill_sources
from core.forwarding import enqueue
from core.interconnected import part_form, part_procedures
from core.models import Citizen, Dossier


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
) -> Dossier:
    """`routes` maps a procedure code to the service that forwards it (from the enabled plug-ins).

    A dossier whose procedure no enabled service handles is kept as received: the agency's desk takes it.
    `profile` pre-fills the forms (default: what the e-ID token said; see `prefill_wanted`).
    """
    assert citizen.id is not None
    check_form_size(submission.form_data)  # before the fingerprint or anything else walks it
    profile = profile or Profile.own(citizen)
    existing = await find_submission(session, citizen_id=citizen.id, submission=submission)
    if existing is not None:
        return existing
    dossier = await submit_dossier(session, citizen=citizen, submission=submission, now=now, calendar=calendar,
                                   tz_name=tz_name, profile=profile)
    procedure = await procedure_by_code(session, submission.procedure_code)
    assert procedure is not None
    parts = await part_procedures(session, procedure)
    if not parts:
        if procedure.code in routes:
            await enqueue(session, dossier=dossier, service_code=routes[procedure.code], now=now)
        return dossier
    errors: list[FieldError] = []
    for part in parts:
        try:
            form = complete_form(part.form_schema, stored=part_form(part, dossier.form_data), changes={},
                                 profile=profile)
        except DomainError as error:
            errors.extend(error.errors)
            continue
        child = await submit_dossier(session, citizen=citizen, now=now, calendar=calendar, tz_name=tz_name,
                                     submission=Submission(procedure_code=part.code, form_data=form), profile=profile)
        child.parent_id = dossier.id
        session.add(child)
        await session.flush()
        await stamp_dossier(session, child)  # devices learn it is a part of the parent
        if part.code in routes:
            await enqueue(session, dossier=child, service_code=routes[part.code], now=now)
    if errors:
        raise DomainError.from_fields(sorted(set(errors), key=lambda e: (e.field or "", e.code)))
    await session.flush()
    return dossier


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
