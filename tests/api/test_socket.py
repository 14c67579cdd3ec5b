"""The WebSocket transport: one trusted-documents rule with HTTP, subscriptions only, and authentication
failures that close with 4403 and say why (graphql-transport-ws, a real client against a real server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from api.auth import issue_dev_token
from core.live import HUB
from core.settings import Environment, Settings
from mobile_contract.client_forms import with_typename
from mobile_contract.manifest import OPERATIONS, document_hash, operation_text
from tests.support import citizen, new_id_number, serve

SUBSCRIPTION = operation_text(OPERATIONS / "DossierStatusChanged.graphql")
HOME = operation_text(OPERATIONS / "HomeScreen.graphql")
UNREGISTER = operation_text(OPERATIONS / "UnregisterDevice.graphql")
INTROSPECTION = "query Peek { __schema { types { name } } }"
AD_HOC_SUBSCRIPTION = "subscription Mine { dossierStatusChanged { dossierCode } }"
AD_HOC_MUTATION = 'mutation M { unregisterDevice(input: {token: "x"}) { removed } }'


@pytest.fixture(scope="module")
def production_server(settings: Settings) -> Iterator[str]:
    """Persisted-only mode, as in production, on the same database."""
    prod = Settings(env=Environment.TEST, data_dir=settings.data_dir, database_url=settings.database_url,
                    graphql={"persisted_only": True})
    with serve(create_app(prod)) as base_url:
        yield base_url


def _ws_url(server: str) -> str:
    return server.replace("http://", "ws://") + "/graphql"


@asynccontextmanager
async def acknowledged(server: str, payload: dict[str, Any] | None = None) -> AsyncIterator[ClientConnection]:
    async with connect(_ws_url(server), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        yield ws


async def _answer(ws: ClientConnection, payload: dict[str, Any], operation_id: str = "1") -> dict[str, Any]:
    await ws.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))
    async with asyncio.timeout(5):
        message: dict[str, Any] = json.loads(await ws.recv())
    return message


def _codes(message: dict[str, Any]) -> list[str]:
    assert message["type"] == "error", message
    return [e["extensions"]["code"] for e in message["payload"]]


async def _subscribed(ws: ClientConnection, payload: dict[str, Any], operation_id: str) -> None:
    """The subscription is registered with the hub (it runs), not answered with an error."""
    before = HUB.size
    await ws.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))
    async with asyncio.timeout(5):
        while HUB.size <= before:
            await asyncio.sleep(0.01)


async def test_production_socket_runs_no_ad_hoc_document(production_server: str) -> None:
    async with acknowledged(production_server) as ws:
        for i, document in enumerate((INTROSPECTION, AD_HOC_MUTATION, AD_HOC_SUBSCRIPTION)):
            answer = await _answer(ws, {"query": document}, operation_id=str(i))
            assert _codes(answer) == ["PERSISTED_QUERY_REQUIRED"], answer
        registering = await _answer(ws, {"query": AD_HOC_SUBSCRIPTION, "extensions": {
            "persistedQuery": {"version": 1, "sha256Hash": document_hash(AD_HOC_SUBSCRIPTION)}}}, operation_id="9")
        assert _codes(registering) == ["PERSISTED_QUERY_REQUIRED"]
        miss = await _answer(ws, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "c" * 64}}},
                             operation_id="10")
        assert _codes(miss) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert miss["payload"][0]["message"] == "PersistedQueryNotFound"


async def test_production_socket_runs_the_manifest_subscription_in_every_client_form(
    production_server: str, settings: Settings
) -> None:
    who = citizen(settings)
    async with acknowledged(production_server, {"Authorization": f"Bearer {who.token}"}) as ws:
        await _subscribed(ws, {"query": SUBSCRIPTION}, "text")
        await _subscribed(ws, {"query": with_typename(SUBSCRIPTION)}, "apollo")
        await _subscribed(ws, {"extensions": {"persistedQuery": {
            "version": 1, "sha256Hash": document_hash(with_typename(SUBSCRIPTION))}}}, "hash")
        await _subscribed(ws, {"documentId": f"sha256:{document_hash(SUBSCRIPTION)}"}, "document-id")


@pytest.mark.parametrize("document", [HOME, UNREGISTER, INTROSPECTION], ids=["query", "mutation", "introspection"])
async def test_queries_and_mutations_are_refused_on_the_socket(server: str, settings: Settings,
                                                               document: str) -> None:
    """Even outside production, and for the app's own documents: the socket is for subscriptions."""
    who = citizen(settings)
    async with acknowledged(server, {"authToken": who.token}) as ws:
        answer = await _answer(ws, {"query": document, "variables": {"input": {"token": "x"}}})
        assert _codes(answer) == ["SUBSCRIPTIONS_ONLY"], answer
        assert answer["payload"][0]["extensions"]["messageEn"].startswith("The WebSocket carries subscriptions")
        await _subscribed(ws, {"query": SUBSCRIPTION}, "2")  # the socket is still usable


async def _closed_with(server: str, *, payload: dict[str, Any] | None = None,
                       headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with connect(_ws_url(server), subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                       additional_headers=headers or {}) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(5):
                await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_an_expired_token_closes_with_4403_and_says_so(server: str, settings: Settings) -> None:
    expired = issue_dev_token(settings, id_number=new_id_number(), ttl_seconds=-3600)
    assert await _closed_with(server, payload={"authToken": expired}) == (4403, "TOKEN_EXPIRED")
    assert await _closed_with(server, headers={"Authorization": f"Bearer {expired}"}) == (4403, "TOKEN_EXPIRED")


async def test_a_malformed_token_closes_with_4403_and_says_so(server: str) -> None:
    assert await _closed_with(server, payload={"Authorization": "Bearer not-a-jwt"}) == (4403, "MALFORMED_TOKEN")
    assert await _closed_with(server, payload={"Authorization": "Basic abc"}) == (4403, "MALFORMED_HEADER")


async def _legacy_handshake(server: str) -> int:
    async with connect(_ws_url(server), subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        async with asyncio.timeout(5):
            await ws.recv()
    return 0


async def test_the_legacy_graphql_ws_protocol_is_not_offered(server: str) -> None:
    """subscriptions-transport-ws has no trusted-documents guard here: only graphql-transport-ws is spoken."""
    with pytest.raises(ConnectionClosed) as refused:
        await _legacy_handshake(server)
    assert refused.value.rcvd is not None
    assert refused.value.rcvd.code == 4406
