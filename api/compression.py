"""Compressed request bodies (`Content-Encoding: gzip`), decompressed with a ceiling so a small gzip
bomb cannot become a huge body. Responses are gzipped by Starlette's GZipMiddleware when accepted.

A 2G link is the reason: a reconnect's push of queued drafts shrinks to a fraction of its JSON.
"""

from __future__ import annotations

import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.refusal import RequestRefused, bad_request, refusal
from core.errors import ErrorCode


class GzipRequest:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", []))
        if scope["type"] != "http" or headers.get(b"content-encoding", b"").strip().lower() != b"gzip":
            await self.app(scope, receive, send)
            return
        compressed = bytearray()
        while True:
            message = await receive()
            compressed += message.get("body", b"")
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        inflater = zlib.decompressobj(31)
        try:
            body = inflater.decompress(bytes(compressed), self.max_bytes + 1)
            complete = inflater.eof
        except zlib.error:
            await refusal(scope, bad_request("BAD_GZIP"))(scope, receive, send)
            return
        if len(body) > self.max_bytes:
            too_large = RequestRefused(413, ErrorCode.PAYLOAD_TOO_LARGE, maximum=self.max_bytes)
            await refusal(scope, too_large)(scope, receive, send)
            return
        if not complete:
            await refusal(scope, bad_request("BAD_GZIP"))(scope, receive, send)
            return
        rest = [(k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")]
        scope = {**scope, "headers": [*rest, (b"content-length", str(len(body)).encode())]}
        sent = False

        async def inflated() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, inflated, send)
