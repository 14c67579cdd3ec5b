from __future__ import annotations

import pytest

from core.catalogue import CURSOR_KIND, search_procedures
from core.db import Database
from core.errors import DomainError, ErrorCode
from core.pagination import encode_cursor, page_request


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
