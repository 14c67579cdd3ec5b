"""Translating an agency's status event to national terms, for agencies with their own status words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.agency_events import StatusEvent
from core.dossier_status import DossierStatus


def status_event(payload: Mapping[str, Any], vocabulary: Mapping[str, DossierStatus]) -> StatusEvent:
    """Raise ValueError on a missing field, an unknown status word or a bad timestamp."""
    try:
        word = str(payload["status"])
        occurred = datetime.fromisoformat(str(payload["occurred_at"]))
        event_id, dossier = str(payload["event_id"]), str(payload["dossier_ref"])
    except KeyError as missing:
        raise ValueError(f"missing field {missing}") from None
    if word not in vocabulary:
        raise ValueError(f"unknown status {word!r}")
    if occurred.tzinfo is None:
        raise ValueError("occurred_at needs a time zone")
    return StatusEvent(event_id=event_id[:128], dossier_code=dossier[:64], status=vocabulary[word],
                       occurred_at=occurred, note_vi=payload.get("note_vi"), note_en=payload.get("note_en"))
