"""`POST /payments/callback`: the payment gateway's signed notifications (its IPN).

Checks, in order, like the agencies' status events (api/agency_events.py): the timestamp header is ASCII
digits inside the replay window (401 BAD_TIMESTAMP / STALE_TIMESTAMP), the HMAC-SHA256 signature over
`timestamp + "." + body` matches `SUPERAPP_PAYMENT_SECRET` (401 BAD_SIGNATURE), the body is a small JSON
object (413 BODY_TOO_LARGE, 400 BAD_JSON) with an order reference and a status `paid` or `declined` (400
BAD_NOTIFICATION). Then core applies it (core/payments.py `settle`), idempotently: `applied`, `duplicate`,
`stale` (about an order no longer current), all 200 so the gateway stops resending; an order we never
opened is 404 `unknown`; a paid amount that is not the one owed is 409 `amount_mismatch` (nothing moves).
Only ids and outcomes are logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pydantic_core
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse

from core import payments
from core.clock import utc_now
from core.db import Database
from core.settings import Settings
from services.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

log = logging.getLogger("superapp.payments")

MAX_NOTIFICATION_BYTES = 16_384
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")
_REFERENCE = re.compile(r"[A-Za-z0-9.\-]{1,100}")
_STATUS = {payments.Settlement.APPLIED: 200, payments.Settlement.DUPLICATE: 200, payments.Settlement.STALE: 200,
           payments.Settlement.UNKNOWN: 404, payments.Settlement.AMOUNT_MISMATCH: 409}


def _refuse(status: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse({"outcome": "refused", "reason": reason, "message": message}, status_code=status)


def _text(payload: dict[str, Any], name: str, limit: int) -> str | None:
    value = payload.get(name)
    return value[:limit] if isinstance(value, str) and value and "\x00" not in value else None


def callback_endpoint(*, settings: Settings, db: Database) -> Callable[[Request], Awaitable[JSONResponse]]:
    secret = settings.payments.secret.get_secret_value().encode()
    window = settings.payments.callback_window_seconds

    async def receive(request: Request) -> JSONResponse:
        if request.method != "POST":
            refusal = _refuse(405, "METHOD_NOT_ALLOWED", "notifications are sent with POST")
            refusal.headers["Allow"] = "POST"
            return refusal
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        if not _TIMESTAMP.fullmatch(stamp):
            return _refuse(401, "BAD_TIMESTAMP", f"{TIMESTAMP_HEADER} must be Unix seconds (ASCII digits)")
        now = utc_now()
        if abs(now.timestamp() - int(stamp)) > window:
            log.warning("payment notification refused: timestamp outside the replay window")
            return _refuse(401, "STALE_TIMESTAMP", f"{TIMESTAMP_HEADER} is more than {window} s from our clock")
        body = await request.body()
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not (_SIGNATURE.fullmatch(signature) and verify(secret, stamp, body, signature.lower())):
            log.warning("payment notification refused: bad signature")
            return _refuse(401, "BAD_SIGNATURE", f"{SIGNATURE_HEADER} does not match the body")
        if len(body) > MAX_NOTIFICATION_BYTES:
            return _refuse(413, "BODY_TOO_LARGE", f"a notification is at most {MAX_NOTIFICATION_BYTES} bytes")
        try:
            payload = pydantic_core.from_json(body, allow_inf_nan=False)
        except ValueError:
            return _refuse(400, "BAD_JSON", "the body is not UTF-8 JSON")
        if not isinstance(payload, dict):
            return _refuse(400, "BAD_NOTIFICATION", "the body must be a JSON object")
        reference, status = payload.get("order_reference"), payload.get("status")
        amount = payload.get("amount_vnd")
        if not (isinstance(reference, str) and _REFERENCE.fullmatch(reference)) or status not in ("paid", "declined") \
                or (amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)
                                            or not 0 <= amount < 2**62)):
            return _refuse(400, "BAD_NOTIFICATION", "order_reference, status (paid | declined) and an integer "
                                                    "amount_vnd are required")

        async def apply(session: AsyncSession) -> payments.Settlement:
            return await payments.settle(session, order_reference=reference, outcome=status, now=now,
                                         transaction_id=_text(payload, "transaction_id", 64),
                                         amount_vnd=amount, reason=_text(payload, "reason", 64))

        outcome = await db.transaction(apply)
        log.info("payment notification for order %s (%s): %s", reference, status, outcome.value)
        return JSONResponse({"outcome": outcome.value}, status_code=_STATUS[outcome])

    return receive
