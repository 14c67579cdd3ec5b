"""A loopback sandbox payment gateway: a real Starlette HTTP server behaving like a card-payment gateway.

For development, demos and tests only. Our server opens orders (`POST /orders`, signed, idempotent by
`Idempotency-Key`), asks about them (`POST /orders/{ref}/status`) and cancels them (`POST
/orders/{ref}/cancel`). The citizen (the app's web view, or a test) posts a card number to the order's
payment page (`POST /pay/{ref}`, or the form at `GET /pay/{ref}`); the gateway answers at once and then
notifies our `POST /payments/callback` asynchronously with an HMAC-signed notification. An order is
charged at most once: a card posted to a paid order is refused.

Test cards (any expiry, any CVC):

| card | what the gateway does |
|---|---|
| 4111 1111 1111 1111 | confirms: charges the order and notifies `paid` |
| 4000 0000 0000 0002 | declines (`CARD_DECLINED`) and notifies `declined`; the order can be paid again |
| 4000 0000 0000 0119 | the bank never answers: the order stays `processing`, no notification (cancel it) |

Controls: `POST /_control/callbacks` `{"drop": true}` loses every notification from then on (the order is
still paid: only the poller can learn it), `GET /_control/charges` lists the charges made (the gateway's
own record: one per paid order), `GET /_control/orders`, `GET /_control/requests` (counts by route),
`GET /_control/notifications` (sent and dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from core.clock import utc_now
from core.text import ascii_digits
from services.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers, verify

log = logging.getLogger("superapp.payment_sandbox")

CARD_CONFIRMS = "4111111111111111"
CARD_DECLINES = "4000000000000002"
CARD_TIMES_OUT = "4000000000000119"
TEST_CARDS = {CARD_CONFIRMS: "confirms", CARD_DECLINES: "declines", CARD_TIMES_OUT: "never answers (times out)"}


@dataclass
class Order:
    reference: str
    amount_vnd: int
    description: str
    notify_url: str | None
    status: str = "open"  # open | processing | declined | paid | cancelled
    transaction_id: str | None = None
    reason: str | None = None
    cards_tried: int = 0

    def state(self, base_url: str) -> dict[str, Any]:
        return {"order_reference": self.reference, "status": self.status, "amount_vnd": self.amount_vnd,
                "payment_url": f"{base_url}/pay/{self.reference}", "transaction_id": self.transaction_id,
                "reason": self.reason}


@dataclass
class SandboxGateway:
    secret: bytes
    callback_url: str  # our server's base URL; an order's `notify_url` wins
    public_url: str = "http://127.0.0.1:8120"  # where the payment pages are (the app's web view opens them)
    drop_callbacks: bool = False
    orders: dict[str, Order] = field(default_factory=dict)
    charges: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    seen: Counter[str] = field(default_factory=Counter)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def _signed(self, request: Request, body: bytes) -> bool:
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        return 0 < len(stamp) <= 12 and ascii_digits(stamp) and verify(self.secret, stamp, body, signature)

    async def open_order(self, request: Request) -> Response:
        self.seen["open"] += 1
        body = await request.body()
        if not self._signed(request, body):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        data = json.loads(body)
        reference = request.headers.get("idempotency-key") or ""
        if not reference or reference != data.get("order_reference"):
            return JSONResponse({"error": "Idempotency-Key must be the order reference"}, status_code=400)
        if reference in self.orders:
            return JSONResponse(self.orders[reference].state(self.public_url))
        amount = data.get("amount_vnd")
        if not isinstance(amount, int) or amount <= 0:
            return JSONResponse({"error": "amount_vnd must be a positive integer"}, status_code=400)
        self.orders[reference] = Order(reference=reference, amount_vnd=amount,
                                       description=str(data.get("description", ""))[:200],
                                       notify_url=data.get("notify_url") or None)
        return JSONResponse(self.orders[reference].state(self.public_url), status_code=201)

    async def order_status(self, request: Request) -> Response:
        self.seen["status"] += 1
        if not self._signed(request, await request.body()):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        order = self.orders.get(request.path_params["reference"])
        if order is None:
            return JSONResponse({"error": "no such order"}, status_code=404)
        return JSONResponse(order.state(self.public_url))

    async def cancel_order(self, request: Request) -> Response:
        self.seen["cancel"] += 1
        if not self._signed(request, await request.body()):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        order = self.orders.get(request.path_params["reference"])
        if order is None:
            return JSONResponse({"error": "no such order"}, status_code=404)
        if order.status == "paid":
            return JSONResponse(order.state(self.public_url), status_code=409)
        order.status, order.reason = "cancelled", "CANCELLED"
        return JSONResponse(order.state(self.public_url))

    async def page(self, request: Request) -> Response:
        """The payment page the app's web view opens (a plain form; the demo's citizen types a test card)."""
        order = self.orders.get(request.path_params["reference"])
        if order is None:
            return HTMLResponse("<p>No such order</p>", status_code=404)
        cards = "".join(f"<li><code>{c}</code>: {what}</li>" for c, what in TEST_CARDS.items())
        return HTMLResponse(
            f"<!doctype html><meta charset=utf-8><title>Sandbox gateway</title>"
            f"<h1>{html.escape(order.description)}</h1><p>{order.amount_vnd:,} VND, order "
            f"{html.escape(order.reference)}: {order.status}</p><form method=post>"
            f"<input name=card_number placeholder='card number'><button>Pay</button></form><ul>{cards}</ul>")

    async def pay(self, request: Request) -> Response:
        """A card posted to the order's page (JSON `{"card_number": ...}` or the form)."""
        self.seen["pay"] += 1
        order = self.orders.get(request.path_params["reference"])
        if order is None:
            return JSONResponse({"error": "no such order"}, status_code=404)
        body = await request.body()
        try:  # JSON from the app's web view or a test; the page's own form posts urlencoded
            data = json.loads(body) if request.headers.get("content-type", "").startswith("application/json") \
                else {k: v[0] for k, v in parse_qs(body.decode()).items()}
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"error": "send card_number as JSON or a form"}, status_code=400)
        if not isinstance(data, dict):
            return JSONResponse({"error": "send card_number as JSON or a form"}, status_code=400)
        card = "".join(ch for ch in str(data.get("card_number", "")) if ch in "0123456789")
        if order.status in ("paid", "cancelled", "processing"):
            return JSONResponse({**order.state(self.public_url), "error": f"order is {order.status}"},
                                status_code=409)
        order.cards_tried += 1
        if card == CARD_CONFIRMS:
            order.status, order.reason = "paid", None
            order.transaction_id = f"GW{uuid.uuid4().hex[:16].upper()}"
            self.charges.append({"order_reference": order.reference, "amount_vnd": order.amount_vnd,
                                 "transaction_id": order.transaction_id, "at": utc_now().isoformat()})
            self._notify(order)
        elif card == CARD_TIMES_OUT:
            order.status = "processing"
        else:
            order.status, order.reason = "declined", "CARD_DECLINED"
            self._notify(order)
        return JSONResponse(order.state(self.public_url))

    def _notify(self, order: Order) -> None:
        """After answering the card's page: the notification goes on its own, like a real gateway's IPN."""
        event = {"event_id": str(uuid.uuid4()), "order_reference": order.reference, "status": order.status,
                 "amount_vnd": order.amount_vnd, "transaction_id": order.transaction_id, "reason": order.reason,
                 "occurred_at": utc_now().isoformat()}
        if self.drop_callbacks:
            self.notifications.append({**event, "delivered": False, "dropped": True})
            return
        task = asyncio.create_task(self._send(order.notify_url or f"{self.callback_url}/payments/callback", event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, url: str, event: dict[str, Any]) -> None:
        body = json.dumps(event).encode()
        record: dict[str, Any] = {**event, "dropped": False, "delivered": False}
        self.notifications.append(record)
        try:
            async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
                answer = await http.post(url, content=body,
                                         headers=signed_headers(self.secret, str(int(utc_now().timestamp())), body))
            record["delivered"], record["answer"] = answer.status_code == 200, answer.status_code
        except httpx.HTTPError as error:
            log.warning("sandbox gateway: notification failed: %s", type(error).__name__)

    async def set_callbacks(self, request: Request) -> Response:
        body = await request.json()
        self.drop_callbacks = bool(body.get("drop"))
        return JSONResponse({"drop": self.drop_callbacks})

    async def list_charges(self, _: Request) -> Response:
        return JSONResponse(self.charges)

    async def list_orders(self, _: Request) -> Response:
        return JSONResponse([o.state(self.public_url) | {"cards_tried": o.cards_tried} for o in self.orders.values()])

    async def list_notifications(self, _: Request) -> Response:
        return JSONResponse(self.notifications)

    async def count_requests(self, _: Request) -> Response:
        return JSONResponse(dict(self.seen))

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            yield
            for task in list(self._tasks):
                task.cancel()

        return Starlette(lifespan=lifespan, routes=[
            Route("/orders", self.open_order, methods=["POST"]),
            Route("/orders/{reference}/status", self.order_status, methods=["POST"]),
            Route("/orders/{reference}/cancel", self.cancel_order, methods=["POST"]),
            Route("/pay/{reference}", self.page, methods=["GET"]),
            Route("/pay/{reference}", self.pay, methods=["POST"]),
            Route("/_control/callbacks", self.set_callbacks, methods=["POST"]),
            Route("/_control/charges", self.list_charges),
            Route("/_control/orders", self.list_orders),
            Route("/_control/notifications", self.list_notifications),
            Route("/_control/requests", self.count_requests),
        ])
