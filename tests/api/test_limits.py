"""Query limits: depth and aliases refused at validation (no resolver runs); rules built once per schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from strawberry.extensions import AddValidationRules

from api.app import create_app
from api.graphql.schema import build_schema
from core.db import Database
from core.settings import Environment, Settings
from tests.api.helpers import is_enrolled
from tests.support import citizen, gql


def _nested(depth: int) -> str:
    """A query of operation depth `depth`, counted as graphql-depth-limit (and strawberry) count it: a root
    field is at depth 0, so `{ me { idNumber } }` has depth 1 and depth d takes d + 1 levels of fields.
    Below `me` the fields are unknown: no real path in the schema is that deep."""
    inner = "leaf"
    for n in range(depth - 1, 0, -1):
        inner = f"f{n} {{ {inner} }}"
    return f"{{ me {{ {inner} }} }}"


def _codes(body: dict[str, Any]) -> set[str]:
    return {e["extensions"]["code"] for e in body["errors"]}


async def test_a_query_deeper_than_the_limit_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    assert settings.graphql.query_max_depth == 10
    deep = await gql(client, _nested(settings.graphql.query_max_depth + 1))
    assert "data" not in deep
    assert _codes(deep) == {"GRAPHQL_VALIDATION_FAILED"}
    assert any("depth" in e["message"] for e in deep["errors"])

    at_limit = await gql(client, _nested(settings.graphql.query_max_depth))
    assert _codes(at_limit) == {"GRAPHQL_VALIDATION_FAILED"}
    assert not any("depth" in e["message"] for e in at_limit["errors"]), "only the unknown fields are wrong"


async def test_depth_counts_through_fragments(client: httpx.AsyncClient) -> None:
    query = ("{ ...A } fragment A on Query { me { ...B } } "
             "fragment B on Me { a { b { c { d { e { f { g { h { i { j { k } } } } } } } } } } }")
    body = await gql(client, query)
    assert any("depth" in e["message"] for e in body["errors"])


@asynccontextmanager
async def _app_with(settings: Settings, db: Database, **limits: Any) -> AsyncIterator[httpx.AsyncClient]:
    configured = Settings(env=Environment.TEST, data_dir=settings.data_dir, database_url=settings.database_url,
                          graphql=limits)
    app: Starlette = create_app(configured, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://superapp.test") as http:
        yield http


async def test_a_valid_query_over_the_depth_limit_runs_no_resolver(settings: Settings, db: Database) -> None:
    """`me` enrols a citizen on first sight: if it had run, the citizen would exist."""
    async with _app_with(settings, db, query_max_depth=3) as http:
        someone = citizen(settings)
        body = await gql(http, "{ me { idNumber } myDossiers { edges { node { agency { code } } } } }",
                         who=someone)  # depth 4
        assert "data" not in body
        assert _codes(body) == {"GRAPHQL_VALIDATION_FAILED"}
        assert not await is_enrolled(db, someone.id_number)

        allowed = await gql(http, "{ me { documents { title { vi } } } }", who=someone)  # depth 3
        assert allowed == {"data": {"me": {"documents": []}}}
        assert await is_enrolled(db, someone.id_number)


def _aliased(count: int) -> str:
    return "{ me { idNumber } " + " ".join(f"a{n}: __typename" for n in range(count)) + " }"


async def test_more_aliases_than_the_limit_are_refused_before_any_resolver(client: httpx.AsyncClient,
                                                                           db: Database, settings: Settings) -> None:
    assert settings.graphql.query_max_aliases == 15
    someone = citizen(settings)
    refused = await gql(client, _aliased(16), who=someone)
    assert "data" not in refused
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert not await is_enrolled(db, someone.id_number)

    allowed = await gql(client, _aliased(15), who=someone)
    assert "errors" not in allowed, allowed
    assert allowed["data"]["me"] == {"idNumber": someone.id_number}
    assert allowed["data"]["a14"] == "Query"


async def test_aliases_are_counted_across_the_document(client: httpx.AsyncClient) -> None:
    query = ("{ " + " ".join(f"a{n}: __typename" for n in range(8)) + " ...F } "
             "fragment F on Query { " + " ".join(f"b{n}: __typename" for n in range(8)) + " }")
    body = await gql(client, query)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]


async def test_more_tokens_than_the_limit_are_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    assert settings.graphql.query_max_tokens == 2000
    body = await gql(client, "{ " + "__typename " * settings.graphql.query_max_tokens + "}")
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_PARSE_FAILED"]
    fine = await gql(client, "{ " + "__typename " * 100 + "}")
    assert fine == {"data": {"__typename": "Query"}}


async def test_validation_rules_are_built_once_per_schema(settings: Settings) -> None:
    schema = build_schema(settings)
    factories = [e for e in schema.extensions if not isinstance(e, type) and callable(e)]
    rule_factories = [f for f in factories if isinstance(f(), AddValidationRules)]
    assert len(rule_factories) == 1
    factory = rule_factories[0]
    first, second = factory(), factory()
    assert isinstance(first, AddValidationRules)
    assert isinstance(second, AddValidationRules)
    assert first is not second, "a fresh extension per request"
    assert len(first.validation_rules) >= 2
    assert len(first.validation_rules) == len(second.validation_rules)
    assert all(a is b for a, b in zip(first.validation_rules, second.validation_rules, strict=True)), \
        "rule classes made per request defeat the validation cache"
