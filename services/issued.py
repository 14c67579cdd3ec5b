"""What the built-in sandboxes issue for a returned dossier: the document an agency would hand the citizen.

Shared helpers so each sandbox says only which document its procedures give (`ISSUES` in its module). The
holder is whom the document is about: the applicant (`self`) or the child a form names (`child`).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from core.clock import utc_now
from services.sandbox_kit import Received


def holder(item: Received) -> dict[str, Any]:
    form = item.body.get("form", {})
    if isinstance(form, dict) and form.get("child_name"):
        return {"relation": "child", "name": str(form["child_name"]),
                "birth_date": str(form.get("child_birth_date") or "") or None}
    return {"relation": "self", "name": str(form.get("applicant_name") or "") or "—",
            "id_number": str(item.body.get("applicant_id_number") or "") or None}


def document(item: Received, *, kind: str, prefix: str, title_vi: str, title_en: str,
             valid_days: int | None = None, valid_until: date | None = None) -> dict[str, Any]:
    today = utc_now().date()
    if valid_days is not None:
        valid_until = today + timedelta(days=valid_days)
    return {"v": 1, "kind": kind, "number": f"{prefix}-{uuid.uuid4().hex[:10].upper()}", "title_vi": title_vi,
            "title_en": title_en, "holder": holder(item), "valid_from": today.isoformat(),
            "valid_until": valid_until.isoformat() if valid_until else None}


def procedure_of(item: Received) -> str:
    return str(item.body.get("procedure_code", ""))
