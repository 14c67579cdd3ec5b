"""payDossierFee: pay the fees the agency asked for, through the payment gateway's page."""

from __future__ import annotations

import strawberry

from api.graphql.context import Context, Info
from api.graphql.types.common import UserError
from api.graphql.types.dossier import Dossier
from api.graphql.types.payment import Payment
from core import payments
from core.dossiers import CLIENT_MUTATION_ID_MAX, citizen_dossier
from core.errors import DomainError, ErrorCode, not_found
from services.payment_gateway import PaymentGateway
from services.payments import current, pay

DOSSIER_CODE_MAX = 64


@strawberry.input
class PayDossierFeeInput:
    dossier_code: str
    client_mutation_id: str | None = strawberry.field(
        default=None, description="Echoed back. Retrying is safe with or without it: a dossier's payment request "
                                  "has one payment, which is charged at most once.")


@strawberry.type
class PayDossierFeePayload:
    payment: Payment | None = strawberry.field(
        description="PENDING with `gatewayUrl` to open, or CONFIRMED if it went through already.")
    dossier: Dossier | None
    errors: list[UserError]
    client_mutation_id: str | None


async def pay_dossier_fee_mutation(info: Info, input: PayDossierFeeInput) -> PayDossierFeePayload:
    """Only the dossier's owner, while it is PAYMENT_REQUESTED; NOT_FOUND (not yours, or no such dossier) is an
    error, as on every other path. The gateway confirms asynchronously: read `dossier.payment` again."""
    ctx = info.context
    citizen_id = await ctx.citizen_id()

    def failed(error: DomainError, payment: Payment | None = None) -> PayDossierFeePayload:
        return PayDossierFeePayload(payment=payment, dossier=None, client_mutation_id=input.client_mutation_id,
                                    errors=[UserError.from_field_error(e, ctx.locale) for e in error.errors])

    if len(input.dossier_code) > DOSSIER_CODE_MAX or "\x00" in input.dossier_code:
        raise not_found("hồ sơ", "Dossier")
    if input.client_mutation_id is not None and len(input.client_mutation_id) > CLIENT_MUTATION_ID_MAX:
        return failed(DomainError(ErrorCode.INVALID_LENGTH, field="clientMutationId", label="clientMutationId"))
    try:
        view = await pay(ctx.db, PaymentGateway(ctx.settings.payments), ctx.settings.payments,
                         citizen_id=citizen_id, code=input.dossier_code)
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        if error.code is ErrorCode.PAYMENT_GATEWAY_UNAVAILABLE:  # the payment is pending: show it all the same
            reference = await _reference(ctx, citizen_id, input.dossier_code)
            pending = await current(ctx.db, reference) if reference else None
            return failed(error, Payment.from_view(pending, ctx.locale) if pending else None)
        return failed(error)
    async with ctx.db.read() as session:
        row = await citizen_dossier(session, citizen_id=citizen_id, code=input.dossier_code)
    return PayDossierFeePayload(payment=Payment.from_view(view, ctx.locale), dossier=Dossier.from_row(row),
                                errors=[], client_mutation_id=input.client_mutation_id)


async def _reference(ctx: Context, citizen_id: int, code: str) -> str | None:
    async with ctx.db.read() as session:
        row = await citizen_dossier(session, citizen_id=citizen_id, code=code)
        view = await payments.payment_of(session, row, deadline_days=ctx.settings.payments.deadline_days)
    return view.reference if view is not None else None
