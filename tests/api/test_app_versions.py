"""App versions over real HTTP and a real WebSocket: an app below its platform's minimum gets APP_UPDATE_REQUIRED
with the store link and nothing else (no agency called), a current one and an unknown one are served, an
operator's change takes effect without a restart, and the operations each version sends are counted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlmodel import col, select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from core.app_versions import MinimumVersions, set_minimum
from core.db import Database
from core.models import AppMinimumVersion, AppOperationUsage
from core.settings import AppSettings, Settings
from mobile_contract.client_forms import with_typename
from mobile_contract.manifest import OPERATIONS, document_hash, operation_text
from tests.support import Citizen, RunningSandbox, agency_overrides, citizen, serve

HOME = operation_text(OPERATIONS / "HomeScreen.graphql")
CATALOGUE = operation_text(OPERATIONS / "ProcedureCatalogue.graphql")
SUBSCRIPTION = operation_text(OPERATIONS / "DossierStatusChanged.graphql")
STORE = "https://play.google.com/store/apps/details?id=vn.gov.test"
POPULATION = "{ me { populationRecord { fullName } } }"


def app_headers(version: str, name: str = "dichvucong-android") -> dict[str, str]:
    return {"apollographql-client-name": name, "apollographql-client-version": version}


async def minimum(db: Database, platform: str, version: tuple[int, int, int], url: str = STORE) -> None:
    await db.transaction(lambda s: set_minimum(s, platform=platform, version=version, store_url=url))


async def forget(db: Database) -> None:
    """This module's minimums and usage rows go, so no other test's server sees them."""
    async def work(session: Any) -> None:
        await session.execute(delete(AppMinimumVersion))
        await session.execute(delete(AppOperationUsage))
    await db.transaction(work)


@pytest.fixture
async def clean(db: Database) -> AsyncIterator[Database]:
    await forget(db)
    yield db
    await forget(db)


@pytest.fixture(scope="module")
def versions_settings(settings: Settings) -> Settings:
    """Every request reads the minimums (cache 0), and usage is written only at shutdown (so a test decides)."""
    return settings.updated(apps={"policy_cache_seconds": 0, "usage_flush_seconds": 3600})


@pytest.fixture(scope="module")
def versions_server(versions_settings: Settings, sandboxes: dict[str, RunningSandbox]) -> Iterator[str]:
    with serve(create_app(versions_settings, agencies=agency_overrides(sandboxes))) as url:
        yield url


def persisted(text: str) -> dict[str, Any]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": document_hash(text)}}}


async def post(url: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        return await http.post("/graphql", json=body, headers=headers)


async def test_an_old_app_gets_only_app_update_required_and_a_current_one_is_served(
        clean: Database, versions_server: str, settings: Settings) -> None:
    await minimum(clean, "android", (2, 0, 0))
    who = citizen(settings)
    old = await post(versions_server, {"query": HOME}, {**who.headers, **app_headers("1.9.9")})
    assert old.status_code == 200, old.text
    body = old.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "APP_UPDATE_REQUIRED"
    assert (error["extensions"]["minimumVersion"], error["extensions"]["storeUrl"],
            error["extensions"]["platform"]) == ("2.0.0", STORE, "android")
    assert error["message"] == error["extensions"]["messageVi"]
    assert "version 2.0.0 or later" in error["extensions"]["messageEn"]
    assert old.headers["cache-control"] == "no-store"

    english = await post(versions_server, {**persisted(HOME)},
                         {**who.headers, **app_headers("1.0.0"), "Accept-Language": "en",
                          "Accept": "application/graphql-response+json"})
    assert english.status_code == 400  # a request error under GraphQL over HTTP's media type: nothing ran
    assert english.json()["errors"][0]["message"] == english.json()["errors"][0]["extensions"]["messageEn"]

    for served in (app_headers("2.0.0"), app_headers("10.0.1"), {}, app_headers("0.0.1", "dichvucong-ios")):
        answer = await post(versions_server, {"query": HOME}, {**who.headers, **served})
        assert answer.status_code == 200
        assert answer.json().get("errors") is None, (served, answer.text)
        assert answer.json()["data"]["me"] is not None


async def test_a_persisted_get_and_a_malformed_body_of_an_old_app_are_refused_the_same_way(
        clean: Database, versions_server: str) -> None:
    await minimum(clean, "android", (2, 0, 0))
    async with httpx.AsyncClient(base_url=versions_server, timeout=30) as http:
        get = await http.get("/graphql", params={"extensions": json.dumps(persisted(CATALOGUE)["extensions"]),
                                                 "variables": json.dumps({"search": "khai sinh"})},
                             headers=app_headers("1.2.3"))
        garbage = await http.post("/graphql", content=b"{not json", headers={
            **app_headers("1.2.3"), "content-type": "application/json"})
        current = await http.get("/graphql", params={"extensions": json.dumps(persisted(CATALOGUE)["extensions"]),
                                                     "variables": json.dumps({"search": "khai sinh"})},
                                 headers=app_headers("2.0.0"))
    assert [e["extensions"]["code"] for e in get.json()["errors"]] == ["APP_UPDATE_REQUIRED"]
    assert "etag" not in get.headers
    assert [e["extensions"]["code"] for e in garbage.json()["errors"]] == ["APP_UPDATE_REQUIRED"]
    assert current.status_code == 200
    assert current.json()["data"]["procedures"]["edges"], current.text
    # A shared cache keeps one answer per app version, so an old app never gets a current one's from it.
    assert "apollographql-client-version" in current.headers["vary"]


async def test_an_old_app_costs_no_agency_call(clean: Database, versions_server: str, settings: Settings,
                                               sandboxes: dict[str, RunningSandbox]) -> None:
    await minimum(clean, "android", (2, 0, 0))
    who = citizen(settings)
    residence = sandboxes["residence"]
    before = await residence.requests_seen()
    refused = await post(versions_server, {"query": POPULATION}, {**who.headers, **app_headers("1.0.0")})
    assert [e["extensions"]["code"] for e in refused.json()["errors"]] == ["APP_UPDATE_REQUIRED"]
    assert await residence.requests_seen() == before
    served = await post(versions_server, {"query": POPULATION}, {**who.headers, **app_headers("2.0.0")})
    assert "data" in served.json()
    assert await residence.requests_seen() > before  # the same query from a current app does call the agency


async def test_an_operators_change_takes_effect_without_a_restart(clean: Database, versions_server: str) -> None:
    await minimum(clean, "web", (3, 0, 0), "https://dichvucong.gov.vn/app")
    refused = await post(versions_server, {"query": CATALOGUE, "variables": {"search": "x"}},
                         app_headers("2.5.0", "dichvucong-web"))
    assert refused.json()["errors"][0]["extensions"]["code"] == "APP_UPDATE_REQUIRED"
    assert refused.json()["errors"][0]["extensions"]["storeUrl"] == "https://dichvucong.gov.vn/app"
    await minimum(clean, "web", (2, 5, 0), "https://dichvucong.gov.vn/app")
    served = await post(versions_server, {"query": CATALOGUE, "variables": {"search": "x"}},
                        app_headers("2.5.0", "dichvucong-web"))
    assert "errors" not in served.json(), served.text


async def test_the_cache_serves_the_known_minimums_until_it_expires(clean: Database) -> None:
    now = [100.0]
    minimums = MinimumVersions(clean, AppSettings(policy_cache_seconds=10, min_version_ios="1.0.0"),
                               clock=lambda: now[0])
    assert (await minimums.for_platform("ios")).text == "1.0.0"  # type: ignore[union-attr]
    assert (await minimums.for_platform("ios")).source == "settings"  # type: ignore[union-attr]
    await minimum(clean, "ios", (4, 1, 0))
    now[0] += 9.9
    assert (await minimums.for_platform("ios")).text == "1.0.0"  # type: ignore[union-attr]
    now[0] += 0.1
    found = await minimums.for_platform("ios")
    assert found is not None
    assert (found.text, found.source) == ("4.1.0", "database")


async def test_unknown_apps_are_refused_only_when_the_setting_says_so(
        clean: Database, versions_settings: Settings, sandboxes: dict[str, RunningSandbox]) -> None:
    strict = versions_settings.updated(apps={"refuse_unknown": True, "policy_cache_seconds": 0})
    with serve(create_app(strict, agencies=agency_overrides(sandboxes))) as url:
        unknown = await post(url, {"query": CATALOGUE, "variables": {"search": "x"}}, {})
        malformed = await post(url, {"query": CATALOGUE, "variables": {"search": "x"}},
                               app_headers("v2"))
        known = await post(url, {"query": CATALOGUE, "variables": {"search": "x"}}, app_headers("1.0.0"))
    for refused in (unknown, malformed):
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "APP_UPDATE_REQUIRED"
        assert (error["extensions"]["platform"], error["extensions"]["minimumVersion"]) == ("unknown", None)
        assert error["extensions"]["storeUrl"] == strict.apps.download_url
    assert "errors" not in known.json(), known.text


def _ws(url: str) -> str:
    return url.replace("http://", "ws://") + "/graphql"


async def _close_code(url: str, *, payload: dict[str, Any], headers: dict[str, str]) -> tuple[int, str] | str:
    """The close code and reason, or the first message's type when the socket stays open."""
    async with connect(_ws(url), subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                       additional_headers=headers) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            async with asyncio.timeout(5):
                return str(json.loads(await ws.recv())["type"])
        except ConnectionClosed as closed:
            frame = closed.rcvd
    assert frame is not None
    return frame.code, frame.reason


async def test_an_old_app_socket_closes_with_4426(clean: Database, versions_server: str, settings: Settings) -> None:
    await minimum(clean, "android", (2, 0, 0))
    token = {"authToken": citizen(settings).token}
    assert await _close_code(versions_server, payload={**token, **app_headers("1.0.0")}, headers={}) == (
        4426, "APP_UPDATE_REQUIRED")
    assert await _close_code(versions_server, payload=token, headers=app_headers("1.0.0")) == (
        4426, "APP_UPDATE_REQUIRED")
    # The payload's keys win over the handshake's headers (a browser cannot set the upgrade's headers).
    assert await _close_code(versions_server, payload={**token, **app_headers("2.0.0")},
                             headers=app_headers("1.0.0")) == "connection_ack"
    assert await _close_code(versions_server, payload=token, headers={}) == "connection_ack"


async def test_usage_is_counted_per_app_version_and_written_in_a_batch(
        clean: Database, versions_settings: Settings, sandboxes: dict[str, RunningSandbox],
        settings: Settings) -> None:
    who: Citizen = citizen(settings)
    app = create_app(versions_settings, agencies=agency_overrides(sandboxes))
    with serve(app) as url:
        for _ in range(3):
            await post(url, persisted(with_typename(HOME)), {**who.headers, **app_headers("2.1.0")})
        await post(url, {"query": HOME}, {**who.headers, **app_headers("2.2.0")})
        await post(url, {"query": HOME}, who.headers)  # an unknown app: no version to count
        await post(url, {"query": "{ procedures(first: 1) { edges { node { code } } } }"},
                   app_headers("2.2.0"))  # ad hoc: part of no release
        async with connect(_ws(url), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": {
                "authToken": who.token, **app_headers("2.0.0", "dichvucong-ios")}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
        async with clean.read() as session:  # nothing written per request
            assert (await session.execute(select(AppOperationUsage))).scalars().all() == []
    async with clean.read() as session:  # the server's shutdown flushed the batch
        rows = (await session.execute(select(AppOperationUsage).order_by(
            col(AppOperationUsage.app_name), col(AppOperationUsage.app_version)))).scalars().all()
    seen = {(r.app_name, r.app_version, r.operation_name, r.operation_hash, r.count) for r in rows}
    assert seen == {
        ("dichvucong-android", "2.1.0", "HomeScreen", document_hash(with_typename(HOME)), 3),
        ("dichvucong-android", "2.2.0", "HomeScreen", document_hash(HOME), 1),
        ("dichvucong-ios", "2.0.0", "DossierStatusChanged", document_hash(SUBSCRIPTION), 1),
    }
    assert all(r.first_seen <= r.last_seen for r in rows)
    assert {r.platform for r in rows} == {"android", "ios"}
