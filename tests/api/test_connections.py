"""Slow clients and socket hoarders (issue 11 item 4), against a real uvicorn configured as `superapp serve`
configures it: raw sockets that trickle headers or a body a byte a second are answered 408 and closed within
the limit; a slow but steady client is served; idle never-initialised WebSockets close with 4408; over the
per-citizen and per-IP caps a socket closes with 4429."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from core.settings import Settings
from tests.support import Citizen, citizen, serve

HEADER_LIMIT, BODY_LIMIT, MARGIN = 2.0, 2.0, 3.0
INIT_LIMIT = 2.0


@pytest.fixture(scope="module")
def edge_settings(settings: Settings) -> Settings:
    return settings.updated(server={"header_timeout_seconds": HEADER_LIMIT, "body_timeout_seconds": BODY_LIMIT,
                                    "body_min_rate_bytes": 500, "ws_max_per_citizen": 2})


@pytest.fixture(scope="module")
def edge_app(edge_settings: Settings, db: object) -> Starlette:
    return create_app(edge_settings)


@pytest.fixture(scope="module")
def edge_server(edge_app: Starlette, edge_settings: Settings) -> Iterator[str]:
    with serve(edge_app, edge_settings) as url:
        yield url


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


QUERY = json.dumps({"query": "{ procedures(first: 1) { edges { node { code } } } }"}).encode()


def _request(body: bytes) -> tuple[bytes, bytes]:
    head = (b"POST /graphql HTTP/1.1\r\nHost: superapp.test\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    return head, body


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection. A byte of ours still in flight when it
    closes turns the close into a reset, which may swallow the answer: then what arrived is returned."""
    chunks = []
    try:
        while chunk := await reader.read(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


async def _trickle(url: str, head: bytes, body: bytes, *, trickle_body: bool) -> tuple[float, bytes]:
    """Send `head` then `body`, one byte a second in the trickled part, until the server closes; (seconds, answer)."""
    reader, writer = await asyncio.open_connection(*_address(url))
    started = time.monotonic()
    closed = asyncio.create_task(_read_all(reader))
    if trickle_body:
        writer.write(head)
        await writer.drain()
    for byte in (body if trickle_body else head + body):
        if closed.done():
            break
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except ConnectionError:
            break
        await asyncio.wait([closed], timeout=1.0)
    async with asyncio.timeout(30):
        answer = await closed
    writer.close()
    return time.monotonic() - started, answer


async def test_five_clients_trickling_headers_are_cut_off_at_the_header_limit(edge_server: str) -> None:
    head, body = _request(QUERY)
    results = await asyncio.gather(*(_trickle(edge_server, head, body, trickle_body=False) for _ in range(5)))
    for seconds, answer in results:
        assert seconds < HEADER_LIMIT + MARGIN, seconds
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer[:80]  # b"": reset, see _read_all
    assert any(answer for _, answer in results)


async def test_a_connection_that_sends_nothing_is_closed_at_the_header_limit(edge_server: str) -> None:
    reader, writer = await asyncio.open_connection(*_address(edge_server))
    started = time.monotonic()
    async with asyncio.timeout(HEADER_LIMIT + MARGIN):
        answer = await _read_all(reader)
    assert time.monotonic() - started >= HEADER_LIMIT - 0.5
    assert answer.startswith(b"HTTP/1.1 408 ")
    writer.close()


async def test_five_clients_trickling_a_body_get_408_request_timeout_at_the_body_limit(edge_server: str) -> None:
    head, body = _request(QUERY)
    results = await asyncio.gather(*(_trickle(edge_server, head, body, trickle_body=True) for _ in range(5)))
    assert all(seconds < BODY_LIMIT + MARGIN for seconds, _ in results), results
    answered = [answer for _, answer in results if answer]  # none: reset, see _read_all
    assert answered
    for answer in answered:
        status, _, rest = answer.partition(b"\r\n")
        assert status.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"connection: close" in rest.lower()
        assert json.loads(rest.partition(b"\r\n\r\n")[2])["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"


async def test_a_slow_but_steady_client_is_served(edge_server: str) -> None:
    """Headers in pieces within the header limit, then a 6 KB body at ~2 KB/s: longer than the body limit in
    all, but at a steady rate above SUPERAPP_BODY_MIN_RATE_BYTES, so it is answered normally."""
    padded = json.dumps({"query": "{ procedures(first: 1) { edges { node { code } } } }" + " " * 6000}).encode()
    head, body = _request(padded)
    reader, writer = await asyncio.open_connection(*_address(edge_server))
    started = time.monotonic()
    for piece in (head[:20], head[20:60], head[60:]):
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.3)
    for offset in range(0, len(body), 500):
        writer.write(body[offset:offset + 500])
        await writer.drain()
        await asyncio.sleep(0.25)
    assert time.monotonic() - started > BODY_LIMIT  # it did take longer than the bare limit
    async with asyncio.timeout(15):
        status = await reader.readline()
    writer.close()
    assert status.startswith(b"HTTP/1.1 200 "), status


def _ws_url(server: str) -> str:
    return server.replace("http://", "ws://") + "/graphql"


async def _closed(ws: ClientConnection, seconds: float) -> tuple[int | None, str | None]:
    async with asyncio.timeout(seconds):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed:
            pass
    return ws.close_code, ws.close_reason


async def test_300_never_initialised_sockets_close_with_4408_after_the_init_timeout(
        settings: Settings, db: object) -> None:
    # The default header deadline here: 300 handshakes at once from this very process take a while.
    idle_settings = settings.updated(server={"ws_init_timeout_seconds": INIT_LIMIT, "ws_max_per_ip": 400})

    async def idle(url: str) -> tuple[float, int | None]:
        async with connect(_ws_url(url), subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                           open_timeout=30) as ws:
            opened = time.monotonic()
            code, _ = await _closed(ws, 45)
            return time.monotonic() - opened, code

    with serve(create_app(idle_settings), idle_settings) as url:
        results = await asyncio.gather(*(idle(url) for _ in range(300)))
    assert {code for _, code in results} == {4408}
    # All cut by our setting, well before Strawberry's default 60 s, even with 300 closing at once on 2 loaded cores.
    assert max(seconds for seconds, _ in results) < 30


async def _initialised(server: str, who: Citizen) -> ClientConnection:
    ws = await connect(_ws_url(server), subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {who.token}"}}))
    return ws


async def test_a_citizens_socket_over_the_cap_closes_with_4429(edge_server: str, edge_settings: Settings) -> None:
    who, other = citizen(edge_settings), citizen(edge_settings)
    first, second = await _initialised(edge_server, who), await _initialised(edge_server, who)
    for ws in (first, second):
        assert json.loads(await ws.recv())["type"] == "connection_ack"
    third = await _initialised(edge_server, who)
    assert await _closed(third, 10) == (4429, "Too many connections")
    someone_else = await _initialised(edge_server, other)  # the cap is per citizen
    assert json.loads(await someone_else.recv())["type"] == "connection_ack"
    await first.close()
    await asyncio.sleep(0.3)  # the server sees the close and gives the slot back
    again = await _initialised(edge_server, who)
    assert json.loads(await again.recv())["type"] == "connection_ack"
    for ws in (second, someone_else, again):
        await ws.close()


async def test_sockets_from_one_address_over_the_cap_close_with_4429(settings: Settings, db: object) -> None:
    capped = settings.updated(server={"ws_max_per_ip": 3})
    with serve(create_app(capped), capped) as url:
        sockets = [await connect(_ws_url(url), subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
                   for _ in range(3)]
        over = await connect(_ws_url(url), subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        assert await _closed(over, 10) == (4429, "Too many connections")
        await sockets[0].close()
        await asyncio.sleep(0.3)
        fresh = await connect(_ws_url(url), subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        await fresh.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await fresh.recv())["type"] == "connection_ack"
        for ws in (*sockets[1:], fresh):
            await ws.close()
