"""The public procedure catalogue: search that ignores diacritics, keyset pages ordered by code.

A search is at most `SEARCH_MAX_CHARS` characters and `SEARCH_MAX_WORDS` distinct words (else
SEARCH_TOO_LONG, checked before any other work): each word is one indexed condition
(`core.search_index`), so one anonymous request cannot make the database do unbounded work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from core.change_log import PUBLIC_SCOPE, stamp
from core.errors import DomainError, ErrorCode
from core.models import Agency, Procedure
from core.pagination import Page, PageRequest, cut
from core.search_index import word_conditions
from core.text import fold

CURSOR_KIND = "procedure"
SEARCH_MAX_CHARS = 200
SEARCH_MAX_WORDS = 20


def search_words(search: str | None) -> list[str]:
    """The search's distinct folded words, in order; SEARCH_TOO_LONG beyond the limits (length first, so an
    oversize text is refused before it is even folded)."""
    if len(search or "") > SEARCH_MAX_CHARS:
        raise _too_long()
    words = list(dict.fromkeys(fold(search or "").split()))
    if len(words) > SEARCH_MAX_WORDS:
        raise _too_long()
    return words


def _too_long() -> DomainError:
    return DomainError(ErrorCode.SEARCH_TOO_LONG, field="search", max_chars=SEARCH_MAX_CHARS,
                       max_words=SEARCH_MAX_WORDS)


def catalogue_query(*, dialect: str, words: list[str], agency_code: str | None = None, after: str | None = None,
                    limit: int) -> SelectOfScalar[Procedure]:
    """Active procedures holding every word, in code order from after `after`."""
    query = select(Procedure).where(col(Procedure.active).is_(True), *word_conditions(dialect, words))
    if agency_code:
        query = query.join(Agency, col(Agency.id) == Procedure.agency_id).where(Agency.code == agency_code)
    if after is not None:
        query = query.where(col(Procedure.code) > after)
    return query.order_by(col(Procedure.code)).limit(limit)


async def search_procedures(
    session: AsyncSession, *, page: PageRequest, search: str | None = None, agency_code: str | None = None
) -> Page[Procedure]:
    words = search_words(search)
    after: str | None = None
    if page.after:
        if not isinstance(page.after[0], str):
            raise DomainError(ErrorCode.INVALID_CURSOR, field="after")
        after = page.after[0]
    query = catalogue_query(dialect=session.get_bind().dialect.name, words=words, agency_code=agency_code,
                            after=after, limit=page.first + 1)
    rows = (await session.execute(query)).scalars()
    return cut(list(rows), page.first, lambda p: [p.code])


async def procedure_by_code(session: AsyncSession, code: str) -> Procedure | None:
    result = await session.execute(select(Procedure).where(Procedure.code == code))
    return result.scalars().first()


async def procedures_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Procedure]:
    rows = (await session.execute(select(Procedure).where(col(Procedure.id).in_(ids)))).scalars()
    return {p.id: p for p in rows if p.id is not None}


async def agencies_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Agency]:
    rows = (await session.execute(select(Agency).where(col(Agency.id).in_(ids)))).scalars()
    return {a.id: a for a in rows if a.id is not None}


def search_text_for(*, code: str, name_vi: str, name_en: str) -> str:
    return fold(f"{code} {name_vi} {name_en}")


async def agency_by_code(session: AsyncSession, code: str) -> Agency | None:
    return (await session.execute(select(Agency).where(Agency.code == code))).scalars().first()


async def stamp_procedure_if_changed(session: AsyncSession, procedure: Procedure, *, now: datetime) -> bool:
    """Save a new or edited procedure and stamp the public scope, but only when something changed:
    start-up merges and re-seeding must not make every device re-download the catalogue."""
    state = inspect(procedure)
    changed = state.transient or state.pending or any(
        attr.history.has_changes() for attr in state.attrs if attr.key != "updated_at")
    if not changed:
        return False
    procedure.updated_at = now
    session.add(procedure)
    await session.flush()
    deleted = not procedure.active
    await stamp(session, scope=PUBLIC_SCOPE, record_type="procedure", record_id=procedure.code, deleted=deleted,
                now=now)
    return True


async def retire_procedure(session: AsyncSession, *, code: str, now: datetime) -> bool:
    """Take a procedure out of the catalogue: devices receive a tombstone."""
    procedure = await procedure_by_code(session, code)
    if procedure is None or not procedure.active:
        return False
    procedure.active = False
    return await stamp_procedure_if_changed(session, procedure, now=now)
