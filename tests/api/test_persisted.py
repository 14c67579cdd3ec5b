"""Persisted documents: APQ round trip, `documentId`, persisted-only (production) mode, HTTP caching."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from graphql import parse

from api.app import create_app
from core.settings import Environment, Settings
from mobile_contract import manifest
from mobile_contract.client_forms import executable, printed, with_typename
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


async def test_standard_client_forms_of_a_manifest_document_run_in_production(
    production_server: str, settings: Settings
) -> None:
    """Apollo Client and urql hash the printed document with `__typename` added, graphql-codegen a sorted
    one-line print: every such form of a manifest document is trusted."""
    who = citizen(settings)
    async with httpx.AsyncClient(base_url=production_server) as http:
        for text in (with_typename(WALLET), printed(WALLET), executable(parse(WALLET))):
            by_hash = await http.post("/graphql", json={"extensions": _apq(document_hash(text))}, headers=who.headers)
            assert by_hash.status_code == 200
            assert by_hash.json()["data"]["me"]["documents"] == [], by_hash.json()
            by_text = await http.post("/graphql", json={"query": text, "extensions": _apq(document_hash(text))},
                                      headers=who.headers)
            assert by_text.json() == by_hash.json()
        typename = await http.post("/graphql", json={"extensions": _apq(document_hash(with_typename(WALLET)))},
                                   headers=who.headers)
        assert typename.json()["data"]["me"]["__typename"] == "Me"


async def test_a_miss_says_persisted_query_not_found_as_standard_clients_expect(production_server: str) -> None:
    async with httpx.AsyncClient(base_url=production_server) as http:
        miss = await http.post("/graphql", json={"extensions": _apq("d" * 64)}, headers={"accept-language": "en"})
    error = miss.json()["errors"][0]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert error["extensions"]["messageVi"].startswith("Máy chủ chưa có")


def test_the_apollo_manifest_is_built_from_the_operations() -> None:
    committed = manifest.APOLLO_MANIFEST.read_text(encoding="utf-8")
    assert committed == manifest.render_apollo(manifest.build_apollo()), f"run `{manifest.BUILD_COMMAND}`"
    loaded = manifest.load(manifest.APOLLO_MANIFEST)
    assert len(loaded) == len(manifest.operation_files())
    assert all("__typename" in text for text in loaded.values())


def test_an_apollo_manifest_whose_id_is_not_the_hash_of_its_body_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "persisted-query-manifest.json"
    body = "query Q { __typename }"
    path.write_text(json.dumps({"format": manifest.APOLLO_FORMAT, "version": 1, "operations": [
        {"id": "0" * 64, "name": "Q", "type": "query", "body": body}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="contract build"):
        manifest.load(path)
    path.write_text(json.dumps({"format": manifest.APOLLO_FORMAT, "version": 1, "operations": [
        {"id": document_hash(body), "name": "Q", "type": "query", "body": body}]}), encoding="utf-8")
    assert manifest.load(path) == {document_hash(body): body}


def test_codegen_form_sorts_selections_and_variables_on_one_line() -> None:
    """The text @graphql-tools/documents prints (compared with the real library in tests/js)."""
    text = "query Q($b: Int, $a: Int) { z(b: $b, a: $a) { y id __typename } a }"
    assert executable(parse(text)) == "query Q($a: Int, $b: Int) { a z(b: $b, a: $a) { __typename id y } }"
    mutation = "mutation M { z { b a } a }"
    assert executable(parse(mutation)) == "mutation M { z { a b } a }"
