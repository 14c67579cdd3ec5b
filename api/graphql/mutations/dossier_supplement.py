"""supplementDossier: answer the agency's request for more information; processing resumes."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.personal import by_citizen
from api.graphql.types.common import UserError
from api.graphql.types.dossier import Dossier
from core import audit, uploads
from core.clock import utc_now
from core.dossiers import supplement_dossier
from core.errors import DomainError, ErrorCode


@strawberry.input
class SupplementDossierInput:
    code: str
    form_data: JSON = strawberry.field(
        description="The answers the agency asked for; they join the dossier's form and are validated with it."
    )
    client_mutation_id: str | None = None
    attachments: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Ids of the citizen's complete uploads (`/uploads/`, tus) the agency asked "
                                  "for; with attachments, formData may be empty ({}).")


@strawberry.type
class SupplementDossierPayload:
    dossier: Dossier | None
    errors: list[UserError]
    client_mutation_id: str | None


async def supplement_dossier_mutation(info: Info, input: SupplementDossierInput) -> SupplementDossierPayload:
    """Only while the dossier is SUPPLEMENT_REQUESTED; NOT_FOUND (not yours, or no such dossier) is an error."""
    ctx = info.context
    citizen_id = await ctx.citizen_id()

    def failed(error: DomainError) -> SupplementDossierPayload:
        return SupplementDossierPayload(dossier=None, client_mutation_id=input.client_mutation_id,
                                        errors=[UserError.from_field_error(e, ctx.locale) for e in error.errors])

    maximum = ctx.settings.uploads.max_per_dossier
    try:
        attachments = uploads.check_ids(input.attachments or [], maximum=maximum)
    except DomainError as error:
        return failed(error)
    if not isinstance(input.form_data, dict) or not (input.form_data or attachments):
        return failed(DomainError(ErrorCode.INVALID_TYPE, field="formData", label="formData",
                                  expected="đối tượng JSON có ít nhất một trường",
                                  expected_en="a JSON object with at least one field"))
    answers = dict(input.form_data)
    try:
        row = await ctx.db.transaction(audit.recorded(lambda session: supplement_dossier(
            session, citizen_id=citizen_id, code=input.code, answers=answers, now=utc_now(),
            attachments=attachments, max_attachments=maximum),
            by_citizen(ctx, citizen_id, ("Dossier.formData",), "supplementDossier")))
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return failed(error)
    if ctx.forwarder is not None:
        ctx.forwarder.kick()  # the agency's copy of the answers is committed; send it now, not at the next poll
    return SupplementDossierPayload(dossier=Dossier.from_row(row), errors=[],
                                    client_mutation_id=input.client_mutation_id)
