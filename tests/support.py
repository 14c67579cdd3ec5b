"""Helpers the tests share: GraphQL calls over HTTP, fresh citizens with valid ID numbers, tokens."""

from __future__ import annotations

import itertools
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from api.auth import issue_dev_token
from core.id_numbers import PROVINCE_CODES, Sex, century_sex_digit
from core.settings import Settings

_serials = itertools.count(random.SystemRandom().randrange(1, 400_000) * 2)


def new_id_number(*, birth_date: date = date(1990, 1, 1), sex: Sex = Sex.MALE, province: str = "001") -> str:
    """A valid, never-before-used ID number (serials are unique per test run, per process)."""
    assert province in PROVINCE_CODES
    serial = next(_serials) + os.getpid() % 1000 * 1_000
    return f"{province}{century_sex_digit(birth_date, sex)}{birth_date.year % 100:02d}{serial % 999_999 + 1:06d}"


@dataclass
class Citizen:
    id_number: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def citizen(settings: Settings, *, name: str = "Công Dân Thử", birth_date: date = date(1990, 1, 1),
            sex: Sex = Sex.MALE) -> Citizen:
    """A citizen the server has never seen; the e-ID token's claims enrol them on first request."""
    id_number = new_id_number(birth_date=birth_date, sex=sex)
    claims = {"name": name, "birthdate": birth_date.isoformat(), "gender": sex.value}
    return Citizen(id_number, issue_dev_token(settings, id_number=id_number, extra_claims=claims))


async def gql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *,
              who: Citizen | None = None, headers: dict[str, str] | None = None,
              expect_status: int = 200) -> dict[str, Any]:
    all_headers = {**(who.headers if who else {}), **(headers or {})}
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers=all_headers)
    assert response.status_code == expect_status, response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


class _ServerThread(threading.Thread):
    def __init__(self, app: ASGIApp, port: int) -> None:
        super().__init__(daemon=True)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                    lifespan="on"))

    def run(self) -> None:
        self.server.run()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(app: ASGIApp) -> Iterator[str]:
    """A real uvicorn serving `app` on a free loopback port, for as long as the block runs."""
    thread = _ServerThread(app, free_port())
    thread.start()
    deadline = time.monotonic() + 20
    while not thread.server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    port = thread.server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        thread.server.should_exit = True
        thread.join(timeout=10)
