"""What every agency sandbox shares: a real Starlette HTTP server that behaves like an agency's API.

It stores the dossiers it receives (deduplicated on `Idempotency-Key`), advances them along the agency's
own status road on a timer or on command, and reports each step to our `POST /agencies/{code}/events`
with an HMAC-signed event. For fault tests it can be told to be slow, to fail with 5xx, to answer
garbage, or to hang (`POST /_control/fault`). Sandboxes are for development, demos and tests only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from core.clock import utc_now
from services.signing import signed_headers

log = logging.getLogger("superapp.sandbox")

FAULT_MODES = ("ok", "slow", "error", "hang", "garbage")


@dataclass
class Received:
    reference: str
    dossier_code: str
    body: dict[str, Any]
    step: int = 0  # index into the road; 0 = received


@dataclass
class AgencySandbox:
    code: str
    secret: bytes
    callback_url: str
    road: Sequence[str]  # the agency's own status words after "received", in order
    advance_seconds: float = 0.0
    extra_routes: Sequence[BaseRoute] = ()
    mode: str = "ok"
    delay: float = 0.0
    received: dict[str, Received] = field(default_factory=dict)
    requests_seen: int = 0
    _release: asyncio.Event | None = None
    _events: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def fault_gate(self) -> Response | None:
        """Applied to every agency route (not the control routes): what the test asked this agency to be."""
        self.requests_seen += 1
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        elif self.mode == "error":
            return JSONResponse({"error": "internal"}, status_code=503)
        elif self.mode == "garbage":
            return Response(b"<html>{not json", media_type="application/json")
        elif self.mode == "hang":
            self._release = self._release or asyncio.Event()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(60):
                    await self._release.wait()
            return JSONResponse({"error": "released"}, status_code=503)
        return None

    def guarded(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            blocked = await self.fault_gate()
            if blocked is not None:
                return blocked
            response: Response = await handler(request)
            return response
        return endpoint

    async def receive_dossier(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if not key:
            return JSONResponse({"error": "Idempotency-Key required"}, status_code=400)
        if key in self.received:
            return JSONResponse({"reference": self.received[key].reference, "repeat": True})
        body = await request.json()
        reference = f"{self.code.upper()}-{len(self.received) + 1:06d}"
        self.received[key] = Received(reference=reference, dossier_code=str(body["dossier_code"]), body=body)
        return JSONResponse({"reference": reference}, status_code=201)

    async def dossier_status(self, request: Request) -> Response:
        for item in self.received.values():
            if item.reference == request.path_params["reference"]:
                status = self.road[item.step - 1] if item.step else "received"
                return JSONResponse({"reference": item.reference, "dossier_code": item.dossier_code,
                                     "status": status})
        return JSONResponse({"error": "not found"}, status_code=404)

    async def set_fault(self, request: Request) -> Response:
        body = await request.json()
        mode = str(body.get("mode", "ok"))
        if mode not in FAULT_MODES:
            return JSONResponse({"error": f"mode must be one of {FAULT_MODES}"}, status_code=400)
        self.mode, self.delay = mode, float(body.get("delay_ms", 0)) / 1000
        if self._release is not None:
            self._release.set()
            self._release = None
        return JSONResponse({"mode": self.mode, "delay_ms": self.delay * 1000})

    async def list_received(self, _: Request) -> Response:
        return JSONResponse([{"key": k, "reference": r.reference, "dossier_code": r.dossier_code, "step": r.step}
                             for k, r in self.received.items()])

    async def advance(self, request: Request) -> Response:
        """Move one dossier: to `status` if given (any word, legal or not), else one step along the road."""
        body = await request.json() if await request.body() else {}
        item = next((r for r in self.received.values() if r.dossier_code == request.path_params["code"]), None)
        if item is None:
            return JSONResponse({"error": "not received"}, status_code=404)
        status, callback = await self.step(item, status=body.get("status"), event_id=body.get("event_id"))
        return JSONResponse({"status": status, "callback_status": callback.status_code,
                             "callback": callback.json() if callback.content else None})

    async def step(self, item: Received, *, status: str | None = None,
                   event_id: str | None = None) -> tuple[str, httpx.Response]:
        if status is None:
            item.step = min(item.step + 1, len(self.road))
            status = self.road[item.step - 1]
        event = {"event_id": event_id or f"{self.code}-evt-{next(self._events)}-{item.reference}",
                 "dossier_ref": item.dossier_code, "status": status, "occurred_at": utc_now().isoformat()}
        return status, await self.send(event)

    async def send(self, event: dict[str, Any], *, timestamp: str | None = None) -> httpx.Response:
        body = json.dumps(event).encode()
        stamp = timestamp or str(int(utc_now().timestamp()))
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
            return await http.post(f"{self.callback_url}/agencies/{self.code}/events", content=body,
                                   headers=signed_headers(self.secret, stamp, body))

    async def _tick(self) -> None:
        """The timer: every `advance_seconds`, each dossier not yet at the road's end moves one step."""
        while True:
            await asyncio.sleep(self.advance_seconds)
            for item in list(self.received.values()):
                if item.step < len(self.road):
                    try:
                        await self.step(item)
                    except httpx.HTTPError as error:
                        log.warning("sandbox %s: callback failed: %s", self.code, error)
                        item.step -= 1

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            ticker = asyncio.create_task(self._tick()) if self.advance_seconds > 0 else None
            yield
            if self._release is not None:
                self._release.set()
            if ticker is not None:
                ticker.cancel()

        routes: list[BaseRoute] = [
            Route("/dossiers", self.guarded(self.receive_dossier), methods=["POST"]),
            Route("/dossiers/{reference}", self.guarded(self.dossier_status)),
            *self.extra_routes,
            Route("/_control/fault", self.set_fault, methods=["POST"]),
            Route("/_control/received", self.list_received),
            Route("/_control/advance/{code}", self.advance, methods=["POST"]),
        ]
        return Starlette(routes=routes, lifespan=lifespan)
