from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalogue import CURSOR_KIND, catalogue_query, search_procedures, search_words
from core.catalogue_merge import merge_procedures
from core.db import Database
from core.errors import DomainError, ErrorCode
from core.pagination import encode_cursor, page_request
from core.search_index import FTS_TABLE, TRIGRAM_INDEX
from core.seed_data import PROCEDURES


@pytest.mark.parametrize("key", [{"a": 1}, 7, None, ["1.0"]], ids=["object", "number", "null", "list"])
async def test_a_procedure_cursor_must_hold_a_code(db: Database, key: object) -> None:
    page = page_request(kind=CURSOR_KIND, first=5, after=encode_cursor(CURSOR_KIND, [key]), arity=1, default=5,
                        maximum=100)
    async with db.read() as session:
        with pytest.raises(DomainError) as caught:
            await search_procedures(session, page=page)
    assert caught.value.code is ErrorCode.INVALID_CURSOR


async def test_a_procedure_cursor_continues_after_its_code(db: Database) -> None:
    page = page_request(kind=CURSOR_KIND, first=3, after=encode_cursor(CURSOR_KIND, ["1.001193"]), arity=1,
                        default=5, maximum=100)
    async with db.read() as session:
        result = await search_procedures(session, page=page)
    assert result.items
    assert all(p.code > "1.001193" for p in result.items)
    assert [p.code for p in result.items] == sorted(p.code for p in result.items)


async def _plan(session: AsyncSession, search: str) -> str:
    """The database's plan for the catalogue query of `search`, as text."""
    dialect = session.get_bind().dialect
    query = catalogue_query(dialect=dialect.name, words=search_words(search), limit=6)
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if dialect.name == "sqlite":
        rows = (await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))).all()
        return "\n".join(str(row[-1]) for row in rows)
    # A demo catalogue is small enough that a sequential scan, or walking the code index in order, is cheaper:
    # rule both out to ask whether the trigram index *can* serve the search.
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    await session.execute(text("SET LOCAL enable_indexscan = off"))
    return "\n".join(str(row[0]) for row in (await session.execute(text(f"EXPLAIN {sql}"))).all())


@pytest.mark.parametrize("search", ["khai sinh", "bảo hiểm y tế", "1.004222", "khai%sinh"])
async def test_a_search_is_answered_through_the_trigram_index(db: Database, search: str) -> None:
    async with db.read() as session:
        plan = await _plan(session, search)
    if db.dialect == "sqlite":
        assert f"SCAN {FTS_TABLE} VIRTUAL TABLE INDEX" in plan
        assert "SEARCH procedure USING INTEGER PRIMARY KEY" in plan
        assert "SCAN procedure " not in f"{plan} "
    else:
        assert f"Bitmap Index Scan on {TRIGRAM_INDEX}" in plan
        assert "Seq Scan" not in plan


async def test_the_index_follows_catalogue_edits(db: Database) -> None:
    """Start-up merges (plug-in procedures) and re-seeding rewrite names: search must see the new ones."""
    spec = dict(PROCEDURES[0])

    async def found(search: str) -> list[str]:
        page = page_request(kind=CURSOR_KIND, first=10, after=None, arity=1, default=10, maximum=100)
        async with db.read() as session:
            return [p.code for p in (await search_procedures(session, page=page, search=search)).items]

    assert await found("quyxz") == []
    try:
        async with db.write() as session:
            await merge_procedures(session, [{**spec, "name_vi": f"{spec['name_vi']} Quýxz"}])
        assert await found("quyxz") == [spec["code"]]
        assert await found("khai sinh quyxz") == [spec["code"]]
    finally:
        async with db.write() as session:
            await merge_procedures(session, [spec])
    assert await found("quyxz") == []
    assert spec["code"] in await found("khai sinh")
