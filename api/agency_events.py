"""`POST /agencies/{service}/events`: status events from agencies.

Checks, in order: the service is loaded (404), the timestamp header is ASCII digits (401 BAD_TIMESTAMP)
inside the replay window (401 STALE_TIMESTAMP), the signature header is `sha256=<64 hex>` and the
HMAC-SHA256 over `timestamp + "." + body` matches the agency's secret (401 BAD_SIGNATURE), the body is UTF-8
JSON of bounded size and depth (413 BODY_TOO_LARGE, 400 BAD_JSON) and an event the service understands
(400 BAD_EVENT, with each problem by field). Then core applies it: a repeat of an event answers 200
`duplicate`, an event id reused with other content 409 `conflict`, an impossible transition 409 `rejected`
(recorded, dossier unchanged), a dossier not forwarded to this agency 404. A correctly signed event over
the service's quota (`SUPERAPP_QUOTA_SERVICE_*`) is 429 RATE_LIMITED with Retry-After, nothing applied.
Every answer is a JSON object with `outcome`; refusals add `reason`: an agency can branch on both and never
sees a 500 for what it sent.
Nothing from the body is logged but ids and statuses. docs/PLUGGING_IN_A_SERVICE.md is the contract.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import pydantic_core
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.quota import Quotas
from core.agency_events import FieldProblem, InvalidEvent, Outcome, StatusEvent, apply_event
from core.clock import utc_now
from core.db import Database
from core.settings import Settings
from core.signatures import VerifyKey
from services.registry import ServicePlugin, ServiceRegistry
from services.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

log = logging.getLogger("superapp.agency_events")

MAX_EVENT_BYTES = 65_536  # an event is a few small fields: two 2,000-character notes fit many times over
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: isdigit also takes "²" and "١"
_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")


class Refusal(StrEnum):
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    UNKNOWN_SERVICE = "UNKNOWN_SERVICE"
    BAD_TIMESTAMP = "BAD_TIMESTAMP"
    STALE_TIMESTAMP = "STALE_TIMESTAMP"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    BAD_JSON = "BAD_JSON"
    BAD_EVENT = "BAD_EVENT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    BAD_GZIP = "BAD_GZIP"  # answered by the gzip middleware (api/compression.py), before this endpoint
    RATE_LIMITED = "RATE_LIMITED"


RETRY_AFTER_SECONDS = 60
_STATUS = {Outcome.APPLIED: 200, Outcome.DUPLICATE: 200, Outcome.CONFLICT: 409, Outcome.REJECTED: 409,
           Outcome.UNKNOWN_DOSSIER: 404}
OUTCOME_DETAIL: dict[Outcome, dict[str, str]] = {
    Outcome.CONFLICT: {"reason": "EVENT_ID_REUSED",
                       "message": "this event id was already used for an event with other content; "
                                  "send a new event id for a new event"},
    Outcome.REJECTED: {"reason": "INVALID_TRANSITION"},
}


def _refuse(status: int, reason: Refusal, message: str, problems: list[FieldProblem] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"outcome": "refused", "reason": reason.value, "message": message}
    if problems is not None:
        body["errors"] = [problem.as_json() for problem in problems]
    return JSONResponse(body, status_code=status)


def _parse_json(body: bytes) -> Any:
    """Raise ValueError for anything but UTF-8 JSON: invalid UTF-8, lone surrogates, numbers beyond range,
    NaN, and nesting deeper than 200 levels (jiter's limit; `json.loads` would raise RecursionError)."""
    return pydantic_core.from_json(body, allow_inf_nan=False)


async def _apply(db: Database, code: str, event: StatusEvent, now: datetime,
                 keys: Sequence[VerifyKey]) -> Outcome:
    """One transaction; once more if a concurrent delivery of the same event id won the insert (the second
    try sees its record and answers `duplicate` or `conflict`)."""
    async def apply(session: AsyncSession) -> Outcome:
        return await apply_event(session, service_code=code, event=event, now=now, keys=keys)

    try:
        return await db.transaction(apply)
    except IntegrityError:
        return await db.transaction(apply)


async def signed_json(request: Request, *, registry: ServiceRegistry, quotas: Quotas | None, window: float,
                      noun: str, plural: str, max_bytes: int
                      ) -> tuple[str, ServicePlugin, dict[str, Any], datetime] | JSONResponse:
    """The service, its plug-in, the JSON object and our clock's time of a request an agency signed with its
    secret (status events, announcements), or the refusal to answer: the same checks in the same order for
    every signed agency request, the quota charged only once the signature vouches for the service."""
    if request.method != "POST":
        refusal = _refuse(405, Refusal.METHOD_NOT_ALLOWED, f"{plural} are sent with POST")
        refusal.headers["Allow"] = "POST"
        return refusal
    code = request.path_params["service"]
    plugin = registry.get(code)
    if plugin is None and code in registry.failures:
        # Installed but not serving (its settings, a clash): the agency keeps the request and retries.
        refusal = _refuse(503, Refusal.SERVICE_UNAVAILABLE,
                          f"this service is installed but not serving right now; send the {noun} again later")
        refusal.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return refusal
    if plugin is None or plugin.settings is None:
        return _refuse(404, Refusal.UNKNOWN_SERVICE, "no such service here")
    stamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not _TIMESTAMP.fullmatch(stamp):
        return _refuse(401, Refusal.BAD_TIMESTAMP, f"{TIMESTAMP_HEADER} must be Unix seconds (ASCII digits)")
    now = utc_now()
    if abs(now.timestamp() - int(stamp)) > window:
        log.warning("%s from %s refused: timestamp outside the replay window", noun, code)
        return _refuse(401, Refusal.STALE_TIMESTAMP, f"{TIMESTAMP_HEADER} is more than {window:g} s from our clock")
    body = await request.body()
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not (_SIGNATURE.fullmatch(signature) and verify(plugin.settings.secret_bytes, stamp, body, signature.lower())):
        log.warning("%s from %s refused: bad signature", noun, code)
        return _refuse(401, Refusal.BAD_SIGNATURE, f"{SIGNATURE_HEADER} does not match the body")
    # Charged once the service's own secret vouches for the request: nobody else can spend its quota.
    verdict = await quotas.charge_service(code) if quotas is not None else None
    if verdict is not None and not verdict.allowed:
        log.warning("%s from %s refused: over its quota", noun, code)
        refusal = _refuse(429, Refusal.RATE_LIMITED, f"this service sent more {plural} than its quota allows; "
                          "send this one again after Retry-After seconds, with a fresh timestamp and signature")
        refusal.headers["Retry-After"] = str(verdict.retry_after_seconds)
        return refusal
    if len(body) > max_bytes:
        return _refuse(413, Refusal.BODY_TOO_LARGE, f"an {noun} body is at most {max_bytes} bytes")
    try:
        payload = _parse_json(body)
    except ValueError:
        return _refuse(400, Refusal.BAD_JSON, "the body is not UTF-8 JSON (or is nested too deeply)")
    if not isinstance(payload, dict):
        return _refuse(400, Refusal.BAD_EVENT, "the body must be a JSON object",
                       [FieldProblem(None, "INVALID_TYPE", "must be a JSON object")])
    return code, plugin, payload, now


def events_endpoint(*, settings: Settings, db: Database, registry: ServiceRegistry,
                    quotas: Quotas | None = None) -> Callable[[Request], Awaitable[JSONResponse]]:
    window = settings.agencies.agency_event_window_seconds

    async def receive(request: Request) -> JSONResponse:
        signed = await signed_json(request, registry=registry, quotas=quotas, window=window,
                                   noun="event", plural="status events", max_bytes=MAX_EVENT_BYTES)
        if isinstance(signed, JSONResponse):
            return signed
        code, plugin, payload, now = signed
        try:
            event = plugin.parse_event(payload)
        except InvalidEvent as invalid:
            log.warning("event from %s refused: %s", code, invalid)  # field names and codes, never values
            return _refuse(400, Refusal.BAD_EVENT, "the event cannot be applied as sent", invalid.problems)
        except (ValueError, TypeError, LookupError, AttributeError, NotImplementedError) as error:
            # A plug-in's own parse_event refused it without saying which field.
            log.warning("event from %s refused by its plug-in: %s", code, type(error).__name__)
            return _refuse(400, Refusal.BAD_EVENT, "the event cannot be applied as sent",
                           [FieldProblem(None, "INVALID_VALUE", "this service cannot read the event")])
        outcome = await _apply(db, code, event, now, plugin.verify_keys())
        log.info("event %s from %s for dossier %s -> %s: %s", event.event_id, code, event.dossier_code,
                 event.status, outcome)
        return JSONResponse({"outcome": outcome.value, **OUTCOME_DETAIL.get(outcome, {})}, status_code=_STATUS[outcome])

    return receive
