"""submitDossier: file a new dossier; user mistakes come back as typed `errors`, never as exceptions."""

from __future__ import annotations

import strawberry
from sqlalchemy.exc import IntegrityError
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.personal import by_citizen
from api.graphql.types.common import UserError
from api.graphql.types.dossier import Dossier
from core import audit, uploads
from core.clock import utc_now
from core.dossiers import Submission, find_submission
from core.errors import DomainError, ErrorCode
from core.submission import prefill_wanted, receive


@strawberry.input
class SubmitDossierInput:
    procedure_code: str
    form_data: JSON = strawberry.field(description="Answers to the procedure's e-form; profile fields are pre-filled.")
    client_mutation_id: str | None = strawberry.field(
        default=None, description="Idempotency key: a retry with the same id returns the first dossier."
    )
    attachments: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Ids of the citizen's complete uploads (`/uploads/`, tus) to file with the "
                                  "dossier: photos or PDFs of papers. Each is used once.")


@strawberry.type
class SubmitDossierPayload:
    dossier: Dossier | None
    errors: list[UserError]
    client_mutation_id: str | None


async def submit_dossier_mutation(info: Info, input: SubmitDossierInput) -> SubmitDossierPayload:
    ctx = info.context
    citizen = await ctx.citizen()
    assert citizen.id is not None
    if not isinstance(input.form_data, dict):
        error = DomainError(ErrorCode.INVALID_TYPE, field="formData", label="formData", expected="đối tượng JSON",
                            expected_en="a JSON object")
        return _failed(error, input, ctx.locale)
    try:
        attachments = uploads.check_ids(input.attachments or [], maximum=ctx.settings.uploads.max_per_dossier)
    except DomainError as error:
        return _failed(error, input, ctx.locale)
    submission = Submission(procedure_code=input.procedure_code, form_data=input.form_data,
                            client_mutation_id=input.client_mutation_id, attachments=attachments)
    async with ctx.db.read() as session:
        wanted = await prefill_wanted(session, input.procedure_code)
    profile = await ctx.profile(wanted=wanted)  # may ask an agency: never inside the write transaction
    try:
        row = await ctx.db.transaction(audit.recorded(lambda session: receive(
            session, citizen=citizen, submission=submission, routes=ctx.services.routes(), now=utc_now(),
            calendar=ctx.calendar, tz_name=ctx.settings.timezone, profile=profile,
            daily_cap=ctx.settings.quota.submissions_per_day, max_attachments=ctx.settings.uploads.max_per_dossier),
            by_citizen(ctx, citizen.id, ("Dossier.formData",), "submitDossier")))
    except DomainError as error:
        return _failed(error, input, ctx.locale)
    except IntegrityError:
        # Two retries of one submission raced; the first one won and is the answer for both.
        async with ctx.db.read() as session:
            found = await find_submission(session, citizen_id=citizen.id, submission=submission)
        if found is None:
            raise
        row = found
    if ctx.forwarder is not None:
        ctx.forwarder.kick()  # the forward jobs are committed; deliver now rather than at the next poll
    return SubmitDossierPayload(dossier=Dossier.from_row(row), errors=[],
                                client_mutation_id=input.client_mutation_id)


def _failed(error: DomainError, input: SubmitDossierInput, locale: str) -> SubmitDossierPayload:
    return SubmitDossierPayload(dossier=None, client_mutation_id=input.client_mutation_id,
                                errors=[UserError.from_field_error(e, locale) for e in error.errors])
