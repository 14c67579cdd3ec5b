"""The shared status-event body and its translation to national terms with a service's vocabulary.

Every field is checked here, with the same limits on every database (`core.agency_events`), so a body
PostgreSQL would refuse is answered 400 with what is wrong, field by field, instead of a 500 the agency
would retry forever. The body is documented in docs/PLUGGING_IN_A_SERVICE.md (section 5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, ValidationInfo

from core.agency_events import (
    DOSSIER_CODE_MAX,
    EVENT_ID_MAX,
    NOTE_MAX,
    STATUS_WORD_MAX,
    FieldProblem,
    InvalidEvent,
    StatusEvent,
    instant_in_range,
    text_problem,
)
from core.dossier_status import DossierStatus
from core.signatures import canonical_json
from core.wallet import HOLDER_RELATIONS, IssuedResult


def _text(maximum: int, *, single_token: bool, optional: bool = False) -> BeforeValidator:
    def check(value: Any, info: ValidationInfo) -> Any:
        if optional and value is None:
            return None
        problem = text_problem(str(info.field_name), value, maximum=maximum, single_token=single_token,
                               minimum=0 if optional else 1)
        if problem is not None:
            raise _Problem(problem)
        return value
    return BeforeValidator(check)


def _instant(value: Any) -> datetime:
    """ISO 8601 text with a time zone, nothing else (no Unix numbers, no local times)."""
    problem = FieldProblem("occurred_at", "INVALID_FORMAT", "an ISO 8601 date and time with a time zone, "
                           "between years 1 and 9999 in UTC")
    if not isinstance(value, str) or len(value) > 64:
        raise _Problem(problem)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Problem(problem) from None
    if not instant_in_range(parsed):
        raise _Problem(problem)
    return parsed


class _Problem(ValueError):
    """Carries our own FieldProblem through pydantic (it wraps a ValueError raised by a validator)."""

    def __init__(self, problem: FieldProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class EventBody(BaseModel):
    """`POST /agencies/<code>/events`: unknown keys are ignored, every known one is checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: Annotated[str, _text(EVENT_ID_MAX, single_token=True)]
    dossier_ref: Annotated[str, _text(DOSSIER_CODE_MAX, single_token=True)]
    status: Annotated[str, _text(STATUS_WORD_MAX, single_token=False)]
    occurred_at: Annotated[datetime, BeforeValidator(_instant)]
    note_vi: Annotated[str | None, _text(NOTE_MAX, single_token=False, optional=True)] = None
    note_en: Annotated[str | None, _text(NOTE_MAX, single_token=False, optional=True)] = None
    result: dict[str, Any] | None = None  # checked by `issued_result`


def _problems(error: ValidationError) -> list[FieldProblem]:
    found = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else None
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, _Problem):
            found.append(cause.problem)
        elif item["type"] == "missing":
            found.append(FieldProblem(name, "REQUIRED", "is required"))
        else:
            found.append(FieldProblem(name, "INVALID_TYPE", "must be a JSON object" if name is None else "invalid"))
    return found


def status_event(payload: Mapping[str, Any], vocabulary: Mapping[str, DossierStatus]) -> StatusEvent:
    """Raise InvalidEvent (a ValueError) naming each bad field, or an unknown status word with the words
    this service knows."""
    try:
        body = EventBody.model_validate(payload)
    except ValidationError as error:
        raise InvalidEvent(_problems(error)) from None
    if body.status not in vocabulary:
        raise InvalidEvent([FieldProblem("status", "UNKNOWN_STATUS", "not a status word of this service",
                                         allowed=tuple(vocabulary))])
    result = issued_result(body.result) if body.result is not None else None
    return StatusEvent(event_id=body.event_id, dossier_code=body.dossier_ref, status=vocabulary[body.status],
                       occurred_at=body.occurred_at, note_vi=body.note_vi, note_en=body.note_en, result=result)


# The issued document's fields we read, with the limits of the columns they are stored in.
_DOCUMENT_TEXT = {"kind": (64, True), "number": (64, False), "title_vi": (500, False), "title_en": (500, False),
                  "issuer": (64, True), "dossier_code": (DOSSIER_CODE_MAX, True)}
_KIND = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _date_of(name: str, value: Any, problems: list[FieldProblem]) -> date | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(FieldProblem(name, "INVALID_FORMAT", "an ISO 8601 date (YYYY-MM-DD) or null"))
    return None


def issued_result(value: Any) -> IssuedResult:
    """The `result` of an event: `{"document": {...}, "signature": "<base64url>", "kid": "agency:<code>:<id>"}`.
    Its shape is checked here (400 BAD_EVENT, field by field); its signature is checked when it is stored, and a
    document that does not verify is stored flagged, not refused (docs/PLUGGING_IN_A_SERVICE.md)."""
    if not isinstance(value, dict):
        raise InvalidEvent([FieldProblem("result", "INVALID_TYPE", "must be a JSON object")])
    problems: list[FieldProblem] = []
    for name, maximum in (("signature", 128), ("kid", 128)):
        problem = text_problem(f"result.{name}", value.get(name), maximum=maximum, single_token=True)
        if problem is not None:
            problems.append(problem)
    document = value.get("document")
    if not isinstance(document, dict):
        problems.append(FieldProblem("result.document", "INVALID_TYPE", "must be a JSON object"))
        raise InvalidEvent(problems)
    for name, (maximum, token) in _DOCUMENT_TEXT.items():
        problem = text_problem(f"result.document.{name}", document.get(name), maximum=maximum, single_token=token)
        if problem is not None:
            problems.append(problem)
    if isinstance(document.get("kind"), str) and not _KIND.fullmatch(document["kind"]):
        problems.append(FieldProblem("result.document.kind", "INVALID_FORMAT", "lower-case letters, digits and _"))
    agency_code = document.get("agency_code")
    if agency_code is not None:
        problem = text_problem("result.document.agency_code", agency_code, maximum=32, single_token=True)
        if problem is not None:
            problems.append(problem)
    holder = document.get("holder")
    if not isinstance(holder, dict) or holder.get("relation") not in HOLDER_RELATIONS:
        problems.append(FieldProblem("result.document.holder", "INVALID_VALUE", "an object whose relation is "
                                     "one of " + ", ".join(HOLDER_RELATIONS)))
    elif (problem := text_problem("result.document.holder.name", holder.get("name"), maximum=200,
                                  single_token=False)) is not None:
        problems.append(problem)
    try:
        issued_at: datetime | None = _instant(document.get("issued_at"))
    except _Problem:
        issued_at = None
        problems.append(FieldProblem("result.document.issued_at", "INVALID_FORMAT", "an ISO 8601 date and time "
                                     "with a time zone"))
    valid_from = _date_of("result.document.valid_from", document.get("valid_from"), problems)
    valid_until = _date_of("result.document.valid_until", document.get("valid_until"), problems)
    try:
        canonical_json(document)
    except ValueError:
        problems.append(FieldProblem("result.document", "INVALID_VALUE", "not representable as canonical JSON"))
    if problems:
        raise InvalidEvent(problems)
    assert issued_at is not None
    return IssuedResult(document=document, signature=value["signature"], kid=value["kid"], kind=document["kind"],
                        number=document["number"], title_vi=document["title_vi"], title_en=document["title_en"],
                        issuer=document["issuer"], dossier_code=document["dossier_code"], issued_at=issued_at,
                        valid_from=valid_from, valid_until=valid_until, agency_code=agency_code)
