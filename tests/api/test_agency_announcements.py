"""`POST /agencies/{service}/announcements` over HTTP: a signed announcement reaches the home screen under the
service's own agency, redelivery is idempotent, a reused id with other content is a conflict, personal text
and bad signatures are refused, and a withdrawal takes it off the next home screen."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx

from core.clock import utc_now
from services.signing import signed_headers
from tests.services import agency_api_doc as doc
from tests.support import gql, sandbox_secret

ANNOUNCEMENTS = "/agencies/{service}/announcements"

ANNOUNCED = """query($p: String) { homeScreen(province: $p) { sections { kind
  announcements { id title { vi en } agency { code } provinces } } } }"""


async def post(client: httpx.AsyncClient, body: dict[str, Any], *, service: str = "residence",
               secret: bytes | None = None) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = signed_headers(secret or sandbox_secret(service), str(int(time.time())), raw)
    return await client.post(f"/agencies/{service}/announcements", content=raw, headers=headers)


def notice(tag: str, **changes: Any) -> dict[str, Any]:
    now = utc_now()
    return {"announcement_id": f"notice-{tag}", "title_vi": f"Thông báo {tag}", "title_en": f"Notice {tag}",
            "body_vi": "Nội dung", "body_en": "Body", "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(), "provinces": ["079"], "priority": 5, **changes}


async def shown(client: httpx.AsyncClient, tag: str, province: str | None = "079") -> list[dict[str, Any]]:
    body = await gql(client, ANNOUNCED, {"p": province})
    assert "errors" not in body, body
    return [a for s in body["data"]["homeScreen"]["sections"] for a in (s["announcements"] or [])
            if a["title"]["vi"].endswith(tag)]


async def test_a_signed_announcement_reaches_the_home_screen_once(client: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:8]
    sent = notice(tag)
    first = await post(client, sent)
    assert (first.status_code, first.json()) == (201, {"outcome": "created"})
    again = await post(client, sent)
    assert (again.status_code, again.json()) == (200, {"outcome": "duplicate"})

    [announcement] = await shown(client, tag)
    assert announcement["agency"]["code"] == "000.00.00.G09"  # the residence service's own agency
    assert announcement["provinces"] == ["079"]
    assert await shown(client, tag, province="001") == []

    changed = await post(client, {**sent, "body_en": "Other body"})
    assert changed.status_code == 409
    assert changed.json()["outcome"] == "conflict"
    withdrawn = await post(client, {"announcement_id": f"notice-{tag}", "withdraw": True})
    assert (withdrawn.status_code, withdrawn.json()) == (200, {"outcome": "withdrawn"})
    assert await shown(client, tag) == []
    unknown = await post(client, {"announcement_id": f"never-{tag}", "withdraw": True})
    assert unknown.status_code == 404
    assert unknown.json()["outcome"] == "unknown"


async def test_personal_text_and_bad_bodies_are_refused_by_field(client: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:8]
    personal = await post(client, notice(tag, body_vi="Ông A, số 0912 345 678, đến nhận kết quả."))
    assert personal.status_code == 400
    assert [(e["field"], e["code"]) for e in personal.json()["errors"]] == [("body_vi", "ANNOUNCEMENT_PERSONAL_DATA")]

    shape = await post(client, notice(tag, title_en=7, ends_at="tomorrow", provinces="079", priority=True))
    assert shape.status_code == 400
    assert {(e["field"], e["code"]) for e in shape.json()["errors"]} == {
        ("title_en", "INVALID_TYPE"), ("ends_at", "INVALID_FORMAT"), ("provinces", "INVALID_TYPE"),
        ("priority", "INVALID_TYPE")}

    rules = await post(client, notice(tag, title_vi="x" * 121, provinces=["999"], priority=500))
    assert {(e["field"], e["code"]) for e in rules.json()["errors"]} == {
        ("title_vi", "INVALID_LENGTH"), ("provinces", "UNKNOWN_PROVINCE"), ("priority", "OUT_OF_RANGE")}

    no_id = await post(client, notice(tag, announcement_id="has space"))
    assert no_id.status_code == 400
    assert no_id.json()["errors"][0]["field"] == "announcement_id"
    assert await shown(client, tag) == []


async def test_only_the_services_own_signature_is_accepted(client: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:8]
    forged = await post(client, notice(tag), secret=b"not-the-secret")
    assert forged.status_code == 401
    assert forged.json()["reason"] == "BAD_SIGNATURE"
    unknown = await post(client, notice(tag), service="no_such_service")
    assert unknown.status_code == 404
    assert unknown.json()["reason"] == "UNKNOWN_SERVICE"
    wrong_method = await client.get("/agencies/residence/announcements")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"
    assert await shown(client, tag) == []


async def test_every_answer_fits_the_agency_api_document(client: httpx.AsyncClient) -> None:
    """docs/agency-api.yaml is the agencies' contract: each answer of this endpoint fits what it says."""
    tag = uuid.uuid4().hex[:8]
    sent = notice(tag)
    answers = {
        "created": await post(client, sent),
        "duplicate": await post(client, sent),
        "conflict": await post(client, {**sent, "priority": 6}),
        "withdrawn": await post(client, {"announcement_id": sent["announcement_id"], "withdraw": True}),
        "unknown": await post(client, {"announcement_id": f"never-{tag}", "withdraw": True}),
        "personal": await post(client, notice(f"p{tag}", body_en="Call 0912345678")),
        "shape": await post(client, notice(f"s{tag}", title_en=None)),
        "BAD_SIGNATURE": await post(client, sent, secret=b"not-the-secret"),
        "UNKNOWN_SERVICE": await post(client, sent, service="no_such_service"),
        "METHOD_NOT_ALLOWED": await client.get("/agencies/residence/announcements"),
    }
    for name, answer in answers.items():
        problems = doc.response_problems(ANNOUNCEMENTS, "post", answer.status_code, answer.json(),
                                         dict(answer.headers))
        assert problems == [], (name, answer.status_code, answer.text)
    codes = {p["code"] for name in ("personal", "shape") for p in answers[name].json()["errors"]}
    assert codes == {"ANNOUNCEMENT_PERSONAL_DATA", "REQUIRED"}
    assert doc.response_problems(ANNOUNCEMENTS, "post", 201, {"outcome": "applied"}) != []  # the check can fail
