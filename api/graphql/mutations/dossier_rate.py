"""rateDossier: the citizen rates a returned dossier once (1-5 stars, an optional private comment)."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.personal import by_citizen
from api.graphql.types.common import UserError
from api.graphql.types.dossier import Dossier, DossierRating
from core import audit
from core.clock import utc_now
from core.errors import DomainError, ErrorCode
from core.ratings import rate_dossier


@strawberry.input
class RateDossierInput:
    dossier_code: str
    stars: int = strawberry.field(description="1 (poor) to 5 (excellent).")
    comment: str | None = strawberry.field(default=None, description="At most 1,000 characters; never published.")
    client_mutation_id: str | None = strawberry.field(
        default=None, description="Idempotency key: a retry with the same id returns the stored rating.")


@strawberry.type
class RateDossierPayload:
    dossier: Dossier | None
    rating: DossierRating | None
    errors: list[UserError]
    client_mutation_id: str | None


async def rate_dossier_mutation(info: Info, input: RateDossierInput) -> RateDossierPayload:
    """NOT_FOUND (someone else's or no such dossier) is a query error, as on every other path; ALREADY_RATED,
    NOT_RATEABLE, OUT_OF_RANGE (stars), INVALID_LENGTH and INVALID_VALUE (comment) are typed `errors`."""
    ctx = info.context
    citizen_id = await ctx.citizen_id()
    try:
        row, rating = await ctx.db.transaction(audit.recorded(
            lambda session: rate_dossier(session, citizen_id=citizen_id, code=input.dossier_code, stars=input.stars,
                                         comment=input.comment, now=utc_now(),
                                         client_mutation_id=input.client_mutation_id),
            by_citizen(ctx, citizen_id, ("DossierRating.comment",), "rateDossier")))
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return RateDossierPayload(dossier=None, rating=None, client_mutation_id=input.client_mutation_id,
                                  errors=[UserError.from_field_error(e, ctx.locale) for e in error.errors])
    return RateDossierPayload(dossier=Dossier.from_row(row), rating=DossierRating.from_row(rating), errors=[],
                              client_mutation_id=input.client_mutation_id)
