"""Refuse request bodies over a limit before reading them into memory (413), whatever the client claims.
On `/graphql` the 413 is a GraphQL response (`PAYLOAD_TOO_LARGE`), like every other answer there."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.refusal import RequestRefused, refusal
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
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        too_large = RequestRefused(413, ErrorCode.PAYLOAD_TOO_LARGE, maximum=self.max_bytes)
        await refusal(scope, too_large)(scope, receive, send)
