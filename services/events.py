"""The shared status-event body and its translation to national terms with a service's vocabulary.

Every field is checked here, with the same limits on every database (`core.agency_events`), so a body
PostgreSQL would refuse is answered 400 with what is wrong, field by field, instead of a 500 the agency
would retry forever. The body is documented in docs/PLUGGING_IN_A_SERVICE.md (section 5).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
    return StatusEvent(event_id=body.event_id, dossier_code=body.dossier_ref, status=vocabulary[body.status],
                       occurred_at=body.occurred_at, note_vi=body.note_vi, note_en=body.note_en)
