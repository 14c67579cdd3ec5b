"""Write transactions take their locks in one global order (docs/ARCHITECTURE.md, "Lock order").

The order that matters here: every daily-sequence row a transaction needs before any sync-scope row. An
interconnected submission used to number its parts after it had stamped the parent in the citizen's scope,
so a plain submission by the same citizen at the same moment (holding the residence agency's sequence and
waiting for the scope) deadlocked with it on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from core.change_log import stamp
from core.db import Database
from core.dossier_codes import DOSSIER_CODE, next_dossier_code, next_dossier_codes
from core.interconnected import lock_parent
from core.locks import LockOrderError
from core.seed_data import PROCEDURES
from core.settings import Settings
from tests.core.factories import new_agency_code
from tests.support import SUBMIT, Citizen, citizen, gql

INTERCONNECTED = "LT.KS-TT-BHYT"
FORM = {"child_name": "Đỗ Gia Hân", "child_birth_date": "2026-10-21", "child_sex": "female",
        "place_of_birth": "Bệnh viện Phụ sản Hà Nội", "mother_name": "Đỗ Thị Lan",
        "new_address": "Số 7 ngõ 9 Phúc Xá, Ba Đình, Hà Nội", "clinic": "Bệnh viện Nhi Trung ương"}
PLAIN = "1.004206"  # temporary residence, at the Ministry of Public Security, which also gets a part above
PLAIN_FORM = next(p["sample"] for p in PROCEDURES if p["code"] == PLAIN)
PARTS = "query($c: String!) { dossier(code: $c) { parts { code } } }"


@contextmanager
def transactions(db: Database) -> Iterator[list[list[str]]]:
    """The statements of every transaction the server commits meanwhile, one list per transaction."""
    done: list[list[str]] = []
    open_: dict[int, list[str]] = defaultdict(list)
    engine = db.engine.sync_engine

    def on_execute(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        open_[id(conn)].append(statement)

    def on_commit(conn: Any) -> None:
        done.append(open_.pop(id(conn), []))

    def on_rollback(conn: Any) -> None:
        open_.pop(id(conn), None)

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    try:
        yield done
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "rollback", on_rollback)


def _touches(statement: str, table: str) -> bool:
    return re.search(rf"\b(INSERT INTO|UPDATE) {table}\b", statement) is not None


async def _pair(client: httpx.AsyncClient, who: Citizen) -> tuple[dict[str, Any], dict[str, Any]]:
    both = await asyncio.gather(gql(client, SUBMIT, {"p": INTERCONNECTED, "f": FORM}, who=who),
                                gql(client, SUBMIT, {"p": PLAIN, "f": PLAIN_FORM}, who=who))
    return both[0], both[1]


async def test_a_submission_takes_every_sequence_before_any_sync_scope(
    client: httpx.AsyncClient, settings: Settings, app: Starlette
) -> None:
    who = citizen(settings)
    await gql(client, "{ me { fullName } }", who=who)  # enrolled beforehand: only the submission is watched
    with transactions(app.state.db) as committed:
        body = await gql(client, SUBMIT, {"p": INTERCONNECTED, "f": FORM}, who=who)
    assert body["data"]["submitDossier"]["errors"] == []
    submissions = [t for t in committed if any(_touches(s, "dossier_sequence") for s in t)]
    assert len(submissions) == 1
    statements = submissions[0]
    sequences = [i for i, s in enumerate(statements) if _touches(s, "dossier_sequence")]
    scopes = [i for i, s in enumerate(statements) if _touches(s, "sync_scope")]
    assert sequences
    assert scopes
    assert max(sequences) < min(scopes)
    assert len(sequences) == 3  # one statement per agency (the ward receives the parent and a part)


async def test_a_submission_chains_its_audit_row_last(client: httpx.AsyncClient, settings: Settings,
                                                      app: Starlette) -> None:
    """Lock rank AUDIT is last: the nation-wide audit head is touched only after the sequences and the scope."""
    who = citizen(settings)
    await gql(client, "{ me { fullName } }", who=who)
    with transactions(app.state.db) as committed:
        body = await gql(client, SUBMIT, {"p": PLAIN, "f": PLAIN_FORM}, who=who)
    assert body["data"]["submitDossier"]["errors"] == []
    [statements] = [t for t in committed if any(_touches(s, "dossier_sequence") for s in t)]
    scopes = [i for i, s in enumerate(statements) if _touches(s, "sync_scope")]
    heads = [i for i, s in enumerate(statements) if re.search(r"\baudit_head\b", s)]
    assert heads
    assert min(heads) > max(scopes)
    assert any(_touches(s, "audit_entry") for s in statements)


async def test_concurrent_interconnected_and_plain_submissions_by_one_citizen_all_succeed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    people = [citizen(settings) for _ in range(8)]
    for who in people:
        await gql(client, "{ me { fullName } }", who=who)
    answers = await asyncio.gather(*(_pair(client, who) for who in people))

    codes: list[str] = []
    for (bundle, plain), who in zip(answers, people, strict=True):
        for body in (bundle, plain):
            assert "errors" not in body, body
            assert body["data"]["submitDossier"]["errors"] == [], body
            codes.append(body["data"]["submitDossier"]["dossier"]["code"])
        parent = bundle["data"]["submitDossier"]["dossier"]["code"]
        parts = (await gql(client, PARTS, {"c": parent}, who=who))["data"]["dossier"]["parts"]
        assert len(parts) == 3
        codes.extend(p["code"] for p in parts)

    assert len(codes) == len(set(codes)) == 8 * 5
    numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
    for code in codes:
        match = DOSSIER_CODE.fullmatch(code)
        assert match is not None
        numbers[(match["agency"], match["day"])].append(int(match["seq"]))
    for taken in numbers.values():  # gapless: nothing else submits while this test runs
        assert sorted(taken) == list(range(min(taken), min(taken) + len(taken)))


class _Undo(Exception):
    pass


async def _stamp_then_number(session: AsyncSession) -> None:
    await stamp(session, scope="c:lock-order-test", record_type="draft", record_id="x")
    await next_dossier_code(session, agency_code=new_agency_code(), received=date(2031, 3, 1))


async def _stamp_then_lock_a_parent(session: AsyncSession) -> None:
    await stamp(session, scope="c:lock-order-test", record_type="draft", record_id="x")
    await lock_parent(session, parent_id=1)


async def test_a_sequence_asked_for_after_a_stamp_is_refused(db: Database) -> None:
    """The order is checked as locks are taken, on SQLite too, so a new code path that breaks it fails its
    tests instead of deadlocking in production."""
    with pytest.raises(LockOrderError, match="DAILY_SEQUENCE lock asked for after a SYNC_SCOPE lock"):
        await db.transaction(_stamp_then_number)


async def test_a_dossier_locked_after_a_stamp_is_refused(db: Database) -> None:
    with pytest.raises(LockOrderError, match="DOSSIER lock asked for after a SYNC_SCOPE lock"):
        await db.transaction(_stamp_then_lock_a_parent)


async def test_codes_of_one_transaction_are_taken_in_agency_order_and_relocking_is_free(db: Database) -> None:
    first, second = sorted([new_agency_code(), new_agency_code()])
    day = date(2031, 3, 2)

    async def number_stamp_renumber(session: AsyncSession) -> None:
        codes = await next_dossier_codes(session, agency_codes=[second, first, second], received=day)
        assert codes == [f"{second}-310302-0001", f"{first}-310302-0001", f"{second}-310302-0002"]
        await stamp(session, scope="c:lock-order-test", record_type="draft", record_id="y")
        # A row this transaction already holds can be asked for again: it never waits.
        assert await next_dossier_code(session, agency_code=first, received=day) == f"{first}-310302-0002"
        raise _Undo

    with pytest.raises(_Undo):
        await db.transaction(number_stamp_renumber)
