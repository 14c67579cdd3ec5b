"""One migrated, seeded database and one real uvicorn server on loopback per test session.

The database is SQLite in a temporary directory, or the PostgreSQL named by SUPERAPP_DATABASE_URL (its
public schema is dropped and migrated afresh). Tests talk to the server over real HTTP with httpx.
Every log record of the run, of every logger at DEBUG and up, is checked for personal data
(tests/log_leaks.py): a leak fails the run at its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from api.app import create_app
from core.db import Database, create_engine
from core.deadlines import HolidayCalendar
from core.migrate import upgrade
from core.seed import seed
from core.settings import Environment, Settings
from services.payment_sandbox import SandboxGateway
from services.registry import GROUP
from tests.support import BUILT_IN, RunningGateway, RunningSandbox, agency_overrides, sandbox_secret, serve

pytest_plugins = ("tests.log_leaks",)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-contract-examples", action="store_true",
                     help="rewrite mobile_contract/operations/*.response.json from the running server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The conformance kit's modules first: their servers share the session's database, and must be gone
    before the session server's forwarder starts polling the same forward queue."""
    items.sort(key=lambda item: 0 if item.path.name.startswith("test_conformance") else 1)


def _database_url(tmp: Path) -> str:
    url = os.environ.get("SUPERAPP_DATABASE_URL", "")
    return url if url.startswith("postgresql") else f"sqlite+aiosqlite:///{tmp / 'test.db'}"


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("superapp")
    url = _database_url(tmp)
    if url.startswith("postgresql"):
        asyncio.run(_reset_postgres(url))
    upgrade(url)
    # Quotas out of reach: tests of other behaviour send many costly documents from one citizen or from
    # 127.0.0.1; tests/api/test_quota.py sets its own limits.
    return Settings(env=Environment.TEST, data_dir=tmp, database_url=url,
                    agencies={"forward_poll_seconds": 0.2, "forward_max_backoff_seconds": 0.5,
                              "flag_cache_seconds": 0},
                    quota={"citizen_limit": 10**9, "ip_limit": 10**9})


@pytest.fixture(scope="session")
def calendar(settings: Settings) -> HolidayCalendar:
    return HolidayCalendar.load(settings.holidays_file)


@pytest.fixture(scope="session")
async def db(settings: Settings, calendar: HolidayCalendar) -> AsyncIterator[Database]:
    """The tests' own connection to the database the server uses; seeded once."""
    database = Database.from_url(settings.database_url)
    await seed(database, calendar=calendar, tz_name=settings.timezone)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def sandboxes() -> Iterator[dict[str, RunningSandbox]]:
    """The sandboxes of the four built-in agencies and of the example plug-in's agency, as real HTTP servers on
    loopback ports, for the session; built through `ServicePlugin.sandbox`, as `superapp sandbox` does."""
    running: dict[str, RunningSandbox] = {}
    classes = {entry.name: entry.load() for entry in entry_points(group=GROUP)}
    with contextlib.ExitStack() as stack:
        for code in (*BUILT_IN, "public_library"):
            sandbox = classes[code].sandbox(secret=sandbox_secret(code), callback_url="http://127.0.0.1:9",
                                            advance_seconds=0)
            running[code] = RunningSandbox(sandbox, stack.enter_context(serve(sandbox.app())))
        yield running


@pytest.fixture(scope="session")
def gateway(settings: Settings) -> Iterator[RunningGateway]:
    """The sandbox payment gateway (services/payment_sandbox.py) on a loopback port, for the session."""
    sandbox = SandboxGateway(secret=settings.payments.secret.get_secret_value().encode(),
                             callback_url="http://127.0.0.1:9")
    with serve(sandbox.app()) as url:
        sandbox.public_url = url
        yield RunningGateway(sandbox, url)


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database, sandboxes: dict[str, RunningSandbox], gateway: RunningGateway) -> Starlette:
    # The payment poller asks about a payment one second without news; orders are cancelled only by a test that
    # runs a poller round an hour ahead (tests/services/test_payments.py), never by a slow machine.
    paying = settings.updated(payments={"gateway_url": gateway.url, "poll_interval_seconds": 0.2,
                                        "poll_after_seconds": 1.0, "order_timeout_seconds": 3600.0})
    return create_app(paying, agencies=agency_overrides(sandboxes))


@pytest.fixture(scope="session")
def server(app: Starlette, sandboxes: dict[str, RunningSandbox], gateway: RunningGateway) -> Iterator[str]:
    with serve(app) as url:
        for running in sandboxes.values():
            running.sandbox.callback_url = url
        gateway.sandbox.callback_url = url
        yield url


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        yield http
