"""Async engine and sessions. SQLite gets WAL, a busy timeout and `BEGIN IMMEDIATE` for writers.

SQLite's default deferred transactions take the write lock only at the first write, and a reader that
then tries to write fails at once with "database is locked" instead of waiting. Writers therefore start
with `BEGIN IMMEDIATE` (they queue on the busy timeout), while readers keep plain deferred transactions.

Every write transaction of the application goes through `Database.transaction`, which runs it again (a
bounded number of times, after a jittered pause) when the database gave up on it for a reason that a fresh
attempt can cure: a deadlock or serialization failure on PostgreSQL (SQLSTATE 40P01, 40001), "database is
locked" on SQLite. The lock order of `core.locks` keeps deadlocks out of our own code; the retry covers what
no order can (a serializable reader, a busy SQLite file, a lock taken by an operator's session).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_WRITE_OPTION = "superapp_write"
WRITE_ATTEMPTS = 5
_RETRY_PAUSE = 0.02  # seconds; doubled per attempt, full jitter, at most _RETRY_PAUSE_MAX
_RETRY_PAUSE_MAX = 0.5
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
T = TypeVar("T")
log = logging.getLogger("superapp.db")


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    url = make_url(database_url)
    # Bound parameters carry ID numbers and names: keep them out of exception texts and logs.
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20,
                                   hide_parameters=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, hide_parameters=True)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Owns the engine and hands out sessions: `read()` for queries, `write()` for one transaction."""

    def __init__(self, engine: AsyncEngine, *, write_attempts: int = WRITE_ATTEMPTS) -> None:
        self.engine = engine
        self.write_attempts = write_attempts
        self._readers = async_sessionmaker(engine, expire_on_commit=False)
        self._writers = async_sessionmaker(
            engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, database_url: str) -> Database:
        return cls(create_engine(database_url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._readers() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One attempt at one transaction: committed when the block ends, rolled back if it raises.

        Application code uses `transaction`, which can run the work again; this is its building block and
        the tests' way to arrange data.
        """
        async with self._writers() as session, session.begin():
            yield session

    async def transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in one write transaction and return its result; run it again in a fresh transaction
        (up to `write_attempts` in all) if the database aborted it as a deadlock victim, a serialization
        failure or a busy SQLite file. `work` may therefore run more than once: it must act only through
        its session (no calls out, no messages) and return what it made."""
        for attempt in range(1, self.write_attempts + 1):
            try:
                async with self.write() as session:
                    return await work(session)
            except DBAPIError as error:
                if attempt == self.write_attempts or not retryable(error):
                    raise
                log.info("write transaction aborted (%s); attempt %d of %d", _reason(error), attempt + 1,
                         self.write_attempts)
            pause = min(_RETRY_PAUSE_MAX, _RETRY_PAUSE * 2 ** (attempt - 1))
            await asyncio.sleep(random.uniform(0, pause))  # noqa: S311 (jitter, not a secret)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def dispose(self) -> None:
        await self.engine.dispose()


def retryable(error: DBAPIError) -> bool:
    """A failure that says "try again", not "this is wrong": deadlock, serialization, busy SQLite."""
    if error.connection_invalidated:
        return False
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    if sqlstate is not None:
        return sqlstate in _RETRYABLE_SQLSTATES
    code = getattr(error.orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return False


def _reason(error: DBAPIError) -> str:
    """The error's code only: its text may quote bound values."""
    orig = error.orig
    return str(getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None) or type(orig).__name__)


def dialect_of(session: AsyncSession) -> str:
    """`postgresql` or `sqlite`: the few statements that differ (upserts, NOTIFY) ask this."""
    return session.get_bind().dialect.name
