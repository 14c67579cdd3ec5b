"""Receiving a submission: the dossier (or the interconnected parent and its parts) and its forward jobs,
all in the caller's one transaction, so a received dossier is always owed to its agency."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.catalogue import procedure_by_code
from core.citizens import profile_of
from core.deadlines import HolidayCalendar
from core.dossiers import Submission, find_submission, stamp_dossier, submit_dossier
from core.errors import DomainError, FieldError
from core.forms import prefill, validate_form
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
) -> Dossier:
    """`routes` maps a procedure code to the service that forwards it (from the enabled plug-ins).

    A dossier whose procedure no enabled service handles is kept as received: the agency's desk takes it.
    """
    assert citizen.id is not None
    existing = await find_submission(session, citizen_id=citizen.id, submission=submission)
    if existing is not None:
        return existing
    dossier = await submit_dossier(session, citizen=citizen, submission=submission, now=now, calendar=calendar,
                                   tz_name=tz_name)
    procedure = await procedure_by_code(session, submission.procedure_code)
    assert procedure is not None
    parts = await part_procedures(session, procedure)
    if not parts:
        if procedure.code in routes:
            await enqueue(session, dossier=dossier, service_code=routes[procedure.code], now=now)
        return dossier
    errors: list[FieldError] = []
    for part in parts:
        form = prefill(part.form_schema, part_form(part, dossier.form_data), profile_of(citizen))
        try:
            validate_form(part.form_schema, form)
        except DomainError as error:
            errors.extend(error.errors)
            continue
        child = await submit_dossier(session, citizen=citizen, now=now, calendar=calendar, tz_name=tz_name,
                                     submission=Submission(procedure_code=part.code, form_data=form))
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
