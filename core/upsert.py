"""INSERT ... ON CONFLICT in the session's dialect: the one place the two databases' upserts are chosen.

PostgreSQL and SQLite spell `on_conflict_do_nothing`/`on_conflict_do_update` the same way in SQLAlchemy
but through different `insert` constructs; every upsert goes through `insert_into` so none is written
as raw SQL or with its own dialect switch.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_into(session: AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An insert into `table` (a SQLModel class) that accepts ON CONFLICT clauses on both databases."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
