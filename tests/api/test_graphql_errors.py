"""Malformed requests over HTTP: typed codes, GraphQL-over-HTTP status codes and media types, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.db import Database
from core.settings import Settings
from tests.api.helpers import stored_dossier, submitted_code
from tests.support import citizen

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
REQUEST_ERROR_CODES = {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}

# (id, request body, expected extensions.code)
REQUEST_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("syntax", {"query": "{ procedure(code: \"1.001193\") { code "}, "GRAPHQL_PARSE_FAILED"),
    ("not-graphql", {"query": "SELECT * FROM dossier"}, "GRAPHQL_PARSE_FAILED"),
    ("too-many-tokens", {"query": "{ " + "__typename " * 2100 + "}"}, "GRAPHQL_PARSE_FAILED"),
    ("unknown-field", {"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("unknown-argument", {"query": "{ procedure(code: \"1.001193\", lang: \"vi\") { code } }"},
     "GRAPHQL_VALIDATION_FAILED"),
    ("wrong-literal-type", {"query": "{ procedure(code: 5) { code } }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("missing-subselection", {"query": "{ procedure(code: \"1.001193\") }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("fragment-cycle", {"query": "{ ...A } fragment A on Query { ...A }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("subscription", {"query": "subscription { dossierChanged }"}, "GRAPHQL_VALIDATION_FAILED"),
    ("wrong-variable-type", {"query": "query($c: String!) { procedure(code: $c) { code } }", "variables": {"c": 5}},
     "BAD_USER_INPUT"),
    ("missing-variable", {"query": "query($c: String!) { procedure(code: $c) { code } }"}, "BAD_USER_INPUT"),
    ("null-for-non-null", {"query": "query($c: String!) { procedure(code: $c) { code } }", "variables": {"c": None}},
     "BAD_USER_INPUT"),
    ("bad-enum-variable", {"query": "query($s: [DossierStatus!]) { myDossiers(status: $s) { edges { cursor } } }",
                           "variables": {"s": ["LOST"]}}, "BAD_USER_INPUT"),
]


def _ids(cases: list[tuple[str, Any, Any]]) -> list[str]:
    return [case[0] for case in cases]


@pytest.mark.parametrize("accept", [None, JSON, f"{JSON}, text/plain", "*/*"])
@pytest.mark.parametrize(("body", "code"), [c[1:] for c in REQUEST_ERRORS], ids=_ids(REQUEST_ERRORS))
async def test_request_errors_under_application_json_are_200_with_a_typed_code(
    client: httpx.AsyncClient, accept: str | None, body: dict[str, Any], code: str
) -> None:
    response = await client.post("/graphql", json=body, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON)
    answer = response.json()
    assert "data" not in answer
    assert answer["errors"]
    assert {e["extensions"]["code"] for e in answer["errors"]} == {code}


@pytest.mark.parametrize(("body", "code"), [c[1:] for c in REQUEST_ERRORS], ids=_ids(REQUEST_ERRORS))
async def test_request_errors_under_graphql_response_json_are_400_without_data(
    client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    response = await client.post("/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    answer = response.json()
    assert "data" not in answer
    assert {e["extensions"]["code"] for e in answer["errors"]} == {code}


async def test_graphql_response_json_is_preferred_when_both_are_acceptable(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ nope }"},
                                 headers={"Accept": f"{GRAPHQL_RESPONSE}, {JSON};q=0.9"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_resolver_errors_keep_200_and_data(client: httpx.AsyncClient, accept: str) -> None:
    response = await client.post("/graphql", headers={"Accept": accept}, json={
        "query": '{ procedure(code: "9.999999") { code } procedures(first: 1) { edges { node { code } } } }'})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept)
    answer = response.json()
    assert answer["data"] == {"procedure": None, "procedures": {"edges": [{"node": {"code": "1.000045"}}]}}
    assert [(e["extensions"]["code"], e["path"]) for e in answer["errors"]] == [("NOT_FOUND", ["procedure"])]


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_a_successful_answer_has_the_negotiated_media_type(client: httpx.AsyncClient, accept: str) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", ["text/xml", "application/xml, text/csv", "image/png"])
async def test_an_unacceptable_accept_is_406(client: httpx.AsyncClient, accept: str) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"Accept": accept})
    assert response.status_code == 406


# --- bodies that are not a GraphQL request --------------------------------------------------------------------

NOT_REQUESTS: list[tuple[str, bytes, str]] = [
    ("not-json", b"this is not json", JSON),
    ("empty", b"", JSON),
    ("truncated-json", b'{"query": "{ __typename }"', JSON),
    ("json-array", b'[{"query": "{ __typename }"}]', JSON),
    ("no-query", b'{"variables": {}}', JSON),
    ("query-not-a-string", b'{"query": 5}', JSON),
    ("variables-not-an-object", b'{"query": "{ __typename }", "variables": [1]}', JSON),
    ("unsupported-content-type", b"query={__typename}", "application/x-www-form-urlencoded"),
]


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
@pytest.mark.parametrize(("content", "content_type"), [c[1:] for c in NOT_REQUESTS], ids=_ids(NOT_REQUESTS))
async def test_a_body_that_is_not_a_graphql_request_is_a_4xx(client: httpx.AsyncClient, content: bytes,
                                                             content_type: str, accept: str) -> None:
    response = await client.post("/graphql", content=content,
                                 headers={"Content-Type": content_type, "Accept": accept})
    assert 400 <= response.status_code < 500, (response.status_code, response.text)


@pytest.mark.parametrize("content", [b"42", b'"{ __typename }"', b"true", b"null"],
                         ids=["number", "string", "boolean", "null"])
async def test_a_json_scalar_body_is_a_400(client: httpx.AsyncClient, content: bytes) -> None:
    response = await client.post("/graphql", content=content, headers={"Content-Type": JSON})
    assert response.status_code == 400, (response.status_code, response.text)


# --- operation selection --------------------------------------------------------------------------------------

async def test_operation_name_selects_the_operation(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={
        "query": 'query A { __typename } query B { procedure(code: "1.001193") { code } }', "operationName": "B"})
    assert response.status_code == 200
    assert response.json() == {"data": {"procedure": {"code": "1.001193"}}}


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
async def test_an_unknown_operation_name_is_a_typed_request_error(client: httpx.AsyncClient, accept: str,
                                                                  status: int) -> None:
    response = await client.post("/graphql", json={"query": "query A { __typename }", "operationName": "B"},
                                 headers={"Accept": accept})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(accept)
    answer = response.json()
    assert "data" not in answer
    assert answer["errors"][0]["extensions"]["code"] in REQUEST_ERROR_CODES


async def test_an_unknown_operation_name_is_never_a_500(client: httpx.AsyncClient) -> None:
    for accept in (JSON, GRAPHQL_RESPONSE):
        response = await client.post("/graphql", json={"query": "query A { __typename }", "operationName": "B"},
                                     headers={"Accept": accept})
        assert 400 <= response.status_code < 500 or response.status_code == 200, response.status_code
        assert response.status_code != 200 or "data" not in response.json()


async def test_several_operations_without_an_operation_name_is_a_request_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={
        "query": 'query A { __typename } query B { procedure(code: "1.001193") { code } }'})
    assert response.status_code == 200
    answer = response.json()
    assert "data" not in answer, answer
    assert answer["errors"][0]["extensions"]["code"] in REQUEST_ERROR_CODES


@pytest.mark.parametrize("query", ["{ ...Nope }", "{ me { ...Nope } }", "{ a: __typename ...Nope }"])
async def test_an_unknown_fragment_is_a_validation_error(client: httpx.AsyncClient, query: str) -> None:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    assert {e["extensions"]["code"] for e in response.json()["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}


# --- GET ------------------------------------------------------------------------------------------------------

async def test_get_runs_queries(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": '{ procedure(code: "1.001193") { code } }'})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"procedure": {"code": "1.001193"}}}


async def test_get_with_variables_and_operation_name(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={
        "query": "query A { __typename } query P($c: String!) { procedure(code: $c) { processingDays } }",
        "variables": '{"c": "1.004222"}', "operationName": "P"})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"procedure": {"processingDays": 10}}}


async def test_get_with_a_syntax_error_under_graphql_response_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ procedure("}, headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_get_never_runs_a_mutation(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    someone = citizen(settings)
    code = await submitted_code(client, someone)
    before = await stored_dossier(db, code)
    mutation = 'mutation { withdrawDossier(input: {code: "%s"}) { errors { code } } }' % code  # noqa: UP031
    for accept in (JSON, GRAPHQL_RESPONSE):
        response = await client.get("/graphql", params={"query": mutation}, headers={**someone.headers,
                                                                                      "Accept": accept})
        assert 400 <= response.status_code < 500, response.text
    assert await stored_dossier(db, code) == before


async def test_get_with_a_mutation_is_405(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={
        "query": 'mutation { withdrawDossier(input: {code: "x"}) { errors { code } } }'})
    assert response.status_code == 405
