"""Helpers the tests share: GraphQL calls over HTTP, fresh citizens with valid ID numbers, tokens."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from api.auth import issue_dev_token
from api.server import uvicorn_config
from core.id_numbers import PROVINCE_CODES, Sex, century_sex_digit
from core.settings import Settings
from services.payment_sandbox import SandboxGateway
from services.registry import BUILT_IN_SERVICES
from services.sandbox_kit import AgencySandbox

_serials = itertools.count(random.SystemRandom().randrange(1, 400_000) * 2)

# Every ID number, name and token the tests make up: tests/log_leaks.py fails the run if a log line shows one.
# Production refuses to start without a receipt-signing key (SUPERAPP_SIGNING_KEYS): a fixed one for tests.
TEST_SIGNING_KEYS = "test-1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
ISSUED_ID_NUMBERS: set[str] = set()
ISSUED_NAMES: set[str] = set()
ISSUED_TOKENS: set[str] = set()


def new_id_number(*, birth_date: date = date(1990, 1, 1), sex: Sex = Sex.MALE, province: str = "001") -> str:
    """A valid, never-before-used ID number (serials are unique per test run, per process)."""
    assert province in PROVINCE_CODES
    serial = next(_serials) + os.getpid() % 1000 * 1_000
    number = f"{province}{century_sex_digit(birth_date, sex)}{birth_date.year % 100:02d}{serial % 999_999 + 1:06d}"
    ISSUED_ID_NUMBERS.add(number)
    return number


@dataclass
class Citizen:
    id_number: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def citizen(settings: Settings, *, name: str = "Công Dân Thử", birth_date: date = date(1990, 1, 1),
            sex: Sex = Sex.MALE) -> Citizen:
    """A citizen the server has never seen; the e-ID token's claims enrol them on first request."""
    id_number = new_id_number(birth_date=birth_date, sex=sex)
    claims = {"name": name, "birthdate": birth_date.isoformat(), "gender": sex.value}
    token = issue_dev_token(settings, id_number=id_number, extra_claims=claims)
    ISSUED_NAMES.add(name)
    ISSUED_TOKENS.add(token)
    return Citizen(id_number, token)


async def gql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *,
              who: Citizen | None = None, headers: dict[str, str] | None = None,
              expect_status: int = 200) -> dict[str, Any]:
    all_headers = {**(who.headers if who else {}), **(headers or {})}
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers=all_headers)
    assert response.status_code == expect_status, response.text
    body: dict[str, Any] = response.json()
    return body


async def gql_with_cost(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *,
                        who: Citizen | None = None) -> dict[str, Any]:
    """The answer with its cost, which the server adds only when asked (`"extensions": {"cost": true}`)."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {},
                                                   "extensions": {"cost": True}},
                                 headers=who.headers if who else {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


@contextmanager
def serve(app: ASGIApp, settings: Settings | None = None) -> Iterator[str]:
    """A real uvicorn on a free loopback port (bound to port 0), in a thread; yields its base URL. With
    `settings`, configured as `superapp serve` configures it (api/server.py: the header read deadline)."""
    # log_level debug: uvicorn's own records (access log included) join the suite's check for personal data.
    options: dict[str, Any] = {"log_level": "debug", "lifespan": "on", "timeout_graceful_shutdown": 2}
    config = (uvicorn_config(app, settings, host="127.0.0.1", port=0, **options) if settings is not None
              else uvicorn.Config(app, host="127.0.0.1", port=0, **options))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def resetting_server() -> Iterator[str]:
    """A loopback TCP server that takes each connection, reads what is sent and resets it (RST, no answer):
    an agency whose load balancer or firewall drops connections. Yields its base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            with contextlib.suppress(OSError):
                connection.settimeout(2)
                connection.recv(65536)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)


BUILT_IN = BUILT_IN_SERVICES


@dataclass
class RunningSandbox:
    sandbox: AgencySandbox
    url: str

    async def fault(self, mode: str, delay_ms: int = 0) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:
            response = await http.post("/_control/fault", json={"mode": mode, "delay_ms": delay_ms})
            assert response.status_code == 200, response.text

    async def requests_seen(self, path: str | None = None) -> int:
        """How many requests reached the agency's routes (or the one at `path`), asked over HTTP
        (`GET /_control/requests`)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:
            response = await http.get("/_control/requests")
            assert response.status_code == 200, response.text
            counts = response.json()
            seen: int = counts["total"] if path is None else counts["by_path"].get(path, 0)
            return seen

    async def advance(self, dossier_code: str, **body: Any) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.url, timeout=15) as http:
            response = await http.post(f"/_control/advance/{dossier_code}", json=body)
            assert response.status_code == 200, response.text
            answer: dict[str, Any] = response.json()
            return answer


@dataclass
class RunningGateway:
    """The sandbox payment gateway of the session, driven over HTTP as the app's web view would."""

    sandbox: SandboxGateway
    url: str

    async def pay(self, payment_url: str, card: str) -> dict[str, Any]:
        """Post a test card to an order's payment page (what the citizen does in the app's web view)."""
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(payment_url, json={"card_number": card})
            answer: dict[str, Any] = response.json()
            return answer

    async def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            response = await (http.post(path, json=body) if body is not None else http.get(path))
            assert response.status_code == 200, response.text
            return response.json()


def sandbox_secret(code: str) -> bytes:
    return f"test-secret-{code}".encode()


def agency_overrides(sandboxes: dict[str, RunningSandbox], **extra: Any) -> dict[str, dict[str, Any]]:
    """Per-service settings pointing each built-in service at its sandbox."""
    return {code: {"base_url": running.url, "secret": sandbox_secret(code).decode(), "timeout": 1.0, **extra}
            for code, running in sandboxes.items()}


async def until_received(running: RunningSandbox, dossier_code: str, seconds: float = 10) -> None:
    """Wait until the forwarder has delivered `dossier_code` to the sandbox."""
    async with asyncio.timeout(seconds):
        while not any(r.dossier_code == dossier_code for r in running.sandbox.received.values()):
            await asyncio.sleep(0.05)


SUBMIT = """mutation($p: String!, $f: JSON!) { submitDossier(input: {procedureCode: $p, formData: $f}) {
  dossier { code status } errors { code field } } }"""
