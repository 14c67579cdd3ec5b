"""Refuse request bodies over a limit before reading them into memory (413), whatever the client claims.
On `/graphql` the 413 is a GraphQL response (`PAYLOAD_TOO_LARGE`), like every other answer there."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.refusal import RequestRefused, refusal, refuse_body
from core.errors import ErrorCode
from core.text import ascii_digits


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and ascii_digits(declared) and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        await refuse_body(self.app, scope, receive, send, read=limited_receive, raised=BodyTooLarge,
                          answer=self._too_large)

    def _too_large(self) -> RequestRefused:
        return RequestRefused(413, ErrorCode.PAYLOAD_TOO_LARGE, maximum=self.max_bytes)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await refusal(scope, self._too_large())(scope, receive, send)
