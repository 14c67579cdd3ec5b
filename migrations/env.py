"""Alembic environment: async engine from SUPERAPP_DATABASE_URL (or the URL `superapp migrate` passes)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import core.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from core.db import create_engine
from core.search_index import is_search_index
from core.settings import Settings

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or Settings().database_url


def _include(_obj: object, name: str | None, type_: str, _reflected: bool, _compare_to: object) -> bool:
    """The catalogue's search index (FTS5 tables, the trigram index) is built by migration 0006 only."""
    return not (type_ in ("table", "index") and is_search_index(name))


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=_url().startswith("sqlite"), include_object=_include)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
