"""The city library's sandbox: the shared dossier API (`POST /dossiers`, withdrawals, supplements) from
`AgencySandbox`, plus the library's own card lookup. `superapp sandbox` runs it on the service's port."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.text import ascii_digits
from services.sandbox_kit import AgencySandbox, asked_id_number


def create_sandbox(*, secret: bytes, callback_url: str, advance_seconds: float) -> AgencySandbox:
    sandbox = AgencySandbox(code="public_library", secret=secret, callback_url=callback_url, road=(),
                            advance_seconds=advance_seconds)

    async def card(request: Request) -> Response:
        # A lookup is a POST with the ID number in the JSON body, never in the URL (access logs keep URLs).
        id_number = await asked_id_number(request)
        if not (len(id_number) == 12 and ascii_digits(id_number)):
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse({"number": f"TV-{id_number[-6:]}", "branch": "Thư viện Hà Nội"})

    # guarded(): the route obeys the fault modes (`POST /_control/fault`) like the dossier routes.
    sandbox.extra_routes = (Route("/cards/lookup", sandbox.guarded(card), methods=["POST"]),)
    return sandbox
