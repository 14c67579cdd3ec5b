"""withdrawDossier: the citizen asks the agency to stop; allowed while the agency still holds it."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.personal import by_citizen
from api.graphql.types.common import UserError
from api.graphql.types.dossier import Dossier
from core import audit
from core.clock import utc_now
from core.dossiers import withdraw_dossier
from core.errors import DomainError, ErrorCode


@strawberry.input
class WithdrawDossierInput:
    code: str
    client_mutation_id: str | None = None


@strawberry.type
class WithdrawDossierPayload:
    dossier: Dossier | None
    errors: list[UserError]
    client_mutation_id: str | None


async def withdraw_dossier_mutation(info: Info, input: WithdrawDossierInput) -> WithdrawDossierPayload:
    """NOT_FOUND (someone else's or no such dossier) is a query error, as on every other path."""
    ctx = info.context
    citizen_id = await ctx.citizen_id()
    try:
        row = await ctx.db.transaction(audit.recorded(
            lambda session: withdraw_dossier(session, citizen_id=citizen_id, code=input.code, now=utc_now()),
            by_citizen(ctx, citizen_id, ("Dossier.status",), "withdrawDossier")))
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return WithdrawDossierPayload(dossier=None, client_mutation_id=input.client_mutation_id,
                                      errors=[UserError.from_field_error(e, ctx.locale) for e in error.errors])
    if ctx.forwarder is not None:
        ctx.forwarder.kick()  # the withdrawal owed to the agency is committed; send it now, not at the next poll
    return WithdrawDossierPayload(dossier=Dossier.from_row(row), errors=[],
                                  client_mutation_id=input.client_mutation_id)
