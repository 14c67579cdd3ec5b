"""Loopback stand-ins for FCM and the SMS gateway: real HTTP servers for development, the demo and tests.

The FCM stand-in speaks FCM HTTP v1 (`POST /v1/projects/{project}/messages:send`, bearer ignored) and
records every request it accepts. `POST /_control/answer` makes it answer a chosen token as FCM would:
`unregistered` (404 UNREGISTERED), `invalid` (400 INVALID_ARGUMENT), `quota` (429 with Retry-After) or
`error500`, for the next `times` requests (default: always). `delivered()` is what the phones show: the
app drops a push whose `dedupeKey` it already has, so it counts each (token, dedupeKey) once.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_UNREGISTERED = {"error": {"code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found.",
                           "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                        "errorCode": "UNREGISTERED"}]}}
_INVALID = {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                      "message": "The registration token is not a valid FCM registration token",
                      "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                   "errorCode": "INVALID_ARGUMENT"}]}}


def _quota(retry_after: int) -> JSONResponse:
    body = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Quota exceeded.",
                      "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                   "errorCode": "QUOTA_EXCEEDED"}]}}
    return JSONResponse(body, status_code=429, headers={"retry-after": str(retry_after)})


@dataclass
class Answer:
    kind: str
    times: int | None = None
    retry_after: int = 1


@dataclass
class Receipt:
    token: str
    message: dict[str, Any]
    status: int
    at: float

    @property
    def dedupe_key(self) -> str:
        return str(self.message.get("data", {}).get("dedupeKey", ""))


@dataclass
class FcmStandin:
    project: str = "superapp-dev"
    requests: list[Receipt] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def accepted(self) -> list[Receipt]:
        return [r for r in list(self.requests) if r.status == 200]

    def delivered(self) -> Counter[tuple[str, str]]:
        """(token, dedupeKey) -> how many copies FCM accepted; the app shows each key once."""
        return Counter((r.token, r.dedupe_key) for r in self.accepted)

    def attempts_for(self, token: str) -> list[Receipt]:
        return [r for r in list(self.requests) if r.token == token]

    def answer(self, token: str, kind: str, *, times: int | None = None, retry_after: int = 1) -> None:
        with self._lock:
            self.answers[token] = Answer(kind, times, retry_after)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.answers.clear()

    def _decide(self, token: str) -> str | Answer:
        with self._lock:
            answer = self.answers.get(token)
            if answer is None:
                return "ok"
            if answer.times is not None:
                answer.times -= 1
                if answer.times <= 0:
                    del self.answers[token]
            return answer

    async def _send(self, request: Request) -> JSONResponse:
        body = await request.json()
        message = body.get("message", {}) if isinstance(body, dict) else {}
        token = str(message.get("token") or message.get("fid") or "")
        decision = self._decide(token)
        if not token or not request.path_params["project"] == self.project:
            response = JSONResponse(_INVALID, status_code=400)
        elif decision == "ok":
            response = JSONResponse({"name": f"projects/{self.project}/messages/{next(self._ids)}"})
        else:
            assert isinstance(decision, Answer)
            response = {"unregistered": JSONResponse(_UNREGISTERED, status_code=404),
                        "invalid": JSONResponse(_INVALID, status_code=400),
                        "quota": _quota(decision.retry_after),
                        }.get(decision.kind, JSONResponse({"error": {"code": 500, "status": "INTERNAL"}},
                                                          status_code=500))
        self.requests.append(Receipt(token, message, response.status_code, time.monotonic()))
        return response

    async def _control_answer(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.answer(str(body["token"]), str(body["answer"]), times=body.get("times"),
                    retry_after=int(body.get("retryAfter", 1)))
        return JSONResponse({"ok": True})

    async def _control_received(self, _: Request) -> JSONResponse:
        return JSONResponse([{"token": r.token, "status": r.status, "message": r.message} for r in self.accepted])

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/v1/projects/{project}/messages:send", self._send, methods=["POST"]),
            Route("/_control/answer", self._control_answer, methods=["POST"]),
            Route("/_control/received", self._control_received, methods=["GET"]),
        ])


@dataclass
class SmsStandin:
    """An SMS gateway: `POST /sms {"to", "text", "reference"}`; `fail` numbers answer 500, `reject` 400."""

    received: list[dict[str, Any]] = field(default_factory=list)
    failing: dict[str, int] = field(default_factory=dict)

    async def _sms(self, request: Request) -> JSONResponse:
        body = await request.json()
        phone = str(body.get("to", ""))
        status = self.failing.get(phone, 200)
        if status == 200:
            self.received.append({"to": phone, "text": str(body.get("text", "")),
                                  "reference": str(body.get("reference", ""))})
        return JSONResponse({"accepted": status == 200}, status_code=status)

    async def _control_received(self, _: Request) -> JSONResponse:
        return JSONResponse(self.received)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/sms", self._sms, methods=["POST"]),
                                 Route("/_control/received", self._control_received, methods=["GET"])])
