"""A stand-in for Vietnam Social Security's API: cards and card-issuance dossiers."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.clock import utc_now
from core.text import ascii_digits
from services.issued import document, procedure_of
from services.sandbox_kit import AgencySandbox, Received, asked_id_number

ROAD = ("received", "processing", "card_issued", "card_delivered")


def _sixth_birthday(item: Received) -> date | None:
    try:
        born = date.fromisoformat(str(item.body.get("form", {}).get("child_birth_date", "")))
    except ValueError:
        return None
    return born.replace(year=born.year + 6) if not (born.month == 2 and born.day == 29) else date(born.year + 6, 3, 1)


def issue(item: Received) -> dict[str, Any] | None:
    """A child's card is valid until the child turns six; a reissued card until the end of the year."""
    if procedure_of(item) == "1.001612":
        return document(item, kind="health_insurance_card", prefix="TE1", title_vi="Thẻ bảo hiểm y tế",
                        title_en="Health-insurance card", valid_until=_sixth_birthday(item))
    if procedure_of(item) == "1.000045":
        return document(item, kind="health_insurance_card", prefix="DN4", title_vi="Thẻ bảo hiểm y tế",
                        title_en="Health-insurance card", valid_until=date(utc_now().year, 12, 31))
    return None


def create_sandbox(*, secret: bytes, callback_url: str, advance_seconds: float) -> AgencySandbox:
    sandbox = AgencySandbox(code="social_insurance", secret=secret, callback_url=callback_url, road=ROAD,
                            stop_status="cancelled", advance_seconds=advance_seconds, issue=issue)

    async def card(request: Request) -> Response:
        id_number = await asked_id_number(request)
        if not (len(id_number) == 12 and ascii_digits(id_number)) or id_number.endswith("0000"):
            return JSONResponse({"error": "no card"}, status_code=404)
        return JSONResponse({"number": f"DN4{id_number[:2]}{id_number[-10:]}", "valid_from": "2026-01-01",
                             "valid_until": "2026-12-31", "clinic": "Bệnh viện Đa khoa Xanh Pôn"})

    sandbox.extra_routes = (Route("/cards/lookup", sandbox.guarded(card), methods=["POST"]),)
    return sandbox
