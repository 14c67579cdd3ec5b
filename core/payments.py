"""Fees and payments: what a dossier in PAYMENT_REQUESTED owes, and how paying it goes.

A payment answers one payment request (the dossier's PAYMENT_REQUESTED event): its reference is
`TT-<dossier code>-<event seq>`, known before anything is stored, so the app shows it (with the amount, the
fees it is for and the deadline) before the citizen starts paying; the row is written when they do.

Money moves at the gateway, never here: our API never sees a card. Each payment has at most one open
order at the gateway at a time (`order_reference`), which the gateway charges at most once; a new order is
opened only after the gateway confirmed the previous one cancelled (EXPIRED), so a payment is charged at
most once in all, however often the app retries. Only the gateway's word (its signed notification, or its
answer to our status query) confirms a payment; then the dossier moves back to PROCESSING with a `system`
event whose note is the receipt, which notifies the citizen like any status change.

Every write here takes the dossier's row lock first (`core.locks.Lock.DOSSIER`): the payment row is only
ever changed under it, so no lock rank of its own is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.dossier_status import DossierStatus
from core.dossiers import change_status, citizen_dossier
from core.errors import DomainError, ErrorCode
from core.forwarding import ForwardAction, enqueue_action
from core.locks import Lock, take
from core.models import Dossier, DossierEvent, Payment, Procedure

DEADLINE_DAYS = 15  # SUPERAPP_PAYMENT_DEADLINE_DAYS' default
FEE_KINDS = ("fee", "charge")  # lệ phí (a state levy) and phí (a charge for a service)


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"  # asked for; the citizen has not started paying (no row yet)
    PENDING = "pending"  # an order is open (or being opened) at the gateway: waiting for its word
    DECLINED = "declined"  # the last card was declined; the same order can be paid again
    CONFIRMED = "confirmed"  # the gateway charged it: the receipt is on the payment
    EXPIRED = "expired"  # the order was cancelled at the gateway unpaid (it never settled); pay again opens a new one


OPEN_STATUSES = frozenset({PaymentStatus.PENDING, PaymentStatus.DECLINED})


class Settlement(StrEnum):
    """What the gateway's word did to a payment (the callback's `outcome`)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"  # about an order that is no longer the payment's current one: nothing changed
    UNKNOWN = "unknown"  # no such order here
    AMOUNT_MISMATCH = "amount_mismatch"  # the gateway charged another amount: nothing moves, an operator looks


def fee_items(procedure: Procedure) -> list[dict[str, Any]]:
    """The procedure's fees and charges; a catalogue entry with only a total is one fee of that total."""
    if procedure.fees:
        return [dict(item) for item in procedure.fees]
    if procedure.fee_vnd > 0:
        return [{"kind": "fee", "amount_vnd": procedure.fee_vnd, "description_vi": "Lệ phí",
                 "description_en": "Fee"}]
    return []


def check_fees(code: str, fees: Sequence[dict[str, Any]], fee_vnd: int) -> None:
    """A catalogue entry's fees must be well formed and add up to its `fee_vnd` (the total the app lists)."""
    for item in fees:
        if item.get("kind") not in FEE_KINDS or not isinstance(item.get("amount_vnd"), int) \
                or item["amount_vnd"] < 0 or not item.get("description_vi") or not item.get("description_en"):
            raise ValueError(f"procedure {code}: a fee needs kind fee|charge, amount_vnd >= 0 and vi/en descriptions")
    if fees and sum(int(item["amount_vnd"]) for item in fees) != fee_vnd:
        raise ValueError(f"procedure {code}: its fees do not add up to fee_vnd {fee_vnd}")


def reference_for(dossier_code: str, request_seq: int) -> str:
    return f"TT-{dossier_code}-{request_seq}"


@dataclass(frozen=True)
class PaymentView:
    """A payment as the citizen sees it: stored, or the request not yet started (UNPAID)."""

    reference: str
    dossier_code: str
    amount_vnd: int
    items: list[dict[str, Any]]
    deadline: datetime
    status: PaymentStatus
    attempts: int = 0
    gateway_url: str | None = None
    last_error: str | None = None
    transaction_id: str | None = None
    paid_at: datetime | None = None

    @classmethod
    def of(cls, row: Payment, dossier_code: str) -> PaymentView:
        return cls(reference=row.reference, dossier_code=dossier_code, amount_vnd=row.amount_vnd,
                   items=list(row.items), deadline=row.deadline, status=PaymentStatus(row.status),
                   attempts=row.attempts, gateway_url=row.gateway_url, last_error=row.last_error,
                   transaction_id=row.transaction_id, paid_at=row.paid_at)


async def _request_event(session: AsyncSession, dossier_id: int) -> DossierEvent | None:
    """The dossier's latest PAYMENT_REQUESTED transition (a note event keeps the status: not a request)."""
    query = (select(DossierEvent)
             .where(DossierEvent.dossier_id == dossier_id, DossierEvent.status == DossierStatus.PAYMENT_REQUESTED,
                    col(DossierEvent.from_status) != DossierStatus.PAYMENT_REQUESTED)
             .order_by(col(DossierEvent.seq).desc()).limit(1))
    return (await session.execute(query)).scalars().first()


async def _row(session: AsyncSession, dossier_id: int, request_seq: int) -> Payment | None:
    query = select(Payment).where(Payment.dossier_id == dossier_id, Payment.request_seq == request_seq)
    return (await session.execute(query)).scalars().first()


async def _latest_confirmed(session: AsyncSession, dossier_id: int) -> Payment | None:
    query = (select(Payment).where(Payment.dossier_id == dossier_id, Payment.status == PaymentStatus.CONFIRMED)
             .order_by(col(Payment.request_seq).desc()).limit(1))
    return (await session.execute(query)).scalars().first()


async def payment_of(session: AsyncSession, dossier: Dossier, *, deadline_days: int) -> PaymentView | None:
    """While the dossier is PAYMENT_REQUESTED: what it owes (None when the procedure has no fee). Later: the
    receipt of its latest confirmed payment, if any."""
    assert dossier.id is not None
    if dossier.status == DossierStatus.PAYMENT_REQUESTED:
        event = await _request_event(session, dossier.id)
        if event is not None:
            row = await _row(session, dossier.id, event.seq)
            if row is not None:
                return PaymentView.of(row, dossier.code)
            procedure = await session.get(Procedure, dossier.procedure_id)
            assert procedure is not None
            items = fee_items(procedure)
            amount = sum(int(item["amount_vnd"]) for item in items)
            if amount <= 0:
                return None
            return PaymentView(reference=reference_for(dossier.code, event.seq), dossier_code=dossier.code,
                               amount_vnd=amount, items=items, status=PaymentStatus.UNPAID,
                               deadline=event.occurred_at + timedelta(days=deadline_days))
    confirmed = await _latest_confirmed(session, dossier.id)
    return PaymentView.of(confirmed, dossier.code) if confirmed is not None else None


def _not_requested() -> DomainError:
    return DomainError(ErrorCode.PAYMENT_NOT_REQUESTED, field="dossierCode")


async def start_payment(session: AsyncSession, *, citizen_id: int, code: str, now: datetime,
                        deadline_days: int) -> PaymentView:
    """The citizen pays (or pays again): the payment with the order to pay, idempotent.

    A payment already PENDING or CONFIRMED is answered as it is (a retried request never opens a second
    order); a DECLINED one is pending again on the same order (the card can be tried again); an EXPIRED one
    gets a new order, its previous one being cancelled at the gateway. NOT_FOUND for another's dossier."""
    dossier = await citizen_dossier(session, citizen_id=citizen_id, code=code, for_update=True)
    assert dossier.id is not None
    if dossier.status != DossierStatus.PAYMENT_REQUESTED:
        confirmed = await _latest_confirmed(session, dossier.id)
        if confirmed is not None:  # the retry of a payment that went through: its receipt
            return PaymentView.of(confirmed, dossier.code)
        raise _not_requested()
    owed = await payment_of(session, dossier, deadline_days=deadline_days)
    if owed is None:
        raise _not_requested()
    event = await _request_event(session, dossier.id)
    assert event is not None
    row = await _row(session, dossier.id, event.seq)
    if row is not None and row.status in (PaymentStatus.PENDING, PaymentStatus.CONFIRMED):
        return PaymentView.of(row, dossier.code)
    if now > owed.deadline:
        raise DomainError(ErrorCode.PAYMENT_DEADLINE_PASSED, field="dossierCode",
                          deadline=owed.deadline.date().isoformat())
    if row is None:
        row = Payment(reference=owed.reference, dossier_id=dossier.id, citizen_id=dossier.citizen_id,
                      request_seq=event.seq, amount_vnd=owed.amount_vnd, items=owed.items, deadline=owed.deadline,
                      status=PaymentStatus.PENDING, created_at=now, updated_at=now)
    if row.status == PaymentStatus.EXPIRED or row.order_seq == 0:
        row.order_seq += 1
        row.order_reference = f"{row.reference}-{row.order_seq}"
        row.gateway_url, row.order_opened_at = None, None
    elif row.order_opened_at is not None:  # paying again after a decline: the poller waits for news again
        row.order_opened_at = now
    row.status, row.attempts, row.last_error, row.updated_at = PaymentStatus.PENDING, row.attempts + 1, None, now
    session.add(row)
    await session.flush()
    return PaymentView.of(row, dossier.code)


async def _locked(session: AsyncSession, order_reference: str) -> tuple[Dossier, Payment] | None:
    """The payment whose current or past order this is, under its dossier's row lock (taken first)."""
    reference = order_reference.rsplit("-", 1)[0]
    found = (await session.execute(select(Payment.dossier_id).where(Payment.reference == reference))).first()
    if found is None:
        return None
    code = (await session.execute(select(Dossier.code).where(Dossier.id == found[0]))).scalar_one()
    take(session, Lock.DOSSIER, [code])
    dossier = (await session.execute(select(Dossier).where(Dossier.id == found[0]).with_for_update())).scalars().one()
    payment = (await session.execute(select(Payment).where(Payment.reference == reference)
                                     .with_for_update())).scalars().one()
    return dossier, payment


async def record_order(session: AsyncSession, *, order_reference: str, gateway_url: str, now: datetime) -> None:
    """The gateway opened the order: the app can be sent to its payment page."""
    locked = await _locked(session, order_reference)
    if locked is None:
        return
    _, payment = locked
    if payment.order_reference != order_reference or payment.gateway_url is not None:
        return
    payment.gateway_url, payment.order_opened_at, payment.updated_at = gateway_url[:500], now, now
    session.add(payment)
    await session.flush()


def _amount(value: int) -> str:
    return f"{value:,}".replace(",", ".")


async def settle(session: AsyncSession, *, order_reference: str, outcome: str, now: datetime,
                 transaction_id: str | None = None, amount_vnd: int | None = None,
                 reason: str | None = None) -> Settlement:
    """Apply the gateway's word about an order: `paid`, `declined` or `cancelled`. Idempotent.

    `paid` confirms the payment whatever its state (the gateway charged it: the money is there), unless the
    amount differs; then, if the dossier still waits for this payment, it moves to PROCESSING with the
    receipt as the event's note, and the agency holding it is told (a forward job). `declined` and
    `cancelled` only change a payment whose current order they are about."""
    locked = await _locked(session, order_reference)
    if locked is None:
        return Settlement.UNKNOWN
    dossier, payment = locked
    status = PaymentStatus(payment.status)
    if outcome == "paid":
        if status is PaymentStatus.CONFIRMED:
            return Settlement.DUPLICATE
        if amount_vnd is not None and amount_vnd != payment.amount_vnd:
            payment.last_error, payment.updated_at = "AMOUNT_MISMATCH", now
            session.add(payment)
            return Settlement.AMOUNT_MISMATCH
        payment.status, payment.transaction_id = PaymentStatus.CONFIRMED, (transaction_id or order_reference)[:64]
        payment.paid_at, payment.updated_at, payment.last_error = now, now, None
        session.add(payment)
        await session.flush()
        await _move_on(session, dossier, payment, now=now)
        return Settlement.APPLIED
    if payment.order_reference != order_reference or status not in OPEN_STATUSES:
        return Settlement.STALE
    if outcome == "declined":
        if status is PaymentStatus.DECLINED and payment.last_error == (reason or "DECLINED")[:64]:
            return Settlement.DUPLICATE
        payment.status, payment.last_error = PaymentStatus.DECLINED, (reason or "DECLINED")[:64]
    elif outcome == "cancelled":
        payment.status, payment.last_error = PaymentStatus.EXPIRED, "ORDER_TIMED_OUT"
    else:
        return Settlement.STALE
    payment.updated_at = now
    session.add(payment)
    await session.flush()
    return Settlement.APPLIED


async def _move_on(session: AsyncSession, dossier: Dossier, payment: Payment, *, now: datetime) -> None:
    """Back to PROCESSING if the dossier still waits for this very payment request (a dossier withdrawn
    meanwhile keeps its status: the receipt stays readable on it)."""
    assert dossier.id is not None
    if dossier.status != DossierStatus.PAYMENT_REQUESTED:
        return
    event = await _request_event(session, dossier.id)
    if event is None or event.seq != payment.request_seq:
        return
    amount = _amount(payment.amount_vnd)
    moved = await change_status(
        session, dossier=dossier, target=DossierStatus.PROCESSING, source="system",
        external_id=f"payment:{payment.reference}", occurred_at=now,
        note_vi=f"Đã thanh toán {amount} đồng (mã thanh toán {payment.reference}, mã giao dịch "
                f"{payment.transaction_id}).",
        note_en=f"Paid {amount} VND (payment reference {payment.reference}, transaction {payment.transaction_id}).")
    await enqueue_action(session, dossier=dossier, action=ForwardAction.PAYMENT, event_seq=moved.seq, now=now,
                         answers={"payment_reference": payment.reference, "amount_vnd": payment.amount_vnd,
                                  "transaction_id": payment.transaction_id, "paid_at": now.isoformat()})


@dataclass(frozen=True)
class Due:
    """A payment the poller must look at: without an order yet (`gateway_url` None), or without news."""

    order_reference: str
    amount_vnd: int
    description: str
    gateway_url: str | None
    order_opened_at: datetime | None


async def due_for_polling(session: AsyncSession, *, now: datetime, after: timedelta, limit: int = 50,
                          citizen_id: int | None = None) -> list[Due]:
    """Open payments whose order is not open yet, or was opened more than `after` ago without the gateway's
    word (its notification lost, or never sent); only the citizen's with `citizen_id`."""
    query = (select(Payment, Dossier.code).join(Dossier, col(Dossier.id) == Payment.dossier_id)
             .where(col(Payment.status).in_([s.value for s in OPEN_STATUSES]),
                    or_(col(Payment.gateway_url).is_(None), col(Payment.order_opened_at) <= now - after)))
    if citizen_id is not None:
        query = query.where(Payment.citizen_id == citizen_id)
    query = query.order_by(col(Payment.updated_at)).limit(limit)
    return [Due(order_reference=row.order_reference or "", amount_vnd=row.amount_vnd,
                description=order_description(code), gateway_url=row.gateway_url,
                order_opened_at=row.order_opened_at)
            for row, code in (await session.execute(query)).all() if row.order_reference]


def order_description(dossier_code: str) -> str:
    """What the gateway shows on its page and statement: the dossier code only, nothing personal."""
    return f"Phi ho so {dossier_code}"


async def count_confirmed(session: AsyncSession, dossier_id: int) -> int:
    query = select(func.count()).where(Payment.dossier_id == dossier_id, Payment.status == PaymentStatus.CONFIRMED)
    return int((await session.execute(query)).scalar_one())


async def view_by_reference(session: AsyncSession, reference: str) -> PaymentView | None:
    query = (select(Payment, Dossier.code).join(Dossier, col(Dossier.id) == Payment.dossier_id)
             .where(Payment.reference == reference))
    found = (await session.execute(query)).first()
    return PaymentView.of(found[0], found[1]) if found is not None else None


async def order_reference_of(session: AsyncSession, reference: str) -> str | None:
    """The payment's current order at the gateway (None before the citizen started paying)."""
    query = select(Payment.order_reference).where(Payment.reference == reference)
    return (await session.execute(query)).scalars().first()
