"""Quotas over real HTTP: per citizen, per client IP for anonymous requests, per agency service for status
callbacks, weighted by the operation's cost; 429 with Retry-After and RATE_LIMITED; shared by app instances
on one database; a per-citizen daily submission cap that stores and forwards nothing beyond it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from graphql import parse
from sqlalchemy import func
from sqlmodel import col, select
from starlette.types import ASGIApp
from websockets.asyncio.client import connect

from api.app import create_app
from api.graphql.cost import operation_cost
from api.graphql.schema import contract_schema
from core.db import Database
from core.models import Citizen as CitizenRow
from core.models import Dossier, ForwardJob
from core.seed_data import PROCEDURES
from core.settings import Settings
from mobile_contract.manifest import OPERATIONS, operation_text
from services.signing import signed_headers
from tests.support import Citizen, RunningSandbox, agency_overrides, citizen, sandbox_secret, serve
from tests.sync.helpers import BIRTH, BIRTH_FORM, mutation, push

HOME = operation_text(OPERATIONS / "HomeScreen.graphql")
SUBSCRIPTION = operation_text(OPERATIONS / "DossierStatusChanged.graphql")
CATALOGUE = "{ procedures(first: 1) { edges { node { code } } } }"
RESIDENCE = "1.004194"
SAMPLES = {p["code"]: p["sample"] for p in PROCEDURES}
SUBMIT = """mutation($p: String!, $f: JSON!, $cmid: String) {
  submitDossier(input: {procedureCode: $p, formData: $f, clientMutationId: $cmid}) {
    dossier { code status } errors { code field } } }"""


def _cost(settings: Settings, query: str) -> int:
    """What the server charges for `query`: the cost budget's figure, so limits below are counted in operations."""
    schema = contract_schema(settings)
    return max(1, operation_cost(schema._schema, parse(query), operation_name=None, variables=None,
                                 model=schema.cost_model))


def _quota_app(settings: Settings, sandboxes: dict[str, RunningSandbox], **quota: Any) -> ASGIApp:
    return create_app(settings.updated(quota=quota), agencies=agency_overrides(sandboxes))


@pytest.fixture(scope="module")
def limited(settings: Settings, sandboxes: dict[str, RunningSandbox]) -> Iterator[str]:
    """Three operations a minute per citizen and per anonymous IP, two events a minute per service: low
    enough to reach in a test. Kept in process: on PostgreSQL the shared table would carry these tiny
    limits' state for the service and loopback keys into other tests' servers."""
    app = _quota_app(settings, sandboxes, backend="memory", citizen_limit=3 * _cost(settings, HOME),
                     ip_limit=3 * _cost(settings, CATALOGUE), service_limit=2)
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def capped(settings: Settings, sandboxes: dict[str, RunningSandbox]) -> Iterator[str]:
    """Three submissions a day per citizen, the rates left at their defaults."""
    with serve(_quota_app(settings, sandboxes, submissions_per_day=3)) as url:
        yield url


def _client(url: str, source: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client whose connections come from `source` (any 127.0.0.0/8 address reaches the loopback server)."""
    return httpx.AsyncClient(base_url=url, timeout=30, transport=httpx.AsyncHTTPTransport(local_address=source))


async def _post(http: httpx.AsyncClient, query: str, who: Citizen | None = None, *,
                accept: str = "application/json") -> httpx.Response:
    headers = {**(who.headers if who else {}), "Accept": accept}
    return await http.post("/graphql", json={"query": query}, headers=headers)


def _assert_rate_limited(answer: httpx.Response) -> int:
    assert answer.status_code == 429, answer.text
    retry_after = int(answer.headers["retry-after"])
    body = answer.json()
    assert "data" not in body
    [error] = body["errors"]
    extensions = error["extensions"]
    assert extensions["code"] == "RATE_LIMITED"
    assert extensions["retryAfter"] == retry_after >= 1
    assert str(retry_after) in extensions["messageVi"]
    assert str(retry_after) in extensions["messageEn"]
    return retry_after


async def test_a_citizen_over_quota_gets_429_and_other_citizens_are_served(limited: str, settings: Settings) -> None:
    greedy, other = citizen(settings), citizen(settings)
    async with _client(limited) as http:
        for _ in range(3):
            assert (await _post(http, HOME, greedy)).status_code == 200
        _assert_rate_limited(await _post(http, HOME, greedy))
        _assert_rate_limited(await _post(http, HOME, greedy, accept="application/graphql-response+json"))
        served = await _post(http, HOME, other)
        assert served.status_code == 200, served.text
        assert "errors" not in served.json()


async def test_anonymous_requests_count_per_client_ip(limited: str, settings: Settings) -> None:
    async with _client(limited, "127.0.0.2") as flooder, _client(limited, "127.0.0.3") as neighbour:
        for _ in range(3):
            assert (await _post(flooder, CATALOGUE)).status_code == 200
        _assert_rate_limited(await _post(flooder, CATALOGUE))
        assert (await _post(neighbour, CATALOGUE)).status_code == 200  # another address
        # A signed-in citizen behind the flooding address counts as a citizen (carrier-grade NAT).
        assert (await _post(flooder, CATALOGUE, citizen(settings))).status_code == 200


async def test_operations_are_charged_their_cost(settings: Settings, sandboxes: dict[str, RunningSandbox]) -> None:
    home = _cost(settings, HOME)
    assert home > 2  # a screen of several fields and a page of dossiers costs more than one unit
    who = citizen(settings)
    with serve(_quota_app(settings, sandboxes, citizen_limit=home + home // 2)) as url:
        async with _client(url) as http:
            assert (await _post(http, HOME, who)).status_code == 200  # 1 of 1.5 screens
            _assert_rate_limited(await _post(http, HOME, who))  # 2 > 1.5: charged by cost, not by request


async def test_the_bucket_refills_after_retry_after(settings: Settings, sandboxes: dict[str, RunningSandbox]) -> None:
    who = citizen(settings)
    limit = 2 * _cost(settings, HOME)  # two screens per 2 s: one refills in 1 s
    with serve(_quota_app(settings, sandboxes, citizen_limit=limit, citizen_period_seconds=2)) as url:
        async with _client(url) as http:
            for _ in range(20):  # however slow the machine, the bucket empties faster than 1 per second
                answer = await _post(http, HOME, who)
                if answer.status_code == 429:
                    break
            retry_after = _assert_rate_limited(answer)
            assert retry_after == 1  # one screen's cost refills in 2 s / 2
            await asyncio.sleep(retry_after)
            assert (await _post(http, HOME, who)).status_code == 200


async def test_two_app_instances_on_one_database_share_the_quota(
        settings: Settings, sandboxes: dict[str, RunningSandbox]) -> None:
    who = citizen(settings)
    with ExitStack() as stack:
        urls = [stack.enter_context(serve(_quota_app(settings, sandboxes, backend="database",
                                                         citizen_limit=4 * _cost(settings, HOME))))
                for _ in range(2)]
        async with _client(urls[0]) as first, _client(urls[1]) as second:
            for http in (first, second, first, second):
                assert (await _post(http, HOME, who)).status_code == 200
            _assert_rate_limited(await _post(first, HOME, who))
            _assert_rate_limited(await _post(second, HOME, who))


async def test_a_subscription_over_quota_is_refused_on_its_socket_which_stays_open(limited: str,
                                                                                 settings: Settings) -> None:
    who = citizen(settings)
    async with _client(limited) as http:
        for _ in range(3):
            assert (await _post(http, HOME, who)).status_code == 200
    url = limited.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {who.token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
        async with asyncio.timeout(5):
            refused = json.loads(await ws.recv())
        assert refused["type"] == "error"
        assert refused["id"] == "1"
        [error] = refused["payload"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] >= 1
        await ws.send(json.dumps({"type": "ping"}))
        async with asyncio.timeout(5):
            assert json.loads(await ws.recv())["type"] == "pong"


def _event(dossier_code: str, status: str) -> bytes:
    return json.dumps({"event_id": f"quota-{uuid.uuid4().hex[:12]}", "dossier_ref": dossier_code, "status": status,
                       "occurred_at": "2026-11-20T08:00:00+07:00"}).encode()


async def _callback(http: httpx.AsyncClient, service: str, *, secret: bytes | None = None) -> httpx.Response:
    body = _event("NO-SUCH-DOSSIER", {"residence": "2", "civil_status": "DA_TIEP_NHAN"}[service])
    headers = signed_headers(secret or sandbox_secret(service), str(int(time.time())), body)
    return await http.post(f"/agencies/{service}/events", content=body, headers=headers)


async def test_agency_callbacks_are_limited_per_service(limited: str) -> None:
    async with _client(limited) as http:
        # Events nobody signed are refused before the quota: they cannot spend the agency's share.
        for _ in range(3):
            assert (await _callback(http, "residence", secret=b"forged")).status_code == 401
        for _ in range(2):
            assert (await _callback(http, "residence")).status_code == 404  # applied: no such dossier
        refused = await _callback(http, "residence")
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["outcome"] == "refused"
        assert refused.json()["reason"] == "RATE_LIMITED"
        assert (await _callback(http, "civil_status")).status_code == 404  # another service's own quota


async def _submit(http: httpx.AsyncClient, who: Citizen, client_mutation_id: str | None = None) -> dict[str, Any]:
    answer = await http.post("/graphql", headers=who.headers, json={"query": SUBMIT, "variables": {
        "p": RESIDENCE, "f": SAMPLES[RESIDENCE], "cmid": client_mutation_id}})
    assert answer.status_code == 200, answer.text
    payload: dict[str, Any] = answer.json()["data"]["submitDossier"]
    return payload


async def _stored(db: Database, who: Citizen) -> tuple[int, int]:
    """(dossiers, forward jobs) of the citizen."""
    async with db.read() as session:
        owner = select(CitizenRow.id).where(CitizenRow.id_number == who.id_number).scalar_subquery()
        dossiers = (await session.execute(select(func.count()).select_from(Dossier)
                                          .where(col(Dossier.citizen_id) == owner))).scalar_one()
        jobs = (await session.execute(
            select(func.count()).select_from(ForwardJob).join(Dossier, col(Dossier.id) == col(ForwardJob.dossier_id))
            .where(col(Dossier.citizen_id) == owner))).scalar_one()
    return int(dossiers), int(jobs)


def _forwarded(running: RunningSandbox, codes: set[str]) -> set[str]:
    return {r.dossier_code for r in running.sandbox.received.values()} & codes


async def test_submissions_over_the_daily_cap_store_and_forward_nothing(
        capped: str, settings: Settings, db: Database, sandboxes: dict[str, RunningSandbox]) -> None:
    who, before = citizen(settings), len(sandboxes["residence"].sandbox.received)
    async with _client(capped) as http:
        first = await _submit(http, who, "first")
        codes = {first["dossier"]["code"]}
        for _ in range(2):
            codes.add((await _submit(http, who))["dossier"]["code"])
        over = await _submit(http, who)
        assert over["dossier"] is None
        assert [e["code"] for e in over["errors"]] == ["DAILY_SUBMISSION_LIMIT"]
        again = await _submit(http, who, "first")  # a retry of a received submission is its answer, not a new one
        assert again["dossier"]["code"] == first["dossier"]["code"]
        assert again["errors"] == []
    assert await _stored(db, who) == (3, 3)
    residence = sandboxes["residence"]
    async with asyncio.timeout(15):
        while _forwarded(residence, codes) != codes:
            await asyncio.sleep(0.05)
    await asyncio.sleep(1)  # the forwarder polls every 0.2 s: nothing more may arrive
    assert len(residence.sandbox.received) - before == 3
    assert await _stored(db, who) == (3, 3)


async def test_concurrent_submissions_never_pass_the_cap(capped: str, settings: Settings, db: Database) -> None:
    who = citizen(settings)
    async with _client(capped) as http:
        await _post(http, HOME, who)  # enrol first, so the six race only on the cap
        answers = await asyncio.gather(*(_submit(http, who) for _ in range(6)))
    assert sorted(bool(a["dossier"]) for a in answers) == [False] * 3 + [True] * 3
    assert {e["code"] for a in answers for e in a["errors"]} == {"DAILY_SUBMISSION_LIMIT"}
    assert await _stored(db, who) == (3, 3)


async def test_a_queued_submission_over_the_cap_is_rejected_and_the_queue_moves_on(
        capped: str, settings: Settings, db: Database) -> None:
    who = citizen(settings)
    async with _client(capped) as http:
        for _ in range(3):
            assert (await _submit(http, who))["errors"] == []
        device, draft = str(uuid.uuid4()), str(uuid.uuid4())
        batch = [mutation(1, "draft.create", draft, {"procedureCode": BIRTH, "fields": BIRTH_FORM}),
                 mutation(2, "draft.submit", draft, base=1),
                 mutation(3, "draft.update", draft, {"fields": {"place_of_birth": "Huế"}}, base=1)]
        results = (await push(http, who, device, batch))["data"]["syncPush"]["results"]
    assert [r["status"] for r in results] == ["APPLIED", "REJECTED", "APPLIED"]
    assert results[1]["error"]["code"] == "DAILY_SUBMISSION_LIMIT"
    assert await _stored(db, who) == (3, 3)
