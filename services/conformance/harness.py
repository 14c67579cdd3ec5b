"""One real server for a whole kit run: the plug-ins under check and their sandboxes, each a uvicorn on a free
loopback port, in front of a migrated, seeded database; shared by every check, so a run stays short.

Agency settings are tight on purpose (short timeout, no retries, a breaker that opens after two failures and
tries again after a second), so timeouts and the breaker can be seen within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import httpx
import strawberry
import uvicorn
from graphql import GraphQLSchema
from starlette.types import ASGIApp

from core.settings import Environment, Settings
from services.registry import ServicePlugin, load_registry
from services.sandbox_kit import AgencySandbox

TIMEOUT = 1.5  # seconds for one agency call (retries included; there are none)
SLOW_MS = 2200  # a "slow" sandbox answers after this: beyond TIMEOUT
BREAKER_THRESHOLD = 2
BREAKER_RESET = 1.5  # long enough that a loaded machine still sees the open circuit fail fast


def agency_settings(url: str, code: str) -> dict[str, Any]:
    return {"base_url": url, "secret": secret_of(code), "timeout": TIMEOUT, "retries": 0,
            "breaker_threshold": BREAKER_THRESHOLD, "breaker_reset_seconds": BREAKER_RESET}


def secret_of(code: str) -> str:
    return f"conformance-secret-{code}"


@contextlib.contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """A uvicorn on a free loopback port (port 0), in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("a kit server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Subject:
    """One plug-in under check: its class (None when it cannot be imported: the declaration check says why)
    and its sandbox as a running server (None when it provides none)."""

    code: str
    entry: EntryPoint
    plugin: type[ServicePlugin] | None = None
    load_error: str | None = None
    sandbox: AgencySandbox | None = None
    sandbox_url: str | None = None

    async def fault(self, mode: str, delay_ms: int = 0) -> None:
        """Switch the sandbox's fault mode through its control endpoint, as an agency's tester would."""
        assert self.sandbox_url is not None
        async with httpx.AsyncClient(base_url=self.sandbox_url, timeout=10, trust_env=False) as http:
            answer = await http.post("/_control/fault", json={"mode": mode, "delay_ms": delay_ms})
            answer.raise_for_status()


@dataclass
class Harness:
    settings: Settings
    url: str
    subjects: dict[str, Subject]
    citizen_id_number: str
    token: str
    schema: strawberry.Schema
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def graphql_schema(self) -> GraphQLSchema:
        return self.schema._schema

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *,
                  signed_in: bool = True) -> tuple[int, dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.url, timeout=30, trust_env=False) as http:
            answer = await http.post("/graphql", json={"query": query, "variables": variables or {}},
                                     headers=self.headers if signed_in else {})
        try:
            body = answer.json()
        except ValueError:
            body = {"raw": answer.text[:300]}
        return answer.status_code, body if isinstance(body, dict) else {"raw": body}


def kit_settings(data_dir: Path, database_url: str) -> Settings:
    """Settings of the kit's server: test environment (development tokens), the forward queue polled often."""
    return Settings(env=Environment.TEST, data_dir=data_dir, database_url=database_url,
                    agencies={"services": "*", "forward_poll_seconds": 0.2, "forward_max_backoff_seconds": 0.5})


def prepare_database(settings: Settings) -> None:
    """Migrate and seed (both idempotent): never drops anything, so it is safe on a database in use."""
    from core.db import Database
    from core.deadlines import HolidayCalendar
    from core.migrate import upgrade
    from core.seed import seed

    upgrade(settings.database_url)

    async def run() -> None:
        db = Database.from_url(settings.database_url)
        try:
            await seed(db, calendar=HolidayCalendar.load(settings.holidays_file), tz_name=settings.timezone)
        finally:
            await db.dispose()

    asyncio.run(run())


def _new_id_number() -> str:
    """A well-formed ID number nobody has: Hà Nội, born 1990, male, a random serial."""
    from core.id_numbers import Sex, century_sex_digit

    serial = uuid.uuid4().int % 999_999 + 1
    return f"001{century_sex_digit(date(1990, 1, 1), Sex.MALE)}90{serial:06d}"


def _subject(entry: EntryPoint) -> Subject:
    subject = Subject(code=entry.name, entry=entry)
    try:
        loaded = entry.load()
    except Exception as error:  # the declaration check reports it
        subject.load_error = f"{type(error).__name__}: {error}"
        return subject
    if isinstance(loaded, type) and issubclass(loaded, ServicePlugin):
        subject.plugin = loaded
    else:
        subject.load_error = f"{entry.value} is not a ServicePlugin subclass"
    return subject


@contextlib.contextmanager
def running(settings: Settings, entries: Sequence[EntryPoint]) -> Iterator[Harness]:
    """Start every subject's sandbox, then one server with exactly these plug-ins; stop all afterwards."""
    from api.app import create_app
    from api.auth import issue_dev_token
    from api.graphql.schema import build_schema

    subjects = {entry.name: _subject(entry) for entry in entries}
    with contextlib.ExitStack() as stack:
        overrides: dict[str, dict[str, Any]] = {}
        for subject in subjects.values():
            if subject.plugin is None or not subject.plugin.calls_agency:
                continue
            with contextlib.suppress(Exception):  # a sandbox that cannot be built: the sandbox check says why
                subject.sandbox = subject.plugin.sandbox(secret=secret_of(subject.code).encode(),
                                                         callback_url="http://127.0.0.1:9", advance_seconds=0)
            if subject.sandbox is not None:
                subject.sandbox_url = stack.enter_context(serve(subject.sandbox.app()))
                overrides[subject.code] = agency_settings(subject.sandbox_url, subject.code)
        registry = load_registry(settings, overrides=overrides, entries=entries)
        schema = build_schema(settings, load_registry(settings, overrides=overrides, entries=entries))
        url = stack.enter_context(serve(create_app(settings, registry=registry)))
        for subject in subjects.values():
            if subject.sandbox is not None:
                subject.sandbox.callback_url = url
        id_number = _new_id_number()
        token = issue_dev_token(settings, id_number=id_number, extra_claims={
            "name": "Công Dân Kiểm Thử", "birthdate": "1990-01-01", "gender": "male"})
        yield Harness(settings=settings, url=url, subjects=subjects, citizen_id_number=id_number, token=token,
                      schema=schema)
