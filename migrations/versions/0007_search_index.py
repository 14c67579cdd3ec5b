"""Catalogue search through an index: trigrams of `procedure.search_text` (the folded code and names).

PostgreSQL: the `pg_trgm` extension (trusted since PostgreSQL 13, so the database owner may create it) and
a GIN index with `gin_trgm_ops`, which serves `LIKE '%word%'`. SQLite: an FTS5 table with the trigram
tokenizer, external content `procedure` (it stores only the index), kept current by three triggers.
Neither is a model: `migrations/env.py` leaves them out of `alembic check`.

Caution for later migrations: SQLite batch mode rebuilds a table by copy and drop, and dropping `procedure`
drops these triggers; a batch migration of `procedure` must recreate them and rebuild the index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 09:30:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE procedure_search USING fts5(search_text, content='procedure', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER procedure_search_insert AFTER INSERT ON procedure BEGIN "
    "INSERT INTO procedure_search (rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER procedure_search_delete AFTER DELETE ON procedure BEGIN "
    "INSERT INTO procedure_search (procedure_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER procedure_search_update AFTER UPDATE OF search_text ON procedure BEGIN "
    "INSERT INTO procedure_search (procedure_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO procedure_search (rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO procedure_search (procedure_search) VALUES ('rebuild')",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS procedure_search_update",
    "DROP TRIGGER IF EXISTS procedure_search_delete",
    "DROP TRIGGER IF EXISTS procedure_search_insert",
    "DROP TABLE IF EXISTS procedure_search",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_procedure_search_trgm ON procedure USING gin (search_text gin_trgm_ops)")
        return
    for statement in _SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_procedure_search_trgm")  # the extension stays: others may use it
        return
    for statement in _SQLITE_DOWN:
        op.execute(statement)
