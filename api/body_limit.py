"""Refuse request bodies over a limit before reading them into memory (413), whatever the client claims.
On `/graphql` the 413 is a GraphQL response (`PAYLOAD_TOO_LARGE`), like every other answer there."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.refusal import RequestRefused, refusal, refuse_body
from core.errors import ErrorCode
from core.text import ascii_digits


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """`paths` gives a path prefix its own limit (`/uploads/`: one chunk of an attachment)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, paths: Mapping[str, int] | None = None) -> None:
        self.app, self.max_bytes, self.paths = app, max_bytes, dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = next((size for prefix, size in self.paths.items() if path.startswith(prefix)), self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and ascii_digits(declared) and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        await refuse_body(self.app, scope, receive, send, read=limited_receive, raised=BodyTooLarge,
                          answer=lambda: self._too_large(limit))

    def _too_large(self, limit: int) -> RequestRefused:
        return RequestRefused(413, ErrorCode.PAYLOAD_TOO_LARGE, maximum=limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        await refusal(scope, self._too_large(limit))(scope, receive, send)
