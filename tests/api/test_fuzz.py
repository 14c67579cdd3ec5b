"""A bounded fuzz run through the real app: hypothesis-graphql builds queries and mutations from the schema the
server serves (introspected over HTTP, plug-in fields included), sent over real HTTP as a signed-in citizen.

Every answer: no 5xx, no INTERNAL_ERROR, no stack trace, SQL text or file path, and none of another citizen's
distinctive values (citizen B is seeded with them first); the server logs no traceback and no error while it
runs. Bounded by the `fuzz` settings profile (examples) and by TIME_BUDGET per test, whichever ends first, so
it adds well under 90 s per database.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from core.settings import Settings
from tests.support import Citizen, RunningSandbox, citizen

settings.register_profile("fuzz", max_examples=150, deadline=None, derandomize=False, database=None,
                          suppress_health_check=list(HealthCheck))
FUZZ = settings.get_profile("fuzz")
TIME_BUDGET = 25.0  # seconds per test: what is left of the examples after it is skipped
MARKER = "Qvzx-fuzz-bimat-4417"
# What an answer must never carry: a Python or SQL stack, SQL text, a file path, a driver's name.
_INTERNALS = re.compile(r"Traceback|File \"|\.py\b|/work/|/usr/|site-packages|\bSELECT\b.+\bFROM\b|"
                        r"\bINSERT INTO\b|\bUPDATE\b.+\bSET\b|\bDELETE FROM\b|sqlalchemy|asyncpg|psycopg|"
                        r"sqlite3|aiosqlite|\[SQL:", re.IGNORECASE)

_NAMES = st.from_regex(r"[a-z_][a-zA-Z0-9_]{0,12}", fullmatch=True)
_LEAVES = st.one_of(st.text(max_size=30).map(nodes.String), st.integers(-2**70, 2**70).map(nodes.Int),
                    st.booleans().map(nodes.Boolean), st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float))
_JSON = st.recursive(_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(nodes.List),
    st.dictionaries(_NAMES, inner, max_size=4).map(
        lambda d: nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
                                for k, v in d.items()]))), max_leaves=8)
SCALARS = {
    "JSON": _JSON,
    "Date": st.one_of(st.dates().map(nodes.String), st.text(max_size=12).map(nodes.String)),
    "DateTime": st.one_of(st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
                          st.text(max_size=12).map(nodes.String)),
}
_INTROSPECTION = graphql.get_introspection_query(descriptions=False)


class _Problems(logging.Handler):
    """Collects every record with a traceback or at ERROR and above, from our loggers and uvicorn's."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            trace = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
            self.records.append(f"{record.name}: {record.getMessage()}\n{trace}")


@pytest.fixture(scope="module")
def served_schema(server: str) -> graphql.GraphQLSchema:
    with httpx.Client(base_url=server, timeout=30) as http:
        body = http.post("/graphql", json={"query": _INTROSPECTION}).json()
    return graphql.build_client_schema(body["data"])


@pytest.fixture(scope="module")
def fuzzing(server: str, settings: Settings, sandboxes: dict[str, RunningSandbox]) -> Iterator[
        tuple[httpx.Client, Citizen, list[str]]]:
    """Citizen A's client, and citizen B's distinctive values (B filed a dossier and registered a phone)."""
    b = citizen(settings, name="Bùi Thị Fuzzbimat")
    token = f"fcm-fuzz-{secrets.token_urlsafe(12)}"
    with httpx.Client(base_url=server, timeout=30) as http:
        form = {"new_address": f"Số 9 {MARKER}, Ba Đình, Hà Nội"}
        filed = http.post("/graphql", headers=b.headers, json={"query": (
            'mutation($f: JSON!) { submitDossier(input: {procedureCode: "1.004194", formData: $f}) '
            "{ dossier { code } errors { code } } }"), "variables": {"f": form}}).json()
        assert filed["data"]["submitDossier"]["errors"] == [], filed
        registered = http.post("/graphql", headers=b.headers, json={"query": (
            'mutation($t: String!) { registerDevice(input: {token: $t, platform: "android"}) { errors { code } } }'),
            "variables": {"t": token}}).json()
        assert registered["data"]["registerDevice"]["errors"] == [], registered
        values = [b.id_number, "Fuzzbimat", MARKER, token, filed["data"]["submitDossier"]["dossier"]["code"]]
        a = citizen(settings)
        assert http.post("/graphql", headers=a.headers, json={"query": "{ me { fullName } }"}).status_code == 200
    with httpx.Client(base_url=server, timeout=30, headers=a.headers) as http:
        yield http, a, values


def _check(response: httpx.Response, query: str, b_values: list[str]) -> None:
    where = f"\nquery: {query}\nanswer: {response.text[:2000]}"
    assert response.status_code < 500, where
    text = response.text
    assert not _INTERNALS.search(text), where
    for value in b_values:
        assert value not in text, where
    body: dict[str, Any] = json.loads(text)
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    assert "INTERNAL_ERROR" not in codes, where
    assert None not in codes, where  # every error typed
    for error in body.get("errors", []):
        extensions = error["extensions"]
        assert extensions.get("messageVi"), where
        assert extensions.get("messageEn"), where


def _run(documents: st.SearchStrategy[str], fuzzing: tuple[httpx.Client, Citizen, list[str]]) -> None:
    http, _, b_values = fuzzing
    problems = _Problems()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn.error"), logging.getLogger("uvicorn")]
    for logger in loggers:
        logger.addHandler(problems)
    stop_at = time.monotonic() + TIME_BUDGET
    sent: list[int] = []

    @FUZZ
    @given(query=documents)
    def send(query: str) -> None:
        if time.monotonic() > stop_at:
            return
        sent.append(1)
        _check(http.post("/graphql", json={"query": query}), query, b_values)

    try:
        send()
    finally:
        for logger in loggers:
            logger.removeHandler(problems)
    assert len(sent) >= 20, "too few examples ran to mean anything"
    assert problems.records == [], "\n".join(problems.records)


def test_fuzzed_queries_answer_typed_and_leak_nothing(served_schema: graphql.GraphQLSchema, fuzzing) -> None:
    _run(queries(served_schema, custom_scalars=SCALARS), fuzzing)


def test_fuzzed_mutations_answer_typed_and_leak_nothing(served_schema: graphql.GraphQLSchema, fuzzing) -> None:
    _run(mutations(served_schema, custom_scalars=SCALARS), fuzzing)
