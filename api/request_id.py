"""A request id for every HTTP request and WebSocket: the client's `X-Request-Id` when it is a plain token
(letters, digits, `.`, `_`, `:`, `-`, at most 64, nothing that looks like personal data), otherwise a new
one. It is in every log line of the request (`core.log_format`) and in the response's `X-Request-Id`, so a
citizen's support ticket can quote it."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.log_format import request_id
from core.log_redaction import redact

_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
HEADER = b"x-request-id"


def choose(given: bytes | None) -> str:
    """The client's id if usable, else a fresh one."""
    if given is not None:
        try:
            text = given.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        if _VALID.fullmatch(text) and redact(text) == text:
            return text
    return uuid.uuid4().hex


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        value = choose(dict(scope["headers"]).get(HEADER))
        token = request_id.set(value)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, value.encode("ascii"))]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
