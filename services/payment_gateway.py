"""Our side of the payment gateway's API: open an order, ask about it, cancel it.

The API is the one the loopback sandbox gateway serves (services/payment_sandbox.py); a real gateway (VNPay,
the national payment platform, ...) is adapted here and nowhere else. Requests are signed like the
gateway's notifications (HMAC-SHA256 over `timestamp + "." + body`, services/signing.py) and an order is
opened with an `Idempotency-Key` equal to its reference, so a retried call never opens a second one. The
card is never ours: the citizen types it on the gateway's page (`payment_url`).

Any network error, timeout, 5xx or unreadable answer is `GatewayUnavailable`: nothing is known, the caller
keeps the payment pending and the poller asks again later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from core.clock import utc_now
from core.settings import PaymentSettings
from services.signing import signed_headers


class GatewayUnavailable(Exception):
    """The gateway did not answer usefully; nothing is known about the order."""


class OrderUnknown(GatewayUnavailable):
    """The gateway says it has no such order (404): it was never opened there (or the sandbox restarted)."""


@dataclass(frozen=True)
class OrderState:
    """The gateway's word about an order: open | processing | declined | paid | cancelled."""

    order_reference: str
    status: str
    payment_url: str | None = None
    transaction_id: str | None = None
    amount_vnd: int | None = None
    reason: str | None = None

    @classmethod
    def parse(cls, body: Any) -> OrderState:
        if not isinstance(body, dict) or not isinstance(body.get("order_reference"), str) \
                or body.get("status") not in ("open", "processing", "declined", "paid", "cancelled"):
            raise GatewayUnavailable("unreadable order")

        def text(name: str) -> str | None:
            value = body.get(name)
            return value if isinstance(value, str) else None

        amount = body.get("amount_vnd")
        return cls(order_reference=body["order_reference"], status=body["status"], payment_url=text("payment_url"),
                   transaction_id=text("transaction_id"),
                   amount_vnd=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
                   reason=text("reason"))


class PaymentGateway:
    def __init__(self, settings: PaymentSettings) -> None:
        self.base_url = settings.gateway_url.rstrip("/")
        self.secret = settings.secret.get_secret_value().encode()
        self.timeout = settings.timeout_seconds
        self.notify_url = settings.notify_url

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
                    idempotency_key: str | None = None, ok: tuple[int, ...] = (200, 201)) -> OrderState:
        if not self.base_url:
            raise GatewayUnavailable("no gateway configured")
        content = json.dumps(body or {}).encode()
        headers = signed_headers(self.secret, str(int(utc_now().timestamp())), content)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as http:
                response = await http.request(method, f"{self.base_url}{path}", content=content, headers=headers)
        except httpx.HTTPError as error:
            raise GatewayUnavailable(type(error).__name__) from error
        if response.status_code == 404:
            raise OrderUnknown("no such order")
        if response.status_code not in ok:
            raise GatewayUnavailable(f"HTTP {response.status_code}")
        try:
            return OrderState.parse(response.json())
        except ValueError as error:
            raise GatewayUnavailable("not JSON") from error

    async def open_order(self, *, order_reference: str, amount_vnd: int, description: str) -> OrderState:
        body: dict[str, Any] = {"order_reference": order_reference, "amount_vnd": amount_vnd,
                                "currency": "VND", "description": description}
        if self.notify_url:
            body["notify_url"] = self.notify_url
        state = await self._call("POST", "/orders", body, idempotency_key=order_reference)
        if state.order_reference != order_reference or not state.payment_url:
            raise GatewayUnavailable("the order answered is not ours")
        return state

    async def status(self, order_reference: str) -> OrderState:
        return await self._call("POST", f"/orders/{quote(order_reference, safe='')}/status")

    async def cancel(self, order_reference: str) -> OrderState:
        """Cancel an unpaid order; a paid one answers its `paid` state instead (409), which counts too."""
        return await self._call("POST", f"/orders/{quote(order_reference, safe='')}/cancel", ok=(200, 409))
