"""Fees and payments: what a procedure costs, what a dossier owes, and the receipt once paid."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from api.graphql.types.common import LocalizedText, UserError
from core import payments
from core.errors import ErrorCode, FieldError


@strawberry.enum(description="lệ phí (FEE, a state levy) or phí (CHARGE, the price of a public service).")
class FeeKind(Enum):
    FEE = "fee"
    CHARGE = "charge"


@strawberry.enum(description="Where paying a dossier's fees stands.")
class PaymentStatus(Enum):
    UNPAID = "unpaid"
    PENDING = "pending"
    DECLINED = "declined"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"


@strawberry.type(description="One fee or charge of a procedure (from the catalogue).")
class FeeItem:
    kind: FeeKind
    amount_vnd: int = strawberry.field(description="In Vietnamese đồng.")
    description: LocalizedText

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> FeeItem:
        return cls(kind=FeeKind(item["kind"]), amount_vnd=int(item["amount_vnd"]),
                   description=LocalizedText(vi=str(item["description_vi"]), en=str(item["description_en"])))


@strawberry.type(description="The proof of a confirmed payment: the gateway charged it.")
class PaymentReceipt:
    reference: str = strawberry.field(description="Our payment reference (quote it to the agency).")
    transaction_id: str = strawberry.field(description="The payment gateway's transaction id.")
    amount_vnd: int
    paid_at: datetime


@strawberry.type(description="What a dossier owes (status PAYMENT_REQUESTED) or, once paid, its receipt.")
class Payment:
    reference: str = strawberry.field(description="`TT-<dossier code>-<n>`: the same on every retry.")
    amount_vnd: int = strawberry.field(description="The total to pay, in Vietnamese đồng.")
    items: list[FeeItem] = strawberry.field(description="What the amount is for, from the procedure's fees.")
    deadline: datetime = strawberry.field(description="Pay before this; after it PAYMENT_DEADLINE_PASSED.")
    status: PaymentStatus
    gateway_url: str | None = strawberry.field(
        description="The gateway's payment page to open (PENDING or DECLINED); the card is typed there, never "
                    "sent to this API.")
    attempts: int = strawberry.field(description="How many times the citizen started paying.")
    problem: UserError | None = strawberry.field(description="Why the last card was declined (DECLINED).")
    receipt: PaymentReceipt | None = strawberry.field(description="Set once CONFIRMED.")

    @classmethod
    def from_view(cls, view: payments.PaymentView, locale: str) -> Payment:
        problem = None
        if view.status is payments.PaymentStatus.DECLINED:
            error = FieldError.of(ErrorCode.PAYMENT_DECLINED, reason=view.last_error or "DECLINED")
            problem = UserError.from_field_error(error, locale)
        receipt = None
        if view.status is payments.PaymentStatus.CONFIRMED and view.paid_at is not None:
            receipt = PaymentReceipt(reference=view.reference, transaction_id=view.transaction_id or "",
                                     amount_vnd=view.amount_vnd, paid_at=view.paid_at)
        return cls(reference=view.reference, amount_vnd=view.amount_vnd,
                   items=[FeeItem.from_item(i) for i in view.items], deadline=view.deadline,
                   status=PaymentStatus(view.status.value),
                   gateway_url=view.gateway_url if view.status in payments.OPEN_STATUSES else None,
                   attempts=view.attempts, problem=problem, receipt=receipt)
