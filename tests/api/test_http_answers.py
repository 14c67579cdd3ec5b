"""Every answer of `/graphql` is a GraphQL response body with a typed code and both languages, whatever the
request got wrong, and hostile bodies are refused before anything runs (issue 9, items 10 and 17)."""

from __future__ import annotations

import asyncio
import gzip
import logging
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from core.settings import Settings
from tests.support import citizen

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
DEEP = b"[" * 1000 + b"]" * 1000
SUBMIT = ('mutation($f: JSON!) { submitDossier(input: {procedureCode: "1.001193", formData: $f}) '
          '{ errors { code } } }')


def _body(variables: bytes) -> bytes:
    """A request whose variables hold `variables` (extra variables are ignored, so it runs when read)."""
    return b'{"query": "{ __typename }", "variables": {"v": ' + variables + b"}}"


# (id, method, body, extra headers, status under both media types, code, extensions.reason)
REFUSALS: list[tuple[str, str, bytes, dict[str, str], int, str, str | None]] = [
    ("deep-body", "POST", DEEP, {}, 400, "BAD_REQUEST", "TOO_DEEP"),
    ("deep-variables", "POST", _body(DEEP), {}, 400, "BAD_REQUEST", "TOO_DEEP"),
    ("33-levels", "POST", _body(b"[" * 32 + b"]" * 32), {}, 400, "BAD_REQUEST", "TOO_DEEP"),
    ("5000-digits", "POST", _body(b"9" * 5000), {}, 400, "BAD_REQUEST", "NUMBER_TOO_LONG"),
    ("huge-exponent", "POST", _body(b"1e999"), {}, 400, "BAD_REQUEST", "NOT_A_NUMBER"),
    ("nan", "POST", _body(b"NaN"), {}, 400, "BAD_REQUEST", "NOT_A_NUMBER"),
    ("invalid-utf8", "POST", b'{"query": "{ __typename \xff }"}', {}, 400, "BAD_REQUEST", "INVALID_UTF8"),
    ("latin-1", "POST", '{"query": "{ procedure(code: \\"é\\") { code } }"}'.encode("latin-1"), {}, 400,
     "BAD_REQUEST", "INVALID_UTF8"),
    ("utf-16", "POST", '{"query": "{ __typename }"}'.encode("utf-16"), {}, 400, "BAD_REQUEST", "INVALID_UTF8"),
    ("not-json", "POST", b"this is not json", {}, 400, "BAD_REQUEST", "INVALID_JSON"),
    ("empty", "POST", b"", {}, 400, "BAD_REQUEST", "INVALID_JSON"),
    ("truncated", "POST", b'{"query": "{ __typename }"', {}, 400, "BAD_REQUEST", "INVALID_JSON"),
    ("json-array", "POST", b'[{"query": "{ __typename }"}]', {}, 400, "BAD_REQUEST", "BATCH_NOT_SUPPORTED"),
    ("json-scalar", "POST", b"42", {}, 400, "BAD_REQUEST", "NOT_AN_OBJECT"),
    ("no-query", "POST", b'{"variables": {}}', {}, 400, "BAD_REQUEST", "NO_QUERY"),
    ("query-not-a-string", "POST", b'{"query": 5}', {}, 400, "BAD_REQUEST", "QUERY_NOT_A_STRING"),
    ("variables-not-an-object", "POST", b'{"query": "{ __typename }", "variables": [1]}', {}, 400,
     "BAD_REQUEST", "VARIABLES_NOT_AN_OBJECT"),
    ("operation-name-not-a-string", "POST", b'{"query": "{ __typename }", "operationName": 1}', {}, 400,
     "BAD_REQUEST", "OPERATION_NAME_NOT_A_STRING"),
    ("bad-gzip", "POST", b"not gzip at all", {"Content-Encoding": "gzip"}, 400, "BAD_REQUEST", "BAD_GZIP"),
    ("truncated-gzip", "POST", gzip.compress(b'{"query": "{ __typename }"}')[:-8], {"Content-Encoding": "gzip"},
     400, "BAD_REQUEST", "BAD_GZIP"),
    ("form-content-type", "POST", b"query={__typename}", {"Content-Type": "application/x-www-form-urlencoded"},
     415, "UNSUPPORTED_MEDIA_TYPE", None),
    ("no-content-type", "POST", b'{"query": "{ __typename }"}', {"Content-Type": ""}, 415,
     "UNSUPPORTED_MEDIA_TYPE", None),
    ("too-large", "POST", b'{"query": "' + b" " * 1_100_000 + b'{ __typename }"}', {}, 413, "PAYLOAD_TOO_LARGE",
     None),
    ("too-large-after-gunzip", "POST", gzip.compress(b'{"query": "' + b" " * 1_100_000 + b'"}'),
     {"Content-Encoding": "gzip"}, 413, "PAYLOAD_TOO_LARGE", None),
    ("put", "PUT", b'{"query": "{ __typename }"}', {}, 405, "METHOD_NOT_ALLOWED", None),
    ("delete", "DELETE", b"", {}, 405, "METHOD_NOT_ALLOWED", None),
    ("unacceptable-accept", "POST", b'{"query": "{ __typename }"}', {"Accept": "text/xml"}, 406,
     "NOT_ACCEPTABLE", None),
]


def _ids(cases: list[tuple[Any, ...]]) -> list[str]:
    return [case[0] for case in cases]


async def _send(client: httpx.AsyncClient, method: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    merged = {"Content-Type": JSON, **headers}
    return await client.request(method, "/graphql", content=body,
                                headers={k: v for k, v in merged.items() if v})


def _only_error(response: httpx.Response) -> dict[str, Any]:
    answer = response.json()
    assert set(answer) == {"errors"}, answer
    assert len(answer["errors"]) == 1, answer
    error: dict[str, Any] = answer["errors"][0]
    return error


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
@pytest.mark.parametrize(("method", "body", "headers", "status", "code", "reason"), [c[1:] for c in REFUSALS],
                         ids=_ids(REFUSALS))
async def test_a_request_that_is_not_a_graphql_request_gets_a_typed_graphql_answer(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, accept: str, method: str, body: bytes,
    headers: dict[str, str], status: int, code: str, reason: str | None,
) -> None:
    headers = {"Accept": accept, **headers}
    with caplog.at_level(logging.WARNING):
        response = await _send(client, method, body, headers)
    assert response.status_code == status, response.text
    expected_media = GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in headers["Accept"] else JSON
    assert response.headers["content-type"].startswith(expected_media)
    error = _only_error(response)
    assert error["extensions"]["code"] == code
    assert error["extensions"].get("reason") == reason
    assert error["message"] == error["extensions"]["messageVi"]
    assert error["extensions"]["messageEn"]
    assert error["extensions"]["messageVi"] != error["extensions"]["messageEn"]
    assert not [r for r in caplog.records if r.exc_info], "a refusal is not an incident: no traceback"
    if status == 405:
        assert response.headers["allow"] == "GET, POST"


async def test_a_refusal_follows_accept_language(client: httpx.AsyncClient) -> None:
    vi = await _send(client, "POST", DEEP, {})
    en = await _send(client, "POST", DEEP, {"Accept-Language": "en-US,en;q=0.9"})
    assert _only_error(vi)["message"] == ("Yêu cầu không phải một yêu cầu GraphQL hợp lệ: "
                                          "JSON lồng nhau quá 32 cấp.")
    assert _only_error(en)["message"] == ("The request is not a valid GraphQL request: "
                                          "JSON is nested more than 32 levels deep.")


async def test_nesting_up_to_the_limit_is_read(client: httpx.AsyncClient) -> None:
    # The body object is level 1 and `variables` level 2: 30 brackets make 32 levels.
    response = await _send(client, "POST", _body(b"[" * 30 + b"]" * 30), {})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(("params", "reason"), [
    ({"query": "query($v: JSON) { __typename }", "variables": "[" * 1000 + "]" * 1000}, "TOO_DEEP"),
    ({"query": "query($v: JSON) { __typename }", "variables": '{"v": ' + "9" * 5000 + "}"}, "NUMBER_TOO_LONG"),
    ({"query": "{ __typename }", "extensions": "not json"}, "INVALID_JSON"),
    ({"variables": "{}"}, "NO_QUERY"),
], ids=["deep-variables", "5000-digits", "bad-extensions", "no-query"])
async def test_get_parameters_go_through_the_same_parser(client: httpx.AsyncClient, params: dict[str, str],
                                                         reason: str) -> None:
    response = await client.get("/graphql", params=params, headers={"Accept": JSON})
    assert response.status_code == 400, response.text
    assert _only_error(response)["extensions"]["reason"] == reason


async def test_get_of_a_mutation_is_a_typed_405(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { __typename }"},
                                headers={"Accept-Language": "en"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    error = _only_error(response)
    assert (error["extensions"]["code"], error["message"]) == (
        "METHOD_NOT_ALLOWED", "GET runs queries only; send mutations with POST.")


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
async def test_a_subscription_over_http_is_a_request_error(client: httpx.AsyncClient, settings: Settings,
                                                           accept: str, status: int) -> None:
    response = await client.post("/graphql", headers={"Accept": accept, **citizen(settings).headers},
                                 json={"query": "subscription { dossierStatusChanged { status } }"})
    assert response.status_code == status, response.text
    error = _only_error(response)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["extensions"]["messageEn"] == ("Subscriptions run over the WebSocket (graphql-transport-ws), "
                                                "not over HTTP.")


# --- parse, validation and variable errors: localized like every other error -----------------------------------

# (id, request body, code, graphql-core's English, the Vietnamese sentence it is put in)
REQUEST_ERRORS: list[tuple[str, dict[str, Any], str, str, str]] = [
    ("parse", {"query": "{ procedure("}, "GRAPHQL_PARSE_FAILED", "Syntax Error: Expected Name, found <EOF>.",
     "Truy vấn GraphQL sai cú pháp: Syntax Error: Expected Name, found <EOF>."),
    ("validation", {"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED",
     "Cannot query field 'nope' on type 'Query'. Did you mean 'node'?",
     "Truy vấn GraphQL không hợp lệ với lược đồ: Cannot query field 'nope' on type 'Query'. Did you mean 'node'?"),
    ("unused-variable", {"query": "query($c: String) { __typename }"}, "GRAPHQL_VALIDATION_FAILED",
     "Variable '$c' is never used.", "Truy vấn GraphQL không hợp lệ với lược đồ: Variable '$c' is never used."),
    ("variables", {"query": "query($c: String!) { procedure(code: $c) { code } }", "variables": {"c": 5}},
     "BAD_USER_INPUT",
     "Invalid value: Variable '$c' has invalid value: String cannot represent a non string value: 5.",
     "Giá trị không hợp lệ: Variable '$c' has invalid value: String cannot represent a non string value: 5."),
    ("missing-variable", {"query": "query($c: String!) { procedure(code: $c) { code } }"}, "BAD_USER_INPUT",
     "Invalid value: Variable '$c' has invalid value: Expected a value of non-null type 'String!' to be provided.",
     "Giá trị không hợp lệ: Variable '$c' has invalid value: Expected a value of non-null type 'String!' "
     "to be provided."),
]


@pytest.mark.parametrize("language", [None, "vi", "en", "en-GB,vi;q=0.5"])
@pytest.mark.parametrize(("body", "code", "english", "vietnamese"), [c[1:] for c in REQUEST_ERRORS],
                         ids=_ids(REQUEST_ERRORS))
async def test_request_errors_have_both_languages_and_follow_accept_language(
    client: httpx.AsyncClient, body: dict[str, Any], code: str, english: str, vietnamese: str,
    language: str | None,
) -> None:
    response = await client.post("/graphql", json=body, headers={"Accept-Language": language} if language else {})
    assert response.status_code == 200, response.text
    error = _only_error(response)
    assert error["extensions"]["code"] == code
    assert (error["extensions"]["messageEn"], error["extensions"]["messageVi"]) == (english, vietnamese)
    assert error["message"] == (english if language and language.startswith("en") else vietnamese)


@pytest.mark.parametrize("variables", [b'{"child_name": "\\ud800"}', b'{"\\udc00": 1}', b'"A\\u0000"'],
                         ids=["lone-surrogate-value", "lone-surrogate-key", "nul"])
@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE, 400), (JSON, 200)])
async def test_a_string_no_database_stores_alike_is_a_request_error(
    client: httpx.AsyncClient, variables: bytes, accept: str, status: int,
) -> None:
    """Valid JSON, but text PostgreSQL refuses: refused as bad input before anything runs (one queued sync
    mutation holding such a string is REJECTED on its own instead: tests/sync/test_push_rules.py)."""
    response = await client.post("/graphql", content=_body(variables),
                                 headers={"Content-Type": JSON, "Accept": accept})
    assert response.status_code == status, response.text
    assert "data" not in response.json()
    assert _only_error(response)["extensions"]["code"] == "BAD_USER_INPUT"


# --- the WebSocket reads its messages with the same parser ------------------------------------------------------

@pytest.mark.parametrize("message", [
    '{"type": "connection_init", "payload": ' + "[" * 1000 + "]" * 1000 + "}",
    '{"type": "connection_init", "payload": {"n": ' + "9" * 5000 + "}}",
    '{"type": "connection_init", "payload": {"authToken": "\\ud800"}}',
], ids=["deep", "5000-digits", "lone-surrogate"])
async def test_a_hostile_websocket_message_closes_the_socket_with_4400(
    server: str, caplog: pytest.LogCaptureFixture, message: str,
) -> None:
    url = server.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket:
        await socket.send(message)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4400
    assert not [r for r in caplog.records if r.exc_info], "a hostile message is not an incident: no traceback"
