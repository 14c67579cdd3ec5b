"""How `superapp serve` runs uvicorn: a header read deadline per request, and the server's other knobs.

uvicorn times out an idle keep-alive connection but not one that is slow to send its request: a client that
trickles one header byte a second (slowloris) holds a connection, a file descriptor and a parser forever,
and a few thousand of them starve the process. The deadline has to live in the protocol, since the ASGI app
is not called before the headers are complete: `DeadlineHttpToolsProtocol` arms a timer when a connection
is made (and when the next request on a kept-alive connection begins) and cancels it when the headers are
complete; when it fires the client gets a 408 and the connection is closed. The body is the app's to read,
so its deadline is ASGI middleware (`api/body_timeout.py`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core import metrics
from core.settings import Settings

_REQUEST_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                    b"content-length: 16\r\nconnection: close\r\n\r\nRequest Timeout\n")


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on reading each request's headers."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()  # a connection that never sends a byte is a slow client too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        metrics.CONNECTIONS_TIMED_OUT.labels(phase="headers").inc()
        if self.cycle is None or self.cycle.response_complete:  # nothing of ours is on the wire for this request
            self.transport.write(_REQUEST_TIMEOUT)
        self.transport.close()


def http_protocol(settings: Settings) -> type[DeadlineHttpToolsProtocol]:
    """The protocol class with this server's header deadline (uvicorn builds one instance per connection)."""
    return type("HttpProtocol", (DeadlineHttpToolsProtocol,),
                {"header_timeout": settings.server.header_timeout_seconds})


def uvicorn_config(app: Any, settings: Settings, *, host: str, port: int, **options: Any) -> uvicorn.Config:
    """The one place the server's uvicorn options are chosen, for `superapp serve` and the tests alike.

    `log_config=None`: uvicorn leaves logging alone, so its loggers (access log included) propagate to the
    root handler `configure_logging` set up (text or JSON, redacted, with the request id)."""
    chosen: dict[str, Any] = {"http": http_protocol(settings), "proxy_headers": True,
                              "log_level": settings.log_level.lower(), "log_config": None, **options}
    return uvicorn.Config(app, host=host, port=port, **chosen)
