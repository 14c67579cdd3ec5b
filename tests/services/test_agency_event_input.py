"""POST /agencies/{service}/events with hostile or malformed input: always a typed JSON 4xx, never a 500.

Every case is correctly signed unless it is about the signature headers, so it reaches the code under
test; the limits are the same on SQLite and PostgreSQL (PostgreSQL refuses what SQLite would store).
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from services.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signed_headers
from tests.support import SUBMIT, citizen, gql, sandbox_secret, until_received

STATUS = "query($c: String!) { dossier(code: $c) { status version } }"
WHEN = "2026-11-20T08:00:00+07:00"


async def _dossier(client: httpx.AsyncClient, settings, sandboxes) -> tuple[Any, str]:
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": "1.004194", "f": {"new_address": "Số 9 Phúc Xá, Ba Đình, Hà Nội"}},
                     who=who)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await until_received(sandboxes["residence"], code)
    return who, code


async def _post_raw(client: httpx.AsyncClient, body: bytes, headers: dict[str, Any] | None = None) -> httpx.Response:
    signed = signed_headers(sandbox_secret("residence"), str(int(time.time())), body)
    return await client.post("/agencies/residence/events", content=body, headers={**signed, **(headers or {})})


def _typed(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/json", response.text
    body: dict[str, Any] = response.json()
    return body


BAD_FIELDS = [
    ({"note_vi": "x" * 2001}, "note_vi", "INVALID_LENGTH"),
    ({"note_en": {"text": "a note"}}, "note_en", "INVALID_TYPE"),
    ({"note_vi": 5}, "note_vi", "INVALID_TYPE"),
    ({"note_vi": "a\x00b"}, "note_vi", "INVALID_CHARACTER"),
    ({"event_id": "e" * 65}, "event_id", "INVALID_LENGTH"),
    ({"event_id": "a\x00b"}, "event_id", "INVALID_CHARACTER"),
    ({"event_id": "with space"}, "event_id", "INVALID_CHARACTER"),
    ({"event_id": 12345}, "event_id", "INVALID_TYPE"),
    ({"event_id": ""}, "event_id", "INVALID_LENGTH"),
    ({"dossier_ref": None}, "dossier_ref", "INVALID_TYPE"),
    ({"status": ["2"]}, "status", "INVALID_TYPE"),
    ({"status": "2\x00"}, "status", "INVALID_CHARACTER"),
    ({"status": "s" * 65}, "status", "INVALID_LENGTH"),
    ({"occurred_at": "2026-11-20T08:00:00"}, "occurred_at", "INVALID_FORMAT"),
    ({"occurred_at": 1763600000}, "occurred_at", "INVALID_FORMAT"),
    ({"occurred_at": "9" * 5000}, "occurred_at", "INVALID_FORMAT"),
    ({"occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at", "INVALID_FORMAT"),
    ({"occurred_at": "9999-12-31T23:59:59-14:00"}, "occurred_at", "INVALID_FORMAT"),
]


@pytest.mark.parametrize(("change", "field", "code"), BAD_FIELDS, ids=[f"{f}-{c}" for _, f, c in BAD_FIELDS])
async def test_every_field_is_checked_with_a_typed_400(client, settings, sandboxes, change, field, code):
    who, dossier = await _dossier(client, settings, sandboxes)
    event = {"event_id": f"in-{time.monotonic_ns()}", "dossier_ref": dossier, "status": "2", "occurred_at": WHEN,
             **change}
    response = await _post_raw(client, json.dumps(event).encode())
    body = _typed(response)
    assert (response.status_code, body["outcome"], body["reason"]) == (400, "refused", "BAD_EVENT")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]
    assert (await gql(client, STATUS, {"c": dossier}, who=who))["data"]["dossier"]["status"] == "SUBMITTED"


async def test_a_missing_field_is_named(client, settings, sandboxes):
    _, dossier = await _dossier(client, settings, sandboxes)
    response = await _post_raw(client, json.dumps({"dossier_ref": dossier, "status": "2"}).encode())
    body = _typed(response)
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("event_id", "REQUIRED"),
                                                                  ("occurred_at", "REQUIRED")]


async def test_values_at_the_limits_are_stored_on_every_database(client, settings, sandboxes):
    who, dossier = await _dossier(client, settings, sandboxes)
    event = {"event_id": "L" * 64, "dossier_ref": dossier, "status": "2", "occurred_at": WHEN,
             "note_vi": "Ghi chú " + "ư" * 1992, "note_en": "line one\nline two\ttabbed"}
    response = await _post_raw(client, json.dumps(event).encode())
    assert (response.status_code, response.json()) == (200, {"outcome": "applied"})
    query = "query($c: String!) { dossier(code: $c) { status events { status note { vi en } } } }"
    dossier_now = (await gql(client, query, {"c": dossier}, who=who))["data"]["dossier"]
    assert dossier_now["status"] == "ACCEPTED"
    assert dossier_now["events"][-1]["note"] == {"vi": event["note_vi"], "en": event["note_en"]}


BAD_BODIES = {
    "invalid UTF-8": b'{"event_id": "\xff\xfe"}',
    "latin-1": '{"event_id": "é"}'.encode("latin-1"),
    "nested 2,000 deep": b"[" * 2000 + b"]" * 2000,
    "5,000-digit number": b'{"event_id": ' + b"9" * 5000 + b"}",
    "lone surrogate": b'{"event_id": "x", "note_vi": "\\ud800"}',
    "truncated": b'{"event_id": ',
    "empty": b"",
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_a_signed_body_that_is_not_json_is_400_bad_json(client, body):
    response = await _post_raw(client, body)
    assert (response.status_code, _typed(response)["reason"]) == (400, "BAD_JSON")


@pytest.mark.parametrize("body", [b"[1, 2]", b'"event"', b"null", b"42"], ids=["array", "string", "null", "number"])
async def test_a_body_that_is_not_an_object_is_400_bad_event(client, body):
    response = await _post_raw(client, body)
    body_json = _typed(response)
    assert (response.status_code, body_json["reason"]) == (400, "BAD_EVENT")
    assert body_json["errors"] == [{"field": None, "code": "INVALID_TYPE", "message": "must be a JSON object"}]


async def test_a_body_over_the_event_size_is_413(client):
    response = await _post_raw(client, json.dumps({"pad": "x" * 70_000}).encode())
    assert (response.status_code, _typed(response)["reason"]) == (413, "BODY_TOO_LARGE")


def _headers(stamp: str | bytes, signature: str | bytes) -> dict[str, Any]:
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature}


BAD_HEADERS = {
    "5,000-digit timestamp": (_headers("9" * 5000, "sha256=" + "0" * 64), 401, "BAD_TIMESTAMP"),
    "superscript-two timestamp": (_headers(b"\xb2", "sha256=" + "0" * 64), 401, "BAD_TIMESTAMP"),
    "non-ASCII timestamp": (_headers("١٧٦٣٦٠٠٠٠٠".encode(), "sha256=" + "0" * 64), 401, "BAD_TIMESTAMP"),
    "negative timestamp": (_headers("-1", "sha256=" + "0" * 64), 401, "BAD_TIMESTAMP"),
    "no timestamp": (_headers("", "sha256=" + "0" * 64), 401, "BAD_TIMESTAMP"),
    "non-ASCII signature": ({SIGNATURE_HEADER: "sha256=é".encode("latin-1")}, 401, "BAD_SIGNATURE"),
    "UTF-8 signature": ({SIGNATURE_HEADER: ("sha256=" + "é" * 32).encode()}, 401, "BAD_SIGNATURE"),
    "5,000-character signature": ({SIGNATURE_HEADER: "sha256=" + "a" * 5000}, 401, "BAD_SIGNATURE"),
}


@pytest.mark.parametrize(("headers", "status", "reason"), BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
async def test_malformed_signature_headers_are_a_typed_401(client, headers, status, reason):
    response = await _post_raw(client, b'{"event_id": "h-1"}', headers)
    assert (response.status_code, _typed(response)["reason"]) == (status, reason)


async def test_an_upper_case_signature_of_the_right_body_is_accepted_as_it_is_the_same_mac(client, settings,
                                                                                          sandboxes):
    _, dossier = await _dossier(client, settings, sandboxes)
    body = json.dumps({"event_id": "upper-1", "dossier_ref": dossier, "status": "2", "occurred_at": WHEN}).encode()
    stamp = str(int(time.time()))
    signature = sign(sandbox_secret("residence"), stamp, body)
    response = await _post_raw(client, body, _headers(stamp, "sha256=" + signature.removeprefix("sha256=").upper()))
    assert (response.status_code, response.json()) == (200, {"outcome": "applied"})


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_another_method_is_a_typed_405(client, method):
    response = await client.request(method, "/agencies/residence/events")
    assert (response.status_code, _typed(response)["reason"], response.headers["allow"]) == (
        405, "METHOD_NOT_ALLOWED", "POST")
