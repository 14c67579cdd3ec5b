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
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger("superapp.db")

_WRITE_OPTION = "superapp_write"
WRITE_ATTEMPTS = 5
_RETRY_PAUSE = 0.02  # seconds; doubled per attempt, full jitter, at most _RETRY_PAUSE_MAX
_RETRY_PAUSE_MAX = 0.5
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
T = TypeVar("T")


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    # aiosqlite logs every call with its arguments (the bound values) at DEBUG: never let it, whatever the
    # log level. SQLAlchemy's loggers keep their own WARNING default, whatever SUPERAPP_LOG_LEVEL says (its
    # INFO statement log shows no values thanks to `hide_parameters`; its DEBUG row log would show data).
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLogger("aiosqlite").level))
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


# SQLSTATE classes and codes that mean "the database is not there": connection exceptions, insufficient
# resources, operator intervention (shutdown, starting up), system errors.
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57P", "58")
# SQLite primary result codes for a file that cannot be opened, read or written right now.
_OUTAGE_SQLITE_CODES = frozenset({
    sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB,
    sqlite3.SQLITE_PERM,
})


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps (`orig`, `raise ... from`), not what it happened to be raised during."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__


def _from_database(error: BaseException) -> bool:
    return isinstance(error, sa_exc.SQLAlchemyError | sqlite3.Error | OSError) or \
        type(error).__module__.startswith("asyncpg")


def is_outage(error: BaseException) -> bool:
    """True when `error` says the database cannot be reached or used right now (worth a retry later), as
    opposed to a bug or bad data: lost or refused connections, a full pool, shutdown, an unopenable file.
    Only database errors qualify: a DomainError raised while handling an agency's network error does not."""
    if not _from_database(error):
        return False
    for cause in _chain(error):
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, sa_exc.TimeoutError | OSError):
            return True
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_OUTAGE_SQLSTATE_CLASSES):
            return True
        code = getattr(cause, "sqlite_errorcode", None)
        if isinstance(cause, sqlite3.Error) and isinstance(code, int) and code & 0xFF in _OUTAGE_SQLITE_CODES:
            return True
    return False


class Availability:
    """Whether the database answered last time, logged once per outage: a warning when it starts (the error's
    type only, no traceback: every request of the outage would repeat it) and an info line when it ends."""

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.failures = 0

    def failed(self, error: BaseException) -> bool:
        """Record `error` if it is an outage; True when it is."""
        if not is_outage(error):
            return False
        self.failures += 1
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("database unavailable (%s); answering SERVICE_UNAVAILABLE until it is back",
                        _describe(error))
        return True

    def answered(self) -> None:
        if self.down_since is not None:
            log.info("database available again after %.1f s (%d failed operations)",
                     time.monotonic() - self.down_since, self.failures)
            self.down_since, self.failures = None, 0


def _describe(error: BaseException) -> str:
    """Exception types and SQLSTATE only: driver messages can quote statements and values."""
    names = []
    for cause in _chain(error):
        sqlstate = getattr(cause, "sqlstate", None)
        names.append(type(cause).__name__ + (f" {sqlstate}" if isinstance(sqlstate, str) else ""))
    return " <- ".join(dict.fromkeys(names))


class Database:
    """Owns the engine and hands out sessions: `read()` for queries, `write()` for one transaction.
    `availability` follows whether the database answers (see `Availability`)."""

    def __init__(self, engine: AsyncEngine, *, write_attempts: int = WRITE_ATTEMPTS) -> None:
        self.engine = engine
        self.write_attempts = write_attempts
        self.availability = Availability()
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
        try:
            async with self._readers() as session:
                yield session
        except BaseException as error:
            self.availability.failed(error)
            raise
        self.availability.answered()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One attempt at one transaction: committed when the block ends, rolled back if it raises.

        Application code uses `transaction`, which can run the work again; this is its building block and
        the tests' way to arrange data.
        """
        try:
            async with self._writers() as session, session.begin():
                yield session
        except BaseException as error:
            if not (isinstance(error, DBAPIError) and retryable(error)):  # a deadlock victim is not an outage
                self.availability.failed(error)
            raise
        self.availability.answered()

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
