"""`POST /agencies/{service}/announcements`: an agency publishes (or withdraws) a home-screen announcement.

Signed exactly like status events (HMAC-SHA256 over `timestamp + "." + body`, the same headers, secret, replay
window and service quota: api/agency_events.py), and answered the same way: a JSON object with `outcome`,
refusals with `reason` and, for a body that cannot be stored, `errors` by field. A service speaks only for its
own agency (`ServicePlugin.agency_code`): the body names no agency. The text is checked as an operator's is
(core/announcements.py): bounded lengths, and no ID number or phone number (`ANNOUNCEMENT_PERSONAL_DATA`), since
every citizen, signed in or not, sees it.

Body: `announcement_id` (the agency's id, 1-128 printable ASCII; a redelivery with the same content answers
`duplicate`, other content under the same id 409 `conflict`), `title_vi`, `title_en`, `body_vi`, `body_en`,
`starts_at`, `ends_at` (ISO 8601 with offset), `provinces` (3-digit codes, empty or absent: nationwide),
`priority` (0-100, default 0). `{"announcement_id": "...", "withdraw": true}` withdraws one at once.
Nothing from the body is logged but the service and the agency's id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.agency_events import Refusal, _refuse, signed_json
from api.quota import Quotas
from core import announcements
from core.agency_events import FieldProblem
from core.announcements import Draft, Published
from core.clock import utc_now
from core.db import Database
from core.errors import DomainError
from core.settings import Settings
from services.registry import ServiceRegistry

log = logging.getLogger("superapp.agency_announcements")

MAX_ANNOUNCEMENT_BYTES = 16_384  # four bounded texts and a province list, with room for JSON escapes
_EXTERNAL_ID = re.compile(r"[\x21-\x7e]{1,128}")
_FIELD_NAMES = {"titleVi": "title_vi", "titleEn": "title_en", "bodyVi": "body_vi", "bodyEn": "body_en",
                "endsAt": "ends_at", "priority": "priority", "provinces": "provinces", "agencyCode": None}
_STATUS = {Published.CREATED: 201, Published.DUPLICATE: 200, Published.CONFLICT: 409, Published.WITHDRAWN: 200,
           Published.UNKNOWN: 404}


def _moment(payload: dict[str, Any], name: str, problems: list[FieldProblem]) -> datetime | None:
    value = payload.get(name)
    if not isinstance(value, str) or len(value) > 40:
        problems.append(FieldProblem(name, "REQUIRED" if value is None else "INVALID_TYPE",
                                     "an ISO 8601 date-time with a UTC offset"))
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        problems.append(FieldProblem(name, "INVALID_FORMAT", "an ISO 8601 date-time with a UTC offset"))
        return None
    return moment


def _draft(payload: dict[str, Any], agency_code: str) -> Draft | list[FieldProblem]:
    """The body as a draft, or what is wrong with its shape (types, required fields); the text's own rules
    are core's (`announcements.validate`)."""
    problems: list[FieldProblem] = []
    texts: dict[str, str] = {}
    for name in ("title_vi", "title_en", "body_vi", "body_en"):
        value = payload.get(name)
        if isinstance(value, str):
            texts[name] = value
        else:
            problems.append(FieldProblem(name, "REQUIRED" if value is None else "INVALID_TYPE", "a string"))
    starts, ends = _moment(payload, "starts_at", problems), _moment(payload, "ends_at", problems)
    provinces = payload.get("provinces", [])
    if not isinstance(provinces, list) or len(provinces) > 63 or not all(isinstance(p, str) for p in provinces):
        problems.append(FieldProblem("provinces", "INVALID_TYPE", "a list of at most 63 three-digit codes"))
    priority = payload.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        problems.append(FieldProblem("priority", "INVALID_TYPE", "an integer 0-100"))
    if problems or starts is None or ends is None:
        return problems
    return Draft(agency_code=agency_code, starts_at=starts, ends_at=ends, provinces=provinces, priority=priority,
                 **texts)


def _problems(error: DomainError) -> list[FieldProblem]:
    return [FieldProblem(_FIELD_NAMES.get(e.field or "", e.field), e.code.value, e.message_en) for e in error.errors]


def announcements_endpoint(*, settings: Settings, db: Database, registry: ServiceRegistry,
                           quotas: Quotas | None = None) -> Callable[[Request], Awaitable[JSONResponse]]:
    window = settings.agencies.agency_event_window_seconds

    async def receive(request: Request) -> JSONResponse:
        checked = await signed_json(request, registry=registry, quotas=quotas, window=window,
                                    noun="announcement", plural="announcements", max_bytes=MAX_ANNOUNCEMENT_BYTES)
        if isinstance(checked, JSONResponse):
            return checked
        code, plugin, payload, _ = checked
        external_id = payload.get("announcement_id")
        if not isinstance(external_id, str) or not _EXTERNAL_ID.fullmatch(external_id):
            return _refuse(400, Refusal.BAD_EVENT, "the announcement cannot be stored as sent",
                           [FieldProblem("announcement_id", "INVALID_FORMAT", "1-128 printable ASCII characters")])
        if payload.get("withdraw") is True:
            async def withdraw(session: AsyncSession) -> Published:
                return await announcements.withdraw_published(session, service_code=code, external_id=external_id,
                                                              now=utc_now())
            outcome = await db.transaction(withdraw)
        else:
            draft = _draft(payload, plugin.agency_code)
            if isinstance(draft, list):
                return _refuse(400, Refusal.BAD_EVENT, "the announcement cannot be stored as sent", draft)

            async def publish(session: AsyncSession, draft: Draft = draft) -> Published:
                return await announcements.publish(session, draft, service_code=code, external_id=external_id)
            try:
                try:
                    outcome = await db.transaction(publish)
                except IntegrityError:  # a concurrent delivery of the same id won the insert: compare with it
                    outcome = await db.transaction(publish)
            except DomainError as error:
                log.warning("announcement %s from %s refused: %s", external_id, code,
                            ", ".join(e.code.value for e in error.errors))
                return _refuse(400, Refusal.BAD_EVENT, "the announcement cannot be stored as sent", _problems(error))
        log.info("announcement %s from %s: %s", external_id, code, outcome)
        return JSONResponse({"outcome": outcome.value}, status_code=_STATUS[outcome])

    return receive
