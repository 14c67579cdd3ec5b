"""`POST /agencies/{service}/events`: status events from agencies.

Checks, in order: the service is loaded (404), the timestamp is inside the replay window (401), the
HMAC-SHA256 signature over `timestamp + "." + body` matches the agency's secret (401), the body is an event
the service understands (400). Then core applies it: a repeated event id answers 200 `duplicate`, an
impossible transition 409 `rejected` (recorded, dossier unchanged), a dossier not forwarded to this agency
404. Nothing from the body is logged but ids and statuses.
"""

from __future__ import annotations

import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from core.agency_events import Outcome, apply_event
from core.clock import utc_now
from core.db import Database
from core.settings import Settings
from core.text import ascii_digits
from services.registry import ServiceRegistry
from services.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

log = logging.getLogger("superapp.agency_events")

_STATUS = {Outcome.APPLIED: 200, Outcome.DUPLICATE: 200, Outcome.REJECTED: 409, Outcome.UNKNOWN_DOSSIER: 404}


def _refuse(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"outcome": "refused", "reason": reason}, status_code=status)


def events_endpoint(*, settings: Settings, db: Database, registry: ServiceRegistry):  # type: ignore[no-untyped-def]
    async def receive(request: Request) -> JSONResponse:
        code = request.path_params["service"]
        plugin = registry.get(code)
        if plugin is None or plugin.settings is None:
            return _refuse(404, "UNKNOWN_SERVICE")
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        body = await request.body()
        now = utc_now()
        if not ascii_digits(stamp) or abs(now.timestamp() - int(stamp)) > settings.agencies.agency_event_window_seconds:
            log.warning("event from %s refused: timestamp outside the replay window", code)
            return _refuse(401, "STALE_TIMESTAMP")
        if not verify(plugin.settings.secret_bytes, stamp, body, request.headers.get(SIGNATURE_HEADER, "")):
            log.warning("event from %s refused: bad signature", code)
            return _refuse(401, "BAD_SIGNATURE")
        try:
            event = plugin.parse_event(json.loads(body))
        except (ValueError, TypeError, AttributeError, NotImplementedError) as error:
            log.warning("event from %s refused: %s", code, error)
            return _refuse(400, "BAD_EVENT")
        async with db.write() as session:
            outcome = await apply_event(session, service_code=code, event=event, now=now)
        log.info("event %s from %s for dossier %s -> %s: %s", event.event_id, code, event.dossier_code,
                 event.status, outcome)
        return JSONResponse({"outcome": outcome.value}, status_code=_STATUS[outcome])

    return receive
