"""A real database outage, as clients and operators see it (issue 9, item 20): a typed, retryable
SERVICE_UNAVAILABLE; HTTP 503 with Retry-After when nothing could be answered; one warning when the outage
starts and one info line when it ends, never a traceback per request.

The outage is real and restorable. PostgreSQL: the server reaches the database through a TCP proxy on
loopback that the test closes (refusing new connections and cutting live ones) and reopens on the same port.
SQLite: the server's database path is a directory (the file cannot be opened) until the test moves the
migrated file into place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from api.app import create_app
from core.db import Database
from core.deadlines import HolidayCalendar
from core.migrate import upgrade
from core.models import ChangeLogEntry, Dossier, DossierEvent, DossierSequence
from core.seed import seed
from core.settings import Environment, Settings
from services.registry import ServiceRegistry
from tests.api.helpers import sample_form
from tests.support import Citizen, citizen, gql, serve

ALL_FROM_THE_DATABASE = '{ procedures(first: 1) { edges { node { code } } } procedure(code: "1.001193") { code } }'
PARTLY = "{ __typename procedures(first: 1) { edges { node { code } } } }"
SUBMIT = ('mutation { submitDossier(input: {procedureCode: "1.001193", formData: {}}) '
          '{ dossier { code } errors { code } } }')


@dataclass
class _Proxy:
    """A TCP proxy to the database that can be taken down (new connections refused, live ones cut) and
    brought back on the same port."""

    target: tuple[str, int]
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._writers.append(client_writer)
        try:
            reader, writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.append(writer)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))


@dataclass
class _Outage:
    url: str
    down: Callable[[], Awaitable[None]]
    up: Callable[[], Awaitable[None]]
    can_fail_again: bool


@contextlib.asynccontextmanager
async def _database_that_is_down(settings: Settings, tmp_path: Path) -> AsyncIterator[_Outage]:
    if settings.is_sqlite:
        path, ready = tmp_path / "outage.db", tmp_path / "ready.db"
        await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{ready}")  # it runs its own event loop
        path.mkdir()  # a directory where the database file should be: it cannot be opened

        async def nothing() -> None:
            raise AssertionError("SQLite keeps its open file: only the first outage can be staged")

        async def restore() -> None:
            path.rmdir()
            os.replace(ready, path)

        yield _Outage(f"sqlite+aiosqlite:///{path}", nothing, restore, can_fail_again=False)
        return
    real = make_url(settings.database_url)
    proxy = _Proxy((real.host or "127.0.0.1", real.port or 5432))
    await proxy.up()
    await proxy.down()
    yield _Outage(real.set(port=proxy.port).render_as_string(hide_password=False), proxy.down, proxy.up,
                  can_fail_again=True)
    with contextlib.suppress(AssertionError):
        await proxy.down()


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def _assert_unavailable(http: httpx.AsyncClient, settings: Settings) -> None:
    for accept in ("application/json", "application/graphql-response+json"):
        response = await http.post("/graphql", json={"query": ALL_FROM_THE_DATABASE}, headers={"Accept": accept})
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        body = response.json()
        assert body["data"] == {"procedures": None, "procedure": None}
        assert _codes(body) == ["SERVICE_UNAVAILABLE"] * 2
        extensions = body["errors"][0]["extensions"]
        assert (extensions["retryable"], extensions["retryAfter"]) == (True, 5)
        assert extensions["messageEn"] == "The service is briefly unavailable; please retry in 5 seconds."

    partly = await http.post("/graphql", json={"query": PARTLY}, headers={"Accept-Language": "en"})
    assert partly.status_code == 200, partly.text
    assert "retry-after" not in partly.headers
    assert partly.json()["data"] == {"__typename": "Query", "procedures": None}
    assert partly.json()["errors"][0]["message"] == "The service is briefly unavailable; please retry in 5 seconds."

    mutation = await http.post("/graphql", json={"query": SUBMIT}, headers=citizen(settings).headers)
    assert mutation.status_code == 503, mutation.text
    assert _codes(mutation.json()) == ["SERVICE_UNAVAILABLE"]

    # The upload endpoint (uploads/tus.py) answers the same way, in its own error shape.
    upload = await http.post("/uploads/", headers={**citizen(settings).headers, "Tus-Resumable": "1.0.0",
                                                   "Upload-Length": "1000"})
    assert upload.status_code == 503, upload.text
    assert upload.headers["retry-after"] == "5"
    assert _codes(upload.json()) == ["SERVICE_UNAVAILABLE"]

    for _ in range(10):  # a client retrying in a loop
        again = await http.post("/graphql", json={"query": ALL_FROM_THE_DATABASE})
        assert again.status_code == 503
    ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "unreachable"


async def _assert_served(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": ALL_FROM_THE_DATABASE})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["procedures"] is not None, response.text
    assert "SERVICE_UNAVAILABLE" not in _codes(response.json())
    assert (await http.get("/readyz")).json()["database"] == "ok"


def _db_log(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage().split(" (")[0].split(" after")[0]) for r in caplog.records
            if r.name == "superapp.db"]


async def test_a_database_outage_is_typed_retryable_and_logged_once(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with _database_that_is_down(settings, tmp_path) as outage:
        configured = Settings(env=Environment.TEST, data_dir=settings.data_dir, database_url=outage.url,
                              agencies={"forward_poll_seconds": 0.2})
        app = create_app(configured, registry=ServiceRegistry([], []))
        with serve(app) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                await _assert_unavailable(http, settings)
                await outage.up()
                await _assert_served(http)
                outage_log = [(logging.WARNING, "database unavailable"), (logging.INFO, "database available again")]
                assert _db_log(caplog) == outage_log
                if outage.can_fail_again:  # the database goes away under a running server with open connections
                    await outage.down()
                    await _assert_unavailable(http, settings)
                    await outage.up()
                    await _assert_served(http)
                    assert _db_log(caplog) == outage_log * 2
    tracebacks = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.exc_info]
    assert tracebacks == []
    # Besides the database's own two lines, at most the LISTEN connection's one warning per outage.
    others = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name != "superapp.db"]
    assert all(m.startswith("LISTEN connection lost") for m in others), others
    assert len(others) <= (2 if outage.can_fail_again else 1), others


SUBMIT_BIRTH = ("mutation($f: JSON!) { submitDossier(input: {procedureCode: \"1.001193\", formData: $f}) "
                "{ dossier { code } errors { code } } }")


async def _submit(http: httpx.AsyncClient, who: Citizen) -> tuple[int, dict[str, Any]]:
    response = await http.post("/graphql", json={"query": SUBMIT_BIRTH, "variables": {"f": sample_form("1.001193")}},
                               headers=who.headers)
    return response.status_code, response.json()


async def _stored_whole_and_gapless(url: str, codes: set[str]) -> set[str]:
    """Every dossier of the day's birth-registration sequence: each with its first history event and its
    change-log row, numbers 1..n without a gap, n the sequence's value. Returns the codes stored."""
    database = Database.from_url(url)
    try:
        async with database.read() as session:
            rows = list((await session.execute(select(Dossier.id, Dossier.code))).all())
            prefix = {code.rsplit("-", 1)[0] for code in codes}
            assert len(prefix) == 1
            day_codes = {code: id_ for id_, code in rows if code.rsplit("-", 1)[0] in prefix}
            agency, day = next(iter(prefix)).rsplit("-", 1)
            sequence = (await session.execute(select(DossierSequence.value).where(
                DossierSequence.agency_code == agency, DossierSequence.day == day))).scalar_one()
            events = set((await session.execute(select(DossierEvent.dossier_id).where(
                col(DossierEvent.dossier_id).in_(day_codes.values()), DossierEvent.seq == 1))).scalars())
            logged = set((await session.execute(select(ChangeLogEntry.record_id).where(
                ChangeLogEntry.record_type == "dossier", col(ChangeLogEntry.record_id).in_(day_codes)))).scalars())
    finally:
        await database.dispose()
    numbers = sorted(int(code.rsplit("-", 1)[1]) for code in day_codes)
    assert numbers == list(range(1, sequence + 1)), "a dossier code was skipped or reused"
    assert events == set(day_codes.values()), "a dossier was stored without its history"
    assert logged == set(day_codes), "a dossier was stored without its change-log row"
    return set(day_codes)


async def test_submissions_cut_by_an_outage_are_stored_whole_or_not_at_all_and_codes_stay_gapless(
    settings: Settings, tmp_path: Path, calendar: HolidayCalendar, db: Database,
) -> None:
    """`db`: the session's database is seeded (on PostgreSQL the outage is a proxy in front of it)."""
    async with _database_that_is_down(settings, tmp_path) as outage:
        configured = Settings(env=Environment.TEST, data_dir=settings.data_dir, database_url=outage.url,
                              agencies={"forward_poll_seconds": 0.2})
        app = create_app(configured, registry=ServiceRegistry([], []))
        with serve(app) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                refused = await _submit(http, citizen(settings))
                assert (refused[0], _codes(refused[1])) == (503, ["SERVICE_UNAVAILABLE"])
                await outage.up()
                if settings.is_sqlite:  # the staged file is migrated only: the catalogue comes with the seed
                    seeding = Database.from_url(outage.url)
                    await seed(seeding, calendar=calendar, tz_name=settings.timezone)
                    await seeding.dispose()
                answered: dict[str, int] = {}
                people = [citizen(settings) for _ in range(12)]
                for who in people:
                    await gql(http, "{ me { fullName } }", who=who)
                if outage.can_fail_again:  # cut the database while submissions are in flight
                    flight = [asyncio.create_task(_submit(http, who)) for who in people]
                    await asyncio.wait(flight, return_when=asyncio.FIRST_COMPLETED)
                    await outage.down()
                    results = await asyncio.gather(*flight)
                    await outage.up()
                else:
                    results = list(await asyncio.gather(*(_submit(http, who) for who in people[:4])))
                for status, body in results:
                    assert status in (200, 503), body
                    assert set(_codes(body)) <= {"SERVICE_UNAVAILABLE"}, body
                    if status == 200:
                        assert body["data"]["submitDossier"]["errors"] == [], body
                        answered[body["data"]["submitDossier"]["dossier"]["code"]] = status
                after = [await _submit(http, who) for who in people[:3]]
                for status, body in after:
                    assert status == 200, body
                    assert body["data"]["submitDossier"]["errors"] == [], body
                    answered[body["data"]["submitDossier"]["dossier"]["code"]] = status
    stored = await _stored_whole_and_gapless(outage.url if settings.is_sqlite else settings.database_url,
                                             set(answered))
    assert set(answered) <= stored  # every dossier the citizen was told of is there (and others are whole)
