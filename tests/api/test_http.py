"""GraphQL over HTTP details the other files do not cover: GET rules and the body-size limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

MUTATION = 'mutation { withdrawDossier(input: {code: "x"}) { errors { code } } }'


async def test_get_runs_queries(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ procedures(first: 1) { edges { node { code } } } }"})
    assert response.status_code == 200
    assert len(response.json()["data"]["procedures"]["edges"]) == 1


async def test_get_refuses_a_mutation_with_405(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": MUTATION})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_get_of_a_query_named_beside_a_mutation_runs(client: httpx.AsyncClient) -> None:
    document = "query Q { __typename } " + MUTATION.replace("mutation", "mutation M")
    ok = await client.get("/graphql", params={"query": document, "operationName": "Q"})
    assert ok.status_code == 200
    assert ok.json() == {"data": {"__typename": "Query"}}
    refused = await client.get("/graphql", params={"query": document, "operationName": "M"})
    assert refused.status_code == 405


async def test_oversized_body_is_refused_with_413(client: httpx.AsyncClient) -> None:
    huge = '{"query": "{ __typename }", "variables": {"x": "' + "a" * 1_100_000 + '"}}'
    response = await client.post("/graphql", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_oversized_chunked_body_is_refused_with_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit must hold while streaming
        yield b'{"query": "{ __typename }", "variables": {"x": "'
        for _ in range(120):
            yield b"a" * 10_000
        yield b'"}}'

    response = await client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
