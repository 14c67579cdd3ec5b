"""Where catalogue search meets the database: a trigram index per dialect, built by migration 0006.

A search matches every folded word (`core.text.fold`) as a substring of the procedure's folded code and
names (`procedure.search_text`). Each word becomes one condition, and the trigram index finds the rows
that hold a word's trigrams, so a search costs a few index probes rather than a pass over the catalogue:
- PostgreSQL: `search_text LIKE '%word%'` served by the GIN `gin_trgm_ops` index;
- SQLite: an FTS5 trigram table matched with every word of three characters or more, then `instr` for the
  exact substring test (FTS5 ignores shorter terms).
A word shorter than three characters narrows nothing by itself; the search's limits (`core.catalogue`)
bound how many such conditions one request can add.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, column, func, literal_column, select, table
from sqlmodel import col

from core.models import Procedure

FTS_TABLE = "procedure_search"
TRIGRAM_INDEX = "ix_procedure_search_trgm"
TRIGRAM = 3
_FTS = table(FTS_TABLE, column("rowid"))


def is_search_index(name: str | None) -> bool:
    """The FTS5 table, its shadow tables and the trigram index: made by migration, not by the models."""
    return name is not None and (name == TRIGRAM_INDEX or name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_"))


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_query(words: Sequence[str]) -> str:
    """FTS5 query syntax: each word a quoted string (a substring, for the trigram tokenizer), all required."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def word_conditions(dialect: str, words: Sequence[str]) -> list[ColumnElement[bool]]:
    """Conditions on `procedure` that hold when every word is a substring of its `search_text`."""
    text = col(Procedure.search_text)
    if dialect == "postgresql":
        return [text.like(_like(word), escape="\\") for word in words]
    conditions: list[ColumnElement[bool]] = [func.instr(text, word) > 0 for word in words]
    indexed = [word for word in words if len(word) >= TRIGRAM]
    if indexed:
        found = select(_FTS.c.rowid).where(literal_column(FTS_TABLE).op("MATCH")(_fts_query(indexed)))
        conditions.insert(0, col(Procedure.id).in_(found))
    return conditions
