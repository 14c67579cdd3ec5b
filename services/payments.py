"""The payment flow around the gateway: opening a payment's order, and the poller that recovers what the
gateway's notifications did not bring.

Database work (core/payments.py) and gateway calls never share a transaction: a payment is made PENDING
(committed), then its order is opened at the gateway (idempotent by its reference), then the order's page is
recorded. A crash or a gateway outage in between leaves a PENDING payment without a page, which the next
retry or the poller opens; the gateway's idempotency makes the second opening the first one.

The poller runs in every API process beside the forwarder (leases are not needed: everything it does is
idempotent). Each round it opens the orders not yet open, and asks the gateway about every payment left
without news for `SUPERAPP_PAYMENT_POLL_AFTER_SECONDS` (a lost notification): `paid` and `declined` are
applied as a notification would; an order still unsettled after `SUPERAPP_PAYMENT_ORDER_TIMEOUT_SECONDS`
is cancelled at the gateway and the payment EXPIRES (the citizen can pay again, on a new order), unless the
gateway answers that it was paid after all.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core import payments
from core.background import RoundLoop, pause
from core.clock import utc_now
from core.db import Database, is_outage
from core.errors import DomainError, ErrorCode
from core.settings import PaymentSettings
from services.payment_gateway import GatewayUnavailable, OrderState, OrderUnknown, PaymentGateway

log = logging.getLogger("superapp.payments")


async def open_order(db: Database, gateway: PaymentGateway, view: payments.PaymentView,
                     order_reference: str) -> payments.PaymentView:
    """Open the payment's order at the gateway and record its page; GatewayUnavailable leaves it to later."""
    state = await gateway.open_order(order_reference=order_reference, amount_vnd=view.amount_vnd,
                                     description=payments.order_description(view.dossier_code))
    assert state.payment_url is not None

    async def record(session: AsyncSession) -> None:
        await payments.record_order(session, order_reference=order_reference, gateway_url=state.payment_url or "",
                                    now=utc_now())
        if state.status == "paid":  # a decline the order remembers is the previous attempt's, not this one's
            await apply_state(session, state)

    await db.transaction(record)
    return await current(db, view.reference)


async def current(db: Database, reference: str) -> payments.PaymentView:
    async with db.read() as session:
        found = await payments.view_by_reference(session, reference)
    assert found is not None
    return found


async def apply_state(session: AsyncSession, state: OrderState) -> payments.Settlement | None:
    """The gateway's word from a status query, applied like its notification; None when it says nothing new."""
    if state.status in ("paid", "declined", "cancelled"):
        return await payments.settle(session, order_reference=state.order_reference, outcome=state.status,
                                     transaction_id=state.transaction_id, amount_vnd=state.amount_vnd,
                                     reason=state.reason, now=utc_now())
    return None


async def pay(db: Database, gateway: PaymentGateway, settings: PaymentSettings, *, citizen_id: int,
              code: str) -> payments.PaymentView:
    """`payDossierFee`: the payment, PENDING with its gateway page (or CONFIRMED when it went through
    already). PAYMENT_GATEWAY_UNAVAILABLE when the page could not be opened: nothing was charged, and a
    retry (or the poller) opens it."""
    async def start(session: AsyncSession) -> tuple[payments.PaymentView, str | None]:
        view = await payments.start_payment(session, citizen_id=citizen_id, code=code, now=utc_now(),
                                            deadline_days=settings.deadline_days)
        return view, await payments.order_reference_of(session, view.reference)

    view, order_reference = await db.transaction(start)
    if view.status is not payments.PaymentStatus.PENDING or not order_reference:
        return view
    # Opened again even when it has a page: idempotent at the gateway (the same order comes back), and it
    # settles what the gateway already knows (a card paid while a notification is on its way).
    try:
        return await open_order(db, gateway, view, order_reference)
    except GatewayUnavailable as error:
        log.warning("payment gateway unavailable opening an order: %s", error)
        if view.gateway_url is not None:  # the page the citizen has is still the one to pay on
            return view
        raise DomainError(ErrorCode.PAYMENT_GATEWAY_UNAVAILABLE, field="dossierCode") from error


async def open_unopened(db: Database, gateway: PaymentGateway, *, citizen_id: int) -> None:
    """Open the orders of the citizen's pending payments that have none yet (a `dossier.pay` intent); a gateway
    outage leaves them to the poller."""
    async with db.read() as session:
        due = await payments.due_for_polling(session, now=utc_now(), after=timedelta(days=36500),
                                             citizen_id=citizen_id)
    for item in due:
        try:
            await _open_and_record(db, gateway, item)
        except GatewayUnavailable as error:
            log.warning("payment gateway unavailable opening an order: %s", error)


async def _open_and_record(db: Database, gateway: PaymentGateway, item: payments.Due) -> None:
    state = await gateway.open_order(order_reference=item.order_reference, amount_vnd=item.amount_vnd,
                                     description=item.description)

    async def record(session: AsyncSession) -> None:
        await payments.record_order(session, order_reference=item.order_reference,
                                    gateway_url=state.payment_url or "", now=utc_now())
        if state.status == "paid":
            await apply_state(session, state)

    await db.transaction(record)


class PaymentPoller(RoundLoop):
    """Opens orders left unopened and asks the gateway about payments without news (see the module)."""

    task_name = "superapp-payment-poller"

    def __init__(self, *, db: Database, settings: PaymentSettings) -> None:
        super().__init__()
        self.db, self.settings = db, settings
        self.gateway = PaymentGateway(settings)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.poll_once()
            except Exception as error:  # the loop must outlive a bad round; the log says why
                if not is_outage(error):
                    log.exception("payment poller round failed")
            await pause(self._stopping, self.settings.poll_interval_seconds)

    async def poll_once(self, now: datetime | None = None) -> int:
        """One round as at `now` (default: the clock); returns how many payments it looked at."""
        now = now or utc_now()
        async with self.db.read() as session:
            due = await payments.due_for_polling(session, now=now,
                                                 after=timedelta(seconds=self.settings.poll_after_seconds))
        for item in due:
            try:
                await self._one(item, now)
            except GatewayUnavailable as error:
                log.warning("payment gateway unavailable while polling: %s", error)
        return len(due)

    async def _one(self, item: payments.Due, now: datetime) -> None:
        if item.gateway_url is None:
            await _open_and_record(self.db, self.gateway, item)
            return
        try:
            state = await self.gateway.status(item.order_reference)
        except OrderUnknown:  # never charged there: open it (again), the same reference, nothing paid twice
            await _open_and_record(self.db, self.gateway, item)
            return
        timeout = timedelta(seconds=self.settings.order_timeout_seconds)
        if state.status in ("open", "processing") and item.order_opened_at is not None \
                and now - item.order_opened_at >= timeout:
            state = await self.gateway.cancel(item.order_reference)
        settled = state

        async def apply(session: AsyncSession) -> None:
            outcome = await apply_state(session, settled)
            if outcome is not None and outcome is not payments.Settlement.DUPLICATE:
                log.info("payment order %s: %s from a status query (%s)", item.order_reference, settled.status,
                         outcome.value)

        await self.db.transaction(apply)
