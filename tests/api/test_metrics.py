"""`/metrics` (issue 11 item 6): counters moved as things happen, a scrape that runs no SQL at all, and in
production no public numbers: a bearer token or an internal port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event
from starlette.applications import Starlette

from api.app import create_app
from api.auth import load_dev_private_key
from api.metrics import serve_metrics_port
from core.log_format import request_id
from core.settings import Environment, Settings
from tests.support import TEST_SIGNING_KEYS, RunningSandbox, agency_overrides, citizen, gql, serve

CATALOGUE = "{ procedures(first: 1) { edges { node { code } } } }"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _value(text: str, name: str, **labels: str) -> float:
    return _samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


@contextmanager
def _statements(app: Starlette, request: str) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs meanwhile for the request whose X-Request-Id is `request`
    (the forwarder polls the database on its own all along)."""
    seen: list[str] = []
    engine = app.state.db.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if request_id.get() == request:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_scrape_runs_no_sql_and_counters_move_with_requests(
        app: Starlette, client: httpx.AsyncClient, settings: Settings) -> None:
    with _statements(app, "scrape-1") as sql:
        before = (await client.get("/metrics", headers={"X-Request-Id": "scrape-1"})).text
    assert sql == []  # not one statement, let alone a count over a table
    with _statements(app, "catalogue-1") as sql:  # the check itself sees a request's SQL
        await gql(client, CATALOGUE, headers={"X-Request-Id": "catalogue-1"})
    assert sql
    await gql(client, "{ me { idNumber } }")  # no token: UNAUTHENTICATED
    await gql(client, "{ nope }")  # a validation error: nothing runs
    with _statements(app, "scrape-2") as sql:
        response = await client.get("/metrics", headers={"X-Request-Id": "scrape-2"})
    assert sql == []
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    for name, labels, grew_by in [
        ("superapp_graphql_requests_total", {"operation": "adhoc", "outcome": "ok"}, 1),
        ("superapp_graphql_requests_total", {"operation": "adhoc", "outcome": "refused"}, 1),
        ("superapp_graphql_errors_total", {"code": "UNAUTHENTICATED"}, 1),
        ("superapp_graphql_errors_total", {"code": "GRAPHQL_VALIDATION_FAILED"}, 1),
    ]:
        assert _value(after, name, **labels) >= _value(before, name, **labels) + grew_by, (name, labels)


async def test_agency_calls_are_counted_by_service_and_outcome(
        client: httpx.AsyncClient, settings: Settings) -> None:
    before = (await client.get("/metrics")).text
    body = await gql(client, "{ me { healthInsuranceCard { number } } }", who=citizen(settings))
    assert body["data"]["me"]["healthInsuranceCard"]["number"]
    after = (await client.get("/metrics")).text
    labels = {"service": "social_insurance", "outcome": "ok"}
    assert _value(after, "superapp_agency_calls_total", **labels) > _value(before, "superapp_agency_calls_total",
                                                                           **labels)


def _production(settings: Settings, tmp_path: Path, **server: Any) -> Settings:
    public_pem = tmp_path / "eid-public.pem"
    public_pem.write_bytes(load_dev_private_key(settings.dev_key_path).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return Settings(env=Environment.PRODUCTION, data_dir=settings.data_dir, database_url=settings.database_url,
                    auth={"eid_public_key_file": public_pem}, server=server, signing={"keys": TEST_SIGNING_KEYS})


async def _get(app: Starlette, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            return await http.get(path, headers=headers)


async def test_production_refuses_public_metrics_and_asks_for_the_token(
        settings: Settings, db: object, tmp_path: Path, sandboxes: dict[str, RunningSandbox]) -> None:
    overrides = agency_overrides(sandboxes)
    bare = create_app(_production(settings, tmp_path), agencies=overrides)
    assert (await _get(bare, "/metrics")).status_code == 404
    guarded = create_app(_production(settings, tmp_path, metrics_token="s3cret-scraper-token"), agencies=overrides)
    with serve(guarded) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            assert (await http.get("/metrics")).status_code == 401
            assert (await http.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
            good = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-scraper-token"})
    assert good.status_code == 200
    assert "superapp_graphql_requests_total" in good.text


async def test_the_internal_port_serves_metrics_and_the_public_route_does_not(
        settings: Settings, db: object) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    internal = settings.updated(server={"metrics_port": port})
    listener = serve_metrics_port(internal)
    assert listener is not None
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            scraped = await http.get(f"http://127.0.0.1:{port}/metrics")
        assert scraped.status_code == 200
        assert "superapp_graphql_requests_total" in scraped.text
        assert (await _get(create_app(internal), "/metrics")).status_code == 404
    finally:
        listener.shutdown()
        listener.server_close()
