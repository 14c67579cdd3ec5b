"""`superapp sandbox`: the sandbox of every enabled service that provides one (`ServicePlugin.sandbox`),
built-in or installed plug-in, on the loopback port its settings name, in one process; and the sandbox
payment gateway (services/payment_sandbox.py) when `SUPERAPP_PAYMENT_GATEWAY_URL` is a loopback URL."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import uvicorn

from core.settings import Settings
from services.payment_sandbox import TEST_CARDS, SandboxGateway
from services.registry import load_registry
from services.sandbox_kit import AgencySandbox

log = logging.getLogger("superapp.sandbox")


@dataclass
class SandboxPlan:
    """What `superapp sandbox` runs, and why each other enabled service gets no sandbox (said, not hidden)."""

    running: list[tuple[AgencySandbox, int]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    gateway: tuple[SandboxGateway, int] | None = None

    def lines(self) -> list[str]:
        said = [f"sandbox {sandbox.code} on http://127.0.0.1:{port}" for sandbox, port in self.running]
        said += [f"no sandbox for {code}: {why}" for code, why in sorted(self.skipped.items())]
        if self.gateway is not None:
            said.append(f"sandbox payment gateway on http://127.0.0.1:{self.gateway[1]}; test cards: "
                        + ", ".join(f"{card} {what}" for card, what in TEST_CARDS.items()))
        return said


def plan_sandboxes(settings: Settings) -> SandboxPlan:
    """The port is the one the server would call (`SUPERAPP_AGENCY_<CODE>_BASE_URL`, else the service's
    `default_base_url` moved by `SUPERAPP_SANDBOX_PORT_OFFSET`), so both always agree."""
    plan = SandboxPlan()
    registry = load_registry(settings)
    for code, failure in registry.failures.items():
        plan.skipped[code] = f"the service did not load ({failure.error})"
    for plugin in registry.plugins.values():
        if plugin.settings is None or plugin.settings.base_url is None:
            plan.skipped[plugin.code] = "it calls no agency"
            continue
        url = urlsplit(plugin.settings.base_url)
        if url.hostname not in ("127.0.0.1", "localhost") or url.port is None:
            plan.skipped[plugin.code] = "its base URL is not a loopback URL with a port"
            continue
        sandbox = type(plugin).sandbox(secret=plugin.settings.secret_bytes,
                                       callback_url=settings.agencies.sandbox_callback_url,
                                       advance_seconds=settings.agencies.sandbox_advance_seconds)
        if sandbox is None:
            plan.skipped[plugin.code] = "the service provides no sandbox (ServicePlugin.sandbox)"
            continue
        plan.running.append((sandbox, url.port))
    gateway = urlsplit(settings.payments.gateway_url)
    if gateway.hostname in ("127.0.0.1", "localhost") and gateway.port is not None:
        plan.gateway = (SandboxGateway(secret=settings.payments.secret.get_secret_value().encode(),
                                       callback_url=settings.agencies.sandbox_callback_url,
                                       public_url=settings.payments.gateway_url.rstrip("/")), gateway.port)
    return plan


def sandboxes(settings: Settings) -> list[tuple[AgencySandbox, int]]:
    """(sandbox, port) for each sandbox `superapp sandbox` runs."""
    return plan_sandboxes(settings).running


async def serve_sandboxes(plan: SandboxPlan) -> None:
    apps = [(s.app(), port) for s, port in plan.running]
    if plan.gateway is not None:
        apps.append((plan.gateway[0].app(), plan.gateway[1]))
    servers = [uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                             timeout_graceful_shutdown=1))
               for app, port in apps]
    await asyncio.gather(*(server.serve() for server in servers))
