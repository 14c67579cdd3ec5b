"""The cost budget: every operation is costed from its document and variables before anything runs, refused
with QUERY_TOO_COSTLY (and what it would have cost) when over the budget, and one request's identical agency
lookups share one call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.graphql.contract_costs import contract_costs
from core.settings import Settings
from mobile_contract.manifest import OPERATIONS, document_hash, operation_text
from tests.api.test_socket import _answer, _subscribed, acknowledged
from tests.support import RunningSandbox, agency_overrides, citizen, error_codes, gql, gql_with_cost, serve

BUDGET = 5000
AGENCY_FIELDS = "populationRecord { fullName } healthInsuranceCard { clinic } trafficFines { plate } " \
                "birthRegistrations { dossierCode }"
# 100 dossiers, each with its events and documents: 1 + 100 * (edges 1 + node 1 + events 3 + documents 2) = 701.
PAGE_OF_DOSSIERS = "myDossiers(first: 100) { edges { node { events { seq status } documents { id } } } }"


def _aliased(selection: str, times: int) -> str:
    return "{ " + " ".join(f"a{i}: {selection}" for i in range(times)) + " }"


def _refused_with(body: dict[str, Any], cost: int) -> None:
    assert "data" not in body, body
    assert error_codes(body) == ["QUERY_TOO_COSTLY"], body
    extensions = body["errors"][0]["extensions"]
    assert (extensions["cost"], extensions["budget"]) == (cost, BUDGET)
    assert str(cost) in extensions["messageEn"]
    assert str(cost) in extensions["messageVi"]


# The lookup each agency-backed `me` field makes (other requests, such as forwarded dossiers, are not counted).
LOOKUPS = {"residence": "/citizens/lookup", "social_insurance": "/cards/lookup", "traffic_fines": "/fines/search",
           "civil_status": "/registrations/search"}


async def _agency_calls(sandboxes: dict[str, RunningSandbox]) -> dict[str, int]:
    return {code: await sandboxes[code].requests_seen(path) for code, path in LOOKUPS.items()}


async def test_a_wide_aliased_document_is_refused_before_any_resolver_runs(
        client: httpx.AsyncClient, settings: Settings, sandboxes: dict[str, RunningSandbox]):
    who = citizen(settings)
    document = "{ me { " + AGENCY_FIELDS + " } " + _aliased(PAGE_OF_DOSSIERS, 14)[2:]
    before = await _agency_calls(sandboxes)
    body = await gql(client, document, who=who)
    # me: 1 + 4 agency fields (1 + 25 each, + their one scalar) = 109; 14 pages of 701.
    _refused_with(body, 109 + 14 * 701)
    assert await _agency_calls(sandboxes) == before  # no resolver ran: no agency was asked
    strict = await client.post("/graphql", json={"query": document}, headers={
        **who.headers, "accept": "application/graphql-response+json"})
    assert strict.status_code == 400
    _refused_with(strict.json(), 109 + 14 * 701)


async def test_a_deep_document_is_refused(client: httpx.AsyncClient):
    node = "events { seq } documents { id } parts { events { seq } documents { id } parts { code } }"
    deep = "myDossiers(first: 100) { edges { node { " + node + " } } }"
    # per dossier: edges 1 + node 1 + events 2 + documents 2 + parts (1 + 2 + 2 + 2) = 13
    body = await gql(client, _aliased(deep, 4))
    _refused_with(body, 4 * (1 + 100 * 13))


async def test_fragments_count_where_they_are_spread(client: httpx.AsyncClient):
    document = """
        query Heavy { a: myDossiers(first: 100) { ...Page } b: myDossiers(first: 100) { ...Page }
                      c: myDossiers(first: 100) { ...Page } d: myDossiers(first: 100) { ...Page }
                      e: myDossiers(first: 100) { ...Page } f: myDossiers(first: 100) { ...Page }
                      g: myDossiers { ...Page } }
        fragment Page on DossierConnection { edges { node { ...Full } } pageInfo { hasNextPage } }
        fragment Full on Dossier { ... on Dossier { events { seq } } documents { ...Doc } parts { ...Doc2 } }
        fragment Doc on Document { id kind }
        fragment Doc2 on Dossier { code }
    """
    # per dossier: edges 1 + node 1 + events 2 + documents 3 + parts 2 = 9; pageInfo 2 (not per dossier)
    # a to f: 1 + 100 * 9 + 2; g (the default page of 20): 1 + 20 * 9 + 2
    body = await gql(client, document)
    _refused_with(body, 6 * 903 + 183)


async def test_under_the_budget_it_is_answered_with_its_cost(client: httpx.AsyncClient, settings: Settings):
    document = """query Q($skip: Boolean!, $n: Int) {
        myDossiers(first: $n) { edges { node { ...D } } pageInfo { hasNextPage } }
        __typename
    }
    fragment D on Dossier { code a: code events @skip(if: $skip) { seq } docs: documents @include(if: true) { id } }
    """
    who = citizen(settings)
    plain = await gql(client, document, {"skip": False, "n": 3}, who=who)
    assert "extensions" not in plain  # only when asked
    full = await gql_with_cost(client, document, {"skip": False, "n": 3}, who=who)
    assert "errors" not in full, full
    # 1 + 3 * (edges 1 + node 1 + code 2 + events 2 + documents 2) + pageInfo 2; __typename is free
    assert full["extensions"]["cost"] == {"requested": 1 + 3 * 8 + 2, "budget": BUDGET}
    skipped = await gql_with_cost(client, document, {"skip": True}, who=who)  # the default page: 20
    assert skipped["extensions"]["cost"] == {"requested": 1 + 20 * 6 + 2, "budget": BUDGET}


@pytest.mark.parametrize(("document", "variables"), [
    ("{ myDossiers(first: 10000) { edges { node { code } } } }", {}),
    ("query Big($n: Int) { myDossiers(first: $n) { edges { node { code } } } }", {"n": 10000}),
], ids=["literal", "variable"])
async def test_a_page_larger_than_the_maximum_costs_the_maximum_like_the_resolver_allows(
        client: httpx.AsyncClient, settings: Settings, document: str, variables: dict[str, Any]):
    body = await gql_with_cost(client, document, variables, who=citizen(settings))
    assert error_codes(body) == ["PAGE_SIZE_TOO_LARGE"]  # the resolver refuses it; its cost is capped the same
    assert body["extensions"]["cost"]["requested"] == 1 + settings.graphql.max_page_size * 3


@pytest.fixture(scope="module")
def patient_server(settings: Settings, sandboxes: dict[str, RunningSandbox]) -> Iterator[str]:
    """Agencies given time and no retries, so on a loaded machine every call counted is one the request made."""
    with serve(create_app(settings, agencies=agency_overrides(sandboxes, timeout=10.0, retries=0))) as url:
        yield url


async def test_the_aliased_agency_attack_makes_one_call_per_distinct_lookup(
        patient_server: str, settings: Settings, sandboxes: dict[str, RunningSandbox]):
    """The attack of issue 11: 15 aliased `me` with four agency fields made 60 agency calls."""
    who = citizen(settings)
    async with httpx.AsyncClient(base_url=patient_server, timeout=60) as client:
        await gql(client, "{ me { fullName } }", who=who)  # sign-in (enrolment) is not what is counted
        before = await _agency_calls(sandboxes)
        body = await gql(client, _aliased("me { " + AGENCY_FIELDS + " }", 15), who=who)
        after = await _agency_calls(sandboxes)
        assert {code: after[code] - before[code] for code in after} == dict.fromkeys(after, 1)
        assert "errors" not in body, body
        assert len({json.dumps(me, sort_keys=True) for me in body["data"].values()}) == 1  # all answered alike
        again = await gql(client, "{ me { trafficFines { plate } } }", who=who)  # a new request asks afresh
    assert "errors" not in again
    assert (await _agency_calls(sandboxes))["traffic_fines"] == after["traffic_fines"] + 1


async def test_persisted_documents_cost_the_same_as_their_text(client: httpx.AsyncClient, settings: Settings):
    home = operation_text(OPERATIONS / "HomeScreen.graphql")
    who = citizen(settings)
    as_text = await gql_with_cost(client, home, who=who)
    by_id = await client.post("/graphql", json={"documentId": f"sha256:{document_hash(home)}",
                                                "extensions": {"cost": True}}, headers=who.headers)
    by_get = await client.get("/graphql", params={"documentId": f"sha256:{document_hash(home)}",
                                                  "extensions": json.dumps({"cost": True})}, headers=who.headers)
    assert as_text["extensions"]["cost"] == by_id.json()["extensions"]["cost"] == by_get.json()["extensions"]["cost"]
    costly = _aliased(PAGE_OF_DOSSIERS, 8)
    apq = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(costly)}}
    registered = await client.post("/graphql", json={"query": costly, "extensions": apq})
    by_hash = await client.post("/graphql", json={"extensions": apq})
    _refused_with(registered.json(), 8 * 701)
    _refused_with(by_hash.json(), 8 * 701)


def test_every_app_operation_stays_well_under_the_budget(settings: Settings):
    """Even with every page as large as the server allows, no screen spends more than a third of the budget."""
    costs = contract_costs(settings)
    assert {c.name for c in costs} == {p.stem for p in OPERATIONS.glob("*.graphql")}
    for c in costs:
        assert 0 < c.cost <= c.largest <= BUDGET // 3, c


@pytest.fixture(scope="module")
def small_budget_server(settings: Settings, sandboxes: dict[str, RunningSandbox]) -> Iterator[str]:
    small = settings.updated(graphql={"query_max_cost": 100})
    with serve(create_app(small, agencies=agency_overrides(sandboxes))) as url:
        yield url


async def test_socket_operations_are_costed_and_refused_over_the_budget(small_budget_server: str,
                                                                       settings: Settings):
    subscription = "subscription S { dossierStatusChanged { dossierCode dossier { events { seq } " \
                   "documents { id } parts { code } } } }"
    costly = "subscription S { dossierStatusChanged { " + " ".join(
        f"d{i}: dossier {{ events {{ seq status }} documents {{ id kind }} }}" for i in range(15)) + " } }"
    async with acknowledged(small_budget_server, {"Authorization": f"Bearer {citizen(settings).token}"}) as ws:
        refused = await _answer(ws, {"query": costly}, operation_id="costly")
        assert refused["type"] == "next", refused  # then `complete`
        assert refused["payload"]["data"] is None
        errors = refused["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["QUERY_TOO_COSTLY"]
        assert (errors[0]["extensions"]["cost"], errors[0]["extensions"]["budget"]) == (1 + 15 * 7, 100)
        await _subscribed(ws, {"query": subscription}, "fine")
    async with httpx.AsyncClient(base_url=small_budget_server) as http:
        body = await gql(http, _aliased("procedures(first: 5) { edges { node { code } } }", 10))
    _refused_with_budget(body, 10 * (1 + 5 * 3), 100)


def _refused_with_budget(body: dict[str, Any], cost: int, budget: int) -> None:
    assert error_codes(body) == ["QUERY_TOO_COSTLY"], body
    assert (body["errors"][0]["extensions"]["cost"], body["errors"][0]["extensions"]["budget"]) == (cost, budget)


@pytest.fixture(scope="module")
def recording_server(settings: Settings, sandboxes: dict[str, RunningSandbox]) -> Iterator[tuple[str, list[Any]]]:
    """The app behind an outer ASGI layer that, like a rate limiter would, reads what each request or socket
    left on its state (`request.state` is the scope's "state")."""
    app = create_app(settings, agencies=agency_overrides(sandboxes))
    seen: list[Any] = []

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        await app(scope, receive, send)
        if scope["type"] in ("http", "websocket") and scope.get("path") == "/graphql":
            state = scope.get("state", {})
            seen.append((scope["type"], state.get("graphql_cost"), state.get("graphql_cost_total")))

    with serve(recording) as url:
        yield url, seen


async def test_the_cost_is_left_on_the_request_state_for_rate_limits(recording_server: tuple[str, list[Any]],
                                                                     settings: Settings):
    url, seen = recording_server
    who = citizen(settings)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        await gql(http, "{ myDossiers(first: 5) { edges { node { code } } pageInfo { hasNextPage } } }", who=who)
        await gql(http, _aliased(PAGE_OF_DOSSIERS, 8))  # refused, and charged what it would have cost
    subscription = "subscription S { dossierStatusChanged { dossierCode } }"
    async with acknowledged(url, {"Authorization": f"Bearer {who.token}"}) as ws:
        await _subscribed(ws, {"query": subscription}, "one")
        await _subscribed(ws, {"query": subscription}, "two")
    async with asyncio.timeout(5):
        while len(seen) < 3:
            await asyncio.sleep(0.02)
    assert seen == [("http", 18, None), ("http", 8 * 701, None), ("websocket", 2, 4)]
