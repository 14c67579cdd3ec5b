from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlmodel import col

from core.db import Database, retryable
from core.models import Citizen
from core.settings import Settings
from tests.support import new_id_number


async def test_database_errors_do_not_carry_personal_data(db: Database) -> None:
    id_number = new_id_number()
    async with db.write() as session:
        session.add(Citizen(id_number=id_number, full_name="Bùi Thị Riêng"))
    with pytest.raises(IntegrityError) as caught:
        async with db.write() as session:
            session.add(Citizen(id_number=id_number, full_name="Bùi Thị Riêng"))
    assert id_number not in str(caught.value)
    assert "Bùi Thị Riêng" not in str(caught.value)


async def _provoke_retryable_failure(db: Database, session: AsyncSession) -> None:
    """Make the database itself refuse the transaction as PostgreSQL does a deadlock victim, or as SQLite
    does a writer that found the file locked."""
    if db.dialect == "postgresql":
        await session.execute(text("DO $$ BEGIN RAISE EXCEPTION 'victim' USING ERRCODE = 'deadlock_detected'; "
                                   "END $$"))
        return
    await session.execute(text("SELECT 1"))  # the session begins (BEGIN IMMEDIATE): it holds the write lock
    # Another writer that will not wait is refused.
    other = create_async_engine(db.engine.url, connect_args={"timeout": 0})
    try:
        async with other.connect() as connection:
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        await other.dispose()


async def _citizens_named(db: Database, name: str) -> int:
    async with db.read() as session:
        query = select(func.count()).select_from(Citizen).where(col(Citizen.full_name) == name)
        return int((await session.execute(query)).scalar_one())


async def test_a_transaction_the_database_aborts_as_retryable_runs_again(db: Database) -> None:
    attempts: list[int] = []
    name = f"Thử Lại {new_id_number()}"

    async def work(session: AsyncSession) -> str:
        attempts.append(len(attempts) + 1)
        session.add(Citizen(id_number=new_id_number(), full_name=name))
        await session.flush()
        if len(attempts) < 3:
            await _provoke_retryable_failure(db, session)
        return "done"

    assert await db.transaction(work) == "done"
    assert attempts == [1, 2, 3]
    assert await _citizens_named(db, name) == 1  # the aborted attempts left nothing behind


async def test_retries_are_bounded(settings: Settings, db: Database) -> None:
    bounded = Database(db.engine, write_attempts=3)
    attempts: list[int] = []

    async def always_aborted(session: AsyncSession) -> None:
        attempts.append(1)
        await _provoke_retryable_failure(db, session)

    with pytest.raises(DBAPIError) as caught:
        await bounded.transaction(always_aborted)
    assert retryable(caught.value)
    assert len(attempts) == 3


async def test_other_failures_are_not_retried(db: Database) -> None:
    id_number = new_id_number()
    async with db.write() as session:
        session.add(Citizen(id_number=id_number, full_name="Đã Có"))
    attempts: list[int] = []

    async def duplicate(session: AsyncSession) -> None:
        attempts.append(1)
        session.add(Citizen(id_number=id_number, full_name="Đã Có"))
        await session.flush()

    with pytest.raises(IntegrityError):
        await db.transaction(duplicate)
    assert attempts == [1]


_DIRECT_WRITE = re.compile(r"\b\w*(db|database)\.write\(\)", re.IGNORECASE)  # db.write(), self.database.write()


def test_application_writes_go_through_the_retrying_transaction() -> None:
    """`Database.write()` is one attempt: application code that used it directly would not be retried."""
    root = Path(__file__).resolve().parents[2]
    offenders = [str(path.relative_to(root)) for package in ("api", "core", "notifications", "services", "sync")
                 for path in sorted((root / package).rglob("*.py"))
                 if path != root / "core" / "db.py" and _DIRECT_WRITE.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
