"""A stand-in for the traffic police's fines lookup: every ID number ending in an odd digit has one fine."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.text import ascii_digits
from services.sandbox_kit import AgencySandbox, asked_id_number


def create_sandbox(*, secret: bytes, callback_url: str, advance_seconds: float) -> AgencySandbox:
    sandbox = AgencySandbox(code="traffic_fines", secret=secret, callback_url=callback_url, road=())

    async def fines(request: Request) -> Response:
        owner = await asked_id_number(request)
        if not ascii_digits(owner[-1:]) or int(owner[-1]) % 2 == 0:
            return JSONResponse([])
        return JSONResponse([{"plate": f"29A-{owner[-5:-2]}.{owner[-2:]}", "violation": "Vượt đèn đỏ",
                              "amount_vnd": 4_000_000, "place": "Ngã tư Kim Mã - Liễu Giai, Hà Nội",
                              "detected_at": "2026-10-15T07:42:00+07:00"}])

    sandbox.extra_routes = (Route("/fines/search", sandbox.guarded(fines), methods=["POST"]),)
    return sandbox
