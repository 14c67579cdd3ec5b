"""A stand-in for Vietnam Social Security's API: cards and card-issuance dossiers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.text import ascii_digits
from services.sandbox_kit import AgencySandbox, asked_id_number

ROAD = ("received", "processing", "card_issued", "card_delivered")


def create_sandbox(*, secret: bytes, callback_url: str, advance_seconds: float) -> AgencySandbox:
    sandbox = AgencySandbox(code="social_insurance", secret=secret, callback_url=callback_url, road=ROAD,
                            stop_status="cancelled", advance_seconds=advance_seconds)

    async def card(request: Request) -> Response:
        id_number = await asked_id_number(request)
        if not (len(id_number) == 12 and ascii_digits(id_number)) or id_number.endswith("0000"):
            return JSONResponse({"error": "no card"}, status_code=404)
        return JSONResponse({"number": f"DN4{id_number[:2]}{id_number[-10:]}", "valid_from": "2026-01-01",
                             "valid_until": "2026-12-31", "clinic": "Bệnh viện Đa khoa Xanh Pôn"})

    sandbox.extra_routes = (Route("/cards/lookup", sandbox.guarded(card), methods=["POST"]),)
    return sandbox
