"""Numbers a client forges where we expect our own ids (inside cursors and checkpoints, as notification ids)
are answered the same on SQLite and PostgreSQL: every id column is int4 on PostgreSQL, and a bigger number
bound to one fails the whole query there (an INTERNAL_ERROR where SQLite answered)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest

from core.pagination import encode_cursor
from core.settings import Settings
from tests.support import citizen, error_codes, gql

BEYOND = [2**31, 10**17, 2**63 - 1, 2**64, 0, -1]


@pytest.mark.parametrize("number", BEYOND)
async def test_a_forged_dossier_cursor_is_invalid_cursor(client: httpx.AsyncClient, settings: Settings,
                                                         number: int) -> None:
    cursor = encode_cursor("dossier", [datetime(2026, 1, 1, tzinfo=UTC).isoformat(), number])
    body = await gql(client, "query($a: String!) { myDossiers(after: $a) { edges { node { code } } } }",
                     {"a": cursor}, who=citizen(settings))
    assert body["data"] == {"myDossiers": None}
    assert error_codes(body) == ["INVALID_CURSOR"]


@pytest.mark.parametrize("number", BEYOND)
async def test_a_forged_notification_cursor_is_invalid_cursor(client: httpx.AsyncClient, settings: Settings,
                                                              number: int) -> None:
    body = await gql(client, "query($a: String!) { myNotifications(after: $a) { edges { node { id } } } }",
                     {"a": encode_cursor("notification", [number])}, who=citizen(settings))
    assert body["data"] == {"myNotifications": None}
    assert error_codes(body) == ["INVALID_CURSOR"]


async def test_notification_ids_no_row_can_have_are_ignored_like_unknown_ones(client: httpx.AsyncClient,
                                                                             settings: Settings) -> None:
    ids = [str(n) for n in BEYOND] + ["99999999999999999999", "٣", "1e3", "2147483000"]
    body = await gql(client, "mutation($ids: [ID!]!) { markNotificationsRead(input: {ids: $ids}) "
                             "{ markedIds unreadCount errors { code } } }", {"ids": ids}, who=citizen(settings))
    assert body == {"data": {"markNotificationsRead": {"markedIds": [], "unreadCount": 0, "errors": []}}}


def _checkpoint(**values: object) -> str:
    body = {"v": 1, "e": 0, "sv": 3, "u": 0, "c": 0, "p": 0, **values}
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


@pytest.mark.parametrize("checkpoint", [
    pytest.param(_checkpoint(c=10**17), id="citizen-seq-beyond-int4"),
    pytest.param(_checkpoint(p=2**63), id="public-seq-beyond-int8"),
    pytest.param(_checkpoint(u=10**17), id="citizen-beyond-int4"),
    pytest.param(_checkpoint(e=10**30), id="epoch-huge"),
    pytest.param(base64.urlsafe_b64encode(b"[" * 5000).decode(), id="deeply-nested"),
    pytest.param(base64.urlsafe_b64encode(b'{"v": 1, "e": ' + b"9" * 5000 + b"}").decode(), id="5000-digits"),
])
async def test_a_forged_checkpoint_starts_a_replacement_sync(client: httpx.AsyncClient, settings: Settings,
                                                            checkpoint: str) -> None:
    body = await gql(client, "query($c: String!) { syncChanges(schemaVersion: 3, checkpoint: $c) { reset } }",
                     {"c": checkpoint}, who=citizen(settings))
    assert "errors" not in body, body
    assert body["data"]["syncChanges"]["reset"] is not None
