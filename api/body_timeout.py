"""A deadline on reading a request body: a client trickling its body holds a worker's request open, so the
body must arrive within `SUPERAPP_BODY_TIMEOUT_SECONDS`, extended by one second for every
`SUPERAPP_BODY_MIN_RATE_BYTES` received (a large upload on a slow but steady link goes on; a byte a second
does not). Past the deadline the answer is 408 with `Connection: close` (a GraphQL body with
`REQUEST_TIMEOUT` on `/graphql`) and uvicorn closes the connection.

The header deadline is in the protocol (`api/server.py`): the app is not called before the headers end.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.refusal import RequestRefused, refuse_body
from core import metrics
from core.errors import ErrorCode


class BodyTimedOut(Exception):
    pass


class BodyTimeout:
    def __init__(self, app: ASGIApp, *, seconds: float, min_rate_bytes: int) -> None:
        self.app, self.seconds, self.min_rate = app, seconds, min_rate_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        started_at: float | None = None
        received = 0
        complete = False

        async def timed_receive() -> Message:
            nonlocal started_at, received, complete
            if complete:  # the body is in; later calls wait for a disconnect, which has no deadline
                return await receive()
            if started_at is None:
                started_at = loop.time()
            credit = received / self.min_rate if self.min_rate else 0.0
            remaining = started_at + self.seconds + credit - loop.time()
            try:
                async with asyncio.timeout(max(remaining, 0.0)):
                    message = await receive()
            except TimeoutError:
                raise BodyTimedOut from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
            return message

        if await refuse_body(self.app, scope, receive, send, read=timed_receive, raised=BodyTimedOut,
                             answer=lambda: RequestRefused(408, ErrorCode.REQUEST_TIMEOUT,
                                                           headers={"connection": "close"},
                                                           seconds=f"{self.seconds:g}")):
            metrics.CONNECTIONS_TIMED_OUT.labels(phase="body").inc()
