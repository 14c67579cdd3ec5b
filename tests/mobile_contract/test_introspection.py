"""The full introspection query (what GraphiQL and graphql-codegen send) runs through the server, and the
schema a client builds from its answer is the committed snapshot: same types, fields, defaults, nullability."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from graphql import build_client_schema, build_schema, get_introspection_query, print_schema
from graphql.utilities import lexicographic_sort_schema

from api.app import create_app
from core.settings import Settings
from mobile_contract.snapshot import SNAPSHOT
from services.registry import BUILT_IN_SERVICES
from tests.support import serve


@pytest.fixture(scope="module")
def contract_server(settings: Settings) -> Iterator[str]:
    """A server with exactly the services the contract pins (the built-in ones), as the app meets it."""
    built_in = settings.updated(agencies={"services": ",".join(BUILT_IN_SERVICES)})
    with serve(create_app(built_in)) as base_url:
        yield base_url


async def test_full_introspection_builds_the_snapshot_schema(contract_server: str) -> None:
    query = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                                    schema_description=True, input_value_deprecation=True)
    async with httpx.AsyncClient(base_url=contract_server, timeout=30) as http:
        response = await http.post("/graphql", json={"query": query})
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body["errors"]
    from_server = lexicographic_sort_schema(build_client_schema(body["data"]))
    snapshot = lexicographic_sort_schema(build_schema(SNAPSHOT.read_text(encoding="utf-8")))
    assert print_schema(from_server) == print_schema(snapshot)


def test_snapshot_prints_no_default_that_clients_cannot_read() -> None:
    """codegen's introspection and schema-ast plugins fail on an object default such as `= {  }`."""
    schema = build_schema(SNAPSHOT.read_text(encoding="utf-8"))
    printed = print_schema(schema)
    assert "= {" not in printed
    assert "= [" not in printed
