"""One migrated, seeded database and one real uvicorn server on loopback per test session.

The database is SQLite in a temporary directory, or the PostgreSQL named by SUPERAPP_DATABASE_URL (its
public schema is dropped and migrated afresh). Tests talk to the server over real HTTP with httpx.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette

from api.app import create_app
from core.db import Database, create_engine
from core.deadlines import HolidayCalendar
from core.migrate import upgrade
from core.seed import seed
from core.settings import Environment, Settings


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
    return Settings(env=Environment.TEST, data_dir=tmp, database_url=url)


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


class _ServerThread(threading.Thread):
    def __init__(self, app: Starlette, port: int) -> None:
        super().__init__(daemon=True)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                    lifespan="on"))

    def run(self) -> None:
        self.server.run()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database) -> Starlette:
    return create_app(settings)


@pytest.fixture(scope="session")
def server(app: Starlette) -> Iterator[str]:
    thread = _ServerThread(app, _free_port())
    thread.start()
    deadline = time.monotonic() + 20
    while not thread.server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    port = thread.server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    thread.server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        yield http
