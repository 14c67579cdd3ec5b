"""`superapp sandbox`: every enabled built-in agency's sandbox on its loopback port, in one process."""

from __future__ import annotations

import asyncio
import importlib
import logging
from urllib.parse import urlsplit

import uvicorn

from core.settings import Settings
from services.registry import load_registry
from services.sandbox_kit import AgencySandbox

log = logging.getLogger("superapp.sandbox")


def sandboxes(settings: Settings) -> list[tuple[AgencySandbox, int]]:
    """(sandbox, port) for each loaded service that ships a `sandbox` module and has a loopback URL."""
    found = []
    for plugin in load_registry(settings).plugins.values():
        if plugin.settings is None or plugin.settings.base_url is None:
            continue
        try:
            module = importlib.import_module(f"{type(plugin).__module__}.sandbox")
        except ModuleNotFoundError:
            continue
        url = urlsplit(plugin.settings.base_url)
        if url.hostname not in ("127.0.0.1", "localhost") or url.port is None:
            log.warning("sandbox %s skipped: %s is not a loopback URL", plugin.code, plugin.settings.base_url)
            continue
        sandbox: AgencySandbox = module.create_sandbox(secret=plugin.settings.secret_bytes,
                                                       callback_url=settings.agencies.sandbox_callback_url,
                                                       advance_seconds=settings.agencies.sandbox_advance_seconds)
        found.append((sandbox, url.port))
    return found


async def serve_sandboxes(settings: Settings) -> None:
    running = sandboxes(settings)
    servers = [uvicorn.Server(uvicorn.Config(s.app(), host="127.0.0.1", port=port, log_level="warning",
                                             timeout_graceful_shutdown=1))
               for s, port in running]
    for sandbox, port in running:
        log.info("sandbox %s on http://127.0.0.1:%d", sandbox.code, port)
    await asyncio.gather(*(server.serve() for server in servers))
