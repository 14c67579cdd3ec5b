"""No N+1: the statements behind a page of dossiers with nested fields do not grow with the page size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from starlette.applications import Starlette

from api.auth import issue_dev_token
from core.seed import DEMO_CITIZEN_ID_NUMBER
from core.settings import Settings
from tests.support import Citizen, gql

NESTED = """
query Nested($first: Int!) {
  myDossiers(first: $first) {
    edges { node {
      code
      procedure { code agency { code } }
      agency { code }
      events { status }
      documents { number }
    } }
  }
}
"""
# Transaction control is not a query: SQLite sessions issue their own BEGIN (core/db.py).
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")
# The same engine also serves the background forwarder (it polls its queue) and agencies' callbacks: their
# statements can land inside the measuring window. They only ever add statements, so each measurement is
# repeated and the smallest count taken; the forwarder's queue statements are left out outright.
_BACKGROUND = ("forward_job", "agency_event")
# `documents { number }` is personal data: the request's one privacy-audit row (lock the head, insert, move
# the head) is three statements whatever the page size, counted by tests/api/test_audit_trail.py, not here.
_AUDIT = ("audit_head", "audit_entry")
_ATTEMPTS = 5


@contextmanager
def _statements(app: Starlette) -> Iterator[list[str]]:
    """Every data statement the server's engine runs while the block is open."""
    engine = app.state.db.engine.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(_CONTROL) and \
                not any(t in statement for t in (*_BACKGROUND, *_AUDIT)):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _count(client: httpx.AsyncClient, app: Starlette, who: Citizen, first: int) -> int:
    counts: list[int] = []
    for _ in range(_ATTEMPTS):
        with _statements(app) as seen:
            body = await gql(client, NESTED, {"first": first}, who=who)
        assert "errors" not in body, body
        edges = body["data"]["myDossiers"]["edges"]
        assert len(edges) == first
        for edge in edges:
            node = edge["node"]
            assert node["events"][0]["status"] == "SUBMITTED"
            assert node["agency"]["code"] == node["code"].split("-")[0]
        counts.append(len(seen))
    return min(counts)


async def test_nested_fields_are_batched(client: httpx.AsyncClient, app: Starlette, settings: Settings) -> None:
    demo = Citizen(DEMO_CITIZEN_ID_NUMBER, issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER))
    two = await _count(client, app, demo, 2)
    ten = await _count(client, app, demo, 10)
    assert ten == two
    # citizen, dossiers, procedures, agencies (of dossiers and of procedures), events, documents
    assert two <= 8


async def test_the_listener_sees_the_servers_statements(client: httpx.AsyncClient, app: Starlette,
                                                        settings: Settings) -> None:
    """Guards the test above against counting nothing (e.g. a listener on the wrong engine)."""
    demo = Citizen(DEMO_CITIZEN_ID_NUMBER, issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER))
    with _statements(app) as seen:
        await gql(client, NESTED, {"first": 10}, who=demo)
    assert len(seen) >= 5
    assert any("dossier_event" in s for s in seen)
    assert any("document" in s for s in seen)
