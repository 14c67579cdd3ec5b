"""`/metrics`: the counters of `core.metrics`, rendered from memory (a scrape runs no SQL), and who may read it.

- `SUPERAPP_METRICS_PORT` set: the numbers are served on that port only (bound to `SUPERAPP_METRICS_HOST`,
  loopback by default, for a scraper on the same host or network), and the public `/metrics` is 404.
- otherwise `SUPERAPP_METRICS_TOKEN` set: `/metrics` needs `Authorization: Bearer <token>` (401 without).
- otherwise `/metrics` is open in development and test, and refused (404) in production: operational numbers
  (which agencies fail, how deep the outbox is) are not for the public internet.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from wsgiref.simple_server import WSGIServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from core.settings import Settings

log = logging.getLogger("superapp.metrics")
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def registry() -> CollectorRegistry:
    """This process's metrics, or every process's when they share `PROMETHEUS_MULTIPROC_DIR`."""
    if os.environ.get(MULTIPROCESS_VARIABLE):
        combined = CollectorRegistry()
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return combined
    return REGISTRY


def render() -> bytes:
    return generate_latest(registry())


def public_access(settings: Settings) -> str:
    """How the app's own `/metrics` route answers: `open`, `token` or `refused`."""
    server = settings.server
    if server.metrics_port is not None:
        return "refused"
    if server.metrics_token is not None:
        return "token"
    return "refused" if settings.is_production else "open"


def metrics_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    access = public_access(settings)
    token = settings.server.metrics_token.get_secret_value().encode() if settings.server.metrics_token else b""

    async def metrics(request: Request) -> Response:
        if access == "refused":
            return PlainTextResponse("Not Found", status_code=404)
        if access == "token":
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token):
                return PlainTextResponse("Unauthorized", status_code=401, headers={"www-authenticate": "Bearer"})
        return Response(render(), media_type=CONTENT_TYPE_LATEST, headers={"cache-control": "no-store"})

    return metrics


def serve_metrics_port(settings: Settings) -> WSGIServer | None:
    """Start the internal metrics listener (a thread of this process) when `SUPERAPP_METRICS_PORT` is set;
    the caller may `shutdown()` the returned server."""
    port = settings.server.metrics_port
    if port is None:
        return None
    server, _ = start_http_server(port, addr=settings.server.metrics_host, registry=registry())
    log.info("metrics on http://%s:%d/metrics", settings.server.metrics_host, server.server_port)
    return server
