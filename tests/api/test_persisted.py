"""Persisted documents: APQ round trip, `documentId`, persisted-only (production) mode, HTTP caching."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from api.app import create_app
from core.settings import Environment, Settings
from mobile_contract import manifest
from mobile_contract.manifest import document_hash, operation_text
from tests.support import citizen, serve

CATALOGUE = operation_text(manifest.OPERATIONS / "ProcedureCatalogue.graphql")
WALLET = operation_text(manifest.OPERATIONS / "Wallet.graphql")
AD_HOC = "query AdHoc { procedures(first: 1) { edges { node { code } } } }"


def _apq(digest: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_apq_round_trip_registers_then_runs_by_hash(client: httpx.AsyncClient) -> None:
    text = "query ApqProbe { procedures(first: 2) { edges { node { code } } } }"
    digest = document_hash(text)
    miss = await client.post("/graphql", json={"extensions": _apq(digest)})
    assert miss.status_code == 200
    assert _code(miss) == "PERSISTED_QUERY_NOT_FOUND"
    register = await client.post("/graphql", json={"query": text, "extensions": _apq(digest)})
    assert register.status_code == 200
    assert len(register.json()["data"]["procedures"]["edges"]) == 2
    hit = await client.post("/graphql", json={"extensions": _apq(digest)})
    assert hit.json() == register.json()


async def test_apq_hash_that_does_not_match_the_text_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": AD_HOC, "extensions": _apq("a" * 64)})
    assert _code(response) == "PERSISTED_QUERY_HASH_MISMATCH"
    garbage = await client.post("/graphql", json={"extensions": _apq("not-a-hash")})
    assert _code(garbage) == "PERSISTED_QUERY_NOT_FOUND"


async def test_document_id_runs_a_manifest_document(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"documentId": f"sha256:{document_hash(CATALOGUE)}",
                                                   "variables": {"search": "khai sinh"}})
    assert response.status_code == 200
    codes = [e["node"]["code"] for e in response.json()["data"]["procedures"]["edges"]]
    assert "1.001193" in codes
    assert all("khai sinh" in e["node"]["name"]["vi"].lower() for e in response.json()["data"]["procedures"]["edges"])


async def test_unknown_document_id_is_400_under_graphql_response_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"documentId": "sha256:" + "b" * 64},
                                 headers={"accept": "application/graphql-response+json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert _code(response) == "PERSISTED_QUERY_NOT_FOUND"
    assert "data" not in response.json()


@pytest.fixture(scope="module")
def production_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server in persisted-only mode, on the same database."""
    prod = Settings(env=Environment.TEST, data_dir=settings.data_dir, database_url=settings.database_url,
                    graphql={"persisted_only": True})
    with serve(create_app(prod)) as base_url:
        yield base_url


async def test_persisted_only_mode_refuses_an_ad_hoc_document(production_server: str) -> None:
    async with httpx.AsyncClient(base_url=production_server) as http:
        refused = await http.post("/graphql", json={"query": AD_HOC})
        assert _code(refused) == "PERSISTED_QUERY_REQUIRED"
        register = await http.post("/graphql", json={"query": AD_HOC, "extensions": _apq(document_hash(AD_HOC))})
        assert _code(register) == "PERSISTED_QUERY_REQUIRED"
        introspection = await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        assert _code(introspection) == "PERSISTED_QUERY_REQUIRED"


async def test_persisted_only_mode_runs_manifest_documents_by_hash_and_by_text(
    production_server: str, settings: Settings
) -> None:
    who = citizen(settings)
    async with httpx.AsyncClient(base_url=production_server) as http:
        by_hash = await http.post("/graphql", json={"extensions": _apq(document_hash(WALLET))}, headers=who.headers)
        assert by_hash.json() == {"data": {"me": {"documents": []}}}
        by_text = await http.post("/graphql", json={"query": WALLET}, headers=who.headers)
        assert by_text.json() == by_hash.json()


async def test_public_persisted_get_is_cacheable_with_etag(client: httpx.AsyncClient) -> None:
    params = {"documentId": f"sha256:{document_hash(CATALOGUE)}", "variables": json.dumps({"first": 3})}
    first = await client.get("/graphql", params=params)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=300"
    etag = first.headers["etag"]
    again = await client.get("/graphql", params=params, headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = await client.get("/graphql", params={**params, "variables": json.dumps({"first": 4})},
                             headers={"if-none-match": etag})
    assert other.status_code == 200
    assert other.headers["etag"] != etag


async def test_citizen_data_is_never_cacheable(client: httpx.AsyncClient, settings: Settings) -> None:
    who = citizen(settings)
    wallet = await client.get("/graphql", params={"documentId": document_hash(WALLET)}, headers=who.headers)
    assert wallet.status_code == 200
    assert wallet.headers["cache-control"] == "no-store"
    assert "etag" not in wallet.headers
    catalogue_with_token = await client.get("/graphql", params={"documentId": document_hash(CATALOGUE)},
                                            headers=who.headers)
    assert catalogue_with_token.headers["cache-control"] == "no-store"
    ad_hoc_get = await client.get("/graphql", params={"query": AD_HOC})
    assert ad_hoc_get.headers["cache-control"] == "no-store"
