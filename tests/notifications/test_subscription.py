"""`dossierStatusChanged` over graphql-transport-ws: a real WebSocket client against the real server."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlmodel import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from core.clock import utc_now
from core.db import Database
from core.dossier_status import DossierStatus
from core.dossiers import change_status
from core.live import HUB
from core.models import Dossier
from mobile_contract.manifest import OPERATIONS, operation_text
from tests.notifications.support import agency_event, forwarded_dossier
from tests.support import Citizen, RunningSandbox, citizen

SUBSCRIPTION = operation_text(OPERATIONS / "DossierStatusChanged.graphql")


def _global_id(dossier_code: str) -> str:
    """The dossier's Relay id, as DossierDetail reads it: the key a normalized cache updates."""
    return base64.b64encode(f"Dossier:{dossier_code}".encode()).decode()


def _ws_url(server: str) -> str:
    return server.replace("http://", "ws://") + "/graphql"


@asynccontextmanager
async def subscribed(server: str, *, payload: dict[str, Any] | None = None,
                     headers: dict[str, str] | None = None) -> AsyncIterator[ClientConnection]:
    """A socket past `connection_ack` with one subscription (id "1") registered on the server."""
    before = HUB.size
    async with connect(_ws_url(server), subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                       additional_headers=headers or {}) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
        async with asyncio.timeout(5):
            while HUB.size <= before:
                await asyncio.sleep(0.01)
        yield ws


async def _next(ws: ClientConnection, seconds: float = 5) -> dict[str, Any]:
    async with asyncio.timeout(seconds):
        message: dict[str, Any] = json.loads(await ws.recv())
    return message


async def test_each_citizen_hears_only_their_own_dossiers(
    settings, server: str, client: httpx.AsyncClient, sandboxes: dict[str, RunningSandbox],
) -> None:
    alice, bob = citizen(settings), citizen(settings)
    alice_code = await forwarded_dossier(client, alice, sandboxes["residence"])
    bob_code = await forwarded_dossier(client, bob, sandboxes["residence"])
    async with subscribed(server, payload={"Authorization": f"Bearer {alice.token}"}) as alice_ws, \
            subscribed(server, headers=bob.headers) as bob_ws:
        await agency_event(client, alice_code, "accepted")
        heard = await _next(alice_ws)
        assert heard["type"] == "next"
        change = heard["payload"]["data"]["dossierStatusChanged"]
        assert change | {"occurredAt": None} == {
            "dossierCode": alice_code, "status": "ACCEPTED", "statusCode": 2,
            "statusLabel": {"vi": "Được tiếp nhận", "en": "Accepted"}, "occurredAt": None,
            "dossier": {"id": _global_id(alice_code), "code": alice_code, "status": "ACCEPTED", "version": 2}}
        with pytest.raises(TimeoutError):
            await _next(bob_ws, seconds=0.5)
        # Bob's subscription works: his own change arrives, and Alice hears nothing of it.
        await agency_event(client, bob_code, "accepted")
        assert (await _next(bob_ws))["payload"]["data"]["dossierStatusChanged"]["dossierCode"] == bob_code
        with pytest.raises(TimeoutError):
            await _next(alice_ws, seconds=0.5)


async def test_a_subscription_without_a_token_is_refused_with_a_typed_error(server: str) -> None:
    async with connect(_ws_url(server), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
        answer = await _next(ws)
    assert answer["type"] == "next", answer
    assert [e.get("extensions", {}).get("code") for e in answer["payload"]["errors"]] == ["UNAUTHENTICATED"], answer


async def test_a_bad_token_in_connection_init_closes_the_socket(server: str) -> None:
    intruder = Citizen("000000000000", "not-a-jwt")
    async with connect(_ws_url(server), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authToken": intruder.token}}))
        with pytest.raises(ConnectionClosed) as closed:
            await _next(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_a_change_committed_by_another_connection_reaches_the_subscriber(
    settings, server: str, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
) -> None:
    """On PostgreSQL this is the cross-process path: NOTIFY from the test's connection, LISTEN in the server."""
    who = citizen(settings)
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    async with subscribed(server, headers=who.headers) as ws:
        async with db.write() as session:
            dossier = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
            await change_status(session, dossier=dossier, target=DossierStatus.NOT_ACCEPTED, source="agency",
                                occurred_at=utc_now())
        change = (await _next(ws))["payload"]["data"]["dossierStatusChanged"]
    assert (change["dossierCode"], change["status"], change["statusCode"]) == (code, "NOT_ACCEPTED", 3)
