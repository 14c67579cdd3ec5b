"""POST /agencies/{service}/events: signature, replay window, dedupe, state machine."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlmodel import select

from api.app import create_app
from core.db import Database
from core.models import AgencyEventRecord
from core.settings import Settings
from services.registry import LoadFailure, ServiceRegistry
from services.residence import ResidenceService
from services.residence import sandbox as residence_sandbox
from services.signing import signed_headers
from tests.support import SUBMIT, citizen, gql, sandbox_secret, until_received

FORM = {"new_address": "Số 9 Phúc Xá, Ba Đình, Hà Nội"}
STATUS = "query($c: String!) { dossier(code: $c) { status version } }"


async def _post(client: httpx.AsyncClient, event: dict[str, Any], *, service: str = "residence",
                secret: bytes | None = None, stamp: int | None = None) -> httpx.Response:
    body = json.dumps(event).encode()
    headers = signed_headers(secret or sandbox_secret(service), str(stamp or int(time.time())), body)
    return await client.post(f"/agencies/{service}/events", content=body, headers=headers)


async def _forwarded_dossier(client: httpx.AsyncClient, settings: Settings, sandboxes) -> tuple[Any, str]:
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": "1.004194", "f": FORM}, who=who)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await until_received(sandboxes["residence"], code)
    return who, code


def _event(code: str, event_id: str, status: str) -> dict[str, str]:
    return {"event_id": event_id, "dossier_ref": code, "status": status, "occurred_at": "2026-11-20T08:00:00+07:00"}


async def test_a_signed_event_moves_the_dossier_once_even_when_replayed(client, settings, sandboxes):
    who, code = await _forwarded_dossier(client, settings, sandboxes)
    first = await _post(client, _event(code, "r-1", "2"))
    again = await _post(client, _event(code, "r-1", "2"))
    assert (first.status_code, first.json()) == (200, {"outcome": "applied"})
    assert (again.status_code, again.json()) == (200, {"outcome": "duplicate"})
    dossier = (await gql(client, STATUS, {"c": code}, who=who))["data"]["dossier"]
    assert dossier == {"status": "ACCEPTED", "version": 2}


async def test_bad_signature_and_stale_timestamp_are_refused(client, settings, sandboxes):
    who, code = await _forwarded_dossier(client, settings, sandboxes)
    forged = await _post(client, _event(code, "f-1", "2"), secret=b"not-the-secret")
    too_old = int(time.time()) - settings.agencies.agency_event_window_seconds - 5
    stale = await _post(client, _event(code, "f-2", "2"), stamp=too_old)
    assert (forged.status_code, forged.json()["reason"]) == (401, "BAD_SIGNATURE")
    assert (stale.status_code, stale.json()["reason"]) == (401, "STALE_TIMESTAMP")
    assert (await gql(client, STATUS, {"c": code}, who=who))["data"]["dossier"]["status"] == "SUBMITTED"


async def test_unknown_service_and_foreign_dossier_are_refused(client, settings, sandboxes):
    _, code = await _forwarded_dossier(client, settings, sandboxes)
    unknown = await _post(client, _event(code, "u-1", "2"), service="no_such_agency")
    foreign = await _post(client, _event(code, "u-2", "received"), service="social_insurance")
    assert (unknown.status_code, unknown.json()["reason"]) == (404, "UNKNOWN_SERVICE")
    assert (foreign.status_code, foreign.json()) == (404, {"outcome": "unknown_dossier"})


async def test_an_impossible_transition_is_409_recorded_and_changes_nothing(client, settings, sandboxes,
                                                                            db: Database):
    who, code = await _forwarded_dossier(client, settings, sandboxes)
    answer = await sandboxes["residence"].advance(code, status="10", event_id="jump-1")  # submitted -> returned
    assert answer["callback_status"] == 409
    assert answer["callback"] == {"outcome": "rejected", "reason": "INVALID_TRANSITION"}
    assert (await gql(client, STATUS, {"c": code}, who=who))["data"]["dossier"] == {"status": "SUBMITTED",
                                                                                   "version": 1}
    async with db.read() as session:
        record = (await session.execute(select(AgencyEventRecord).where(
            AgencyEventRecord.event_id == "jump-1"))).scalars().one()
    assert (record.outcome, record.status, record.dossier_code) == ("rejected", "returned", code)


async def test_an_event_the_service_cannot_read_is_400(client, settings, sandboxes):
    _, code = await _forwarded_dossier(client, settings, sandboxes)
    response = await _post(client, _event(code, "b-1", "NOT_A_STATUS"))
    assert (response.status_code, response.json()["reason"]) == (400, "BAD_EVENT")
    assert response.json()["errors"] == [{"field": "status", "code": "UNKNOWN_STATUS",
                                          "message": "not a status word of this service",
                                          "allowed": [str(n) for n in range(1, 11)]}]


async def test_a_repeat_is_the_same_event_and_a_reused_id_with_other_content_is_409(client, settings, sandboxes):
    who, code = await _forwarded_dossier(client, settings, sandboxes)
    first = await _post(client, {**_event(code, "same-id", "2"), "note_vi": "Đã nhận"})
    # The same event spelled differently (key order, another time zone for the same instant) is a repeat.
    repeat = await _post(client, {"note_vi": "Đã nhận", "occurred_at": "2026-11-20T01:00:00+00:00",
                                  "status": "2", "dossier_ref": code, "event_id": "same-id"})
    other_status = await _post(client, _event(code, "same-id", "4"))
    other_note = await _post(client, {**_event(code, "same-id", "2"), "note_vi": "Khác"})
    assert (first.status_code, first.json()) == (200, {"outcome": "applied"})
    assert (repeat.status_code, repeat.json()) == (200, {"outcome": "duplicate"})
    for conflict in (other_status, other_note):
        assert conflict.status_code == 409
        assert conflict.json()["outcome"] == "conflict"
        assert conflict.json()["reason"] == "EVENT_ID_REUSED"
    assert (await gql(client, STATUS, {"c": code}, who=who))["data"]["dossier"] == {"status": "ACCEPTED",
                                                                                   "version": 2}


async def test_a_restarted_sandbox_never_reuses_an_event_id_so_no_status_is_lost(client, settings, sandboxes,
                                                                                  server):
    who, code = await _forwarded_dossier(client, settings, sandboxes)
    held = sandboxes["residence"].sandbox.dossier(code)
    assert held is not None
    answers = []
    for _ in range(2):  # the sandbox process restarts before each step: a fresh instance holding the dossier
        restarted = residence_sandbox.create_sandbox(secret=sandbox_secret("residence"), callback_url=server,
                                                     advance_seconds=0)
        held = dataclasses.replace(held)
        restarted.received = {"key": held}
        status, callback = await restarted.step(held)
        answers.append((status, callback.status_code, callback.json()))
    assert answers == [("2", 200, {"outcome": "applied"}), ("4", 200, {"outcome": "applied"})]
    assert (await gql(client, STATUS, {"c": code}, who=who))["data"]["dossier"]["status"] == "PROCESSING"


async def test_an_event_recorded_before_fingerprints_is_compared_on_its_dossier_and_status(client, settings, sandboxes,
                                                                                         db: Database):
    who, code = await _forwarded_dossier(client, settings, sandboxes)
    async with db.write() as session:
        session.add(AgencyEventRecord(service_code="residence", event_id="legacy-1", dossier_code=code,
                                      status="accepted", outcome="applied", occurred_at=datetime.now(UTC)))
    same = await _post(client, _event(code, "legacy-1", "2"))
    other = await _post(client, _event(code, "legacy-1", "4"))
    assert (same.status_code, same.json()) == (200, {"outcome": "duplicate"})
    assert (other.status_code, other.json()["outcome"]) == (409, "conflict")
    assert (await gql(client, STATUS, {"c": code}, who=who))["data"]["dossier"]["status"] == "SUBMITTED"


async def test_concurrent_deliveries_of_one_event_apply_it_once(client, settings, sandboxes):
    who, code = await _forwarded_dossier(client, settings, sandboxes)
    event = _event(code, "burst-1", "2")
    answers = await asyncio.gather(*(_post(client, event) for _ in range(8)))
    assert sorted((a.status_code, a.json()["outcome"]) for a in answers) == [(200, "applied")] + [
        (200, "duplicate")] * 7
    assert (await gql(client, STATUS, {"c": code}, who=who))["data"]["dossier"] == {"status": "ACCEPTED",
                                                                                   "version": 2}


async def test_an_installed_service_that_is_not_serving_answers_503_so_the_agency_retries(settings, db):
    """Its settings are missing (or it clashed): the event is not lost to a 404 the agency takes as final."""
    failed = LoadFailure("residence", "settings missing", plugin=ResidenceService, keeps_fields=True)
    app = create_app(settings, db=db, registry=ServiceRegistry([], [failed]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://superapp.test") as http:
        response = await _post(http, _event("000.00.00.G09-261128-0001", "n-1", "2"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"
    assert response.json()["reason"] == "SERVICE_UNAVAILABLE"


async def test_a_body_the_server_refuses_before_routing_gets_the_agency_answer_shape(client):
    """Over the server's body limit, or gzip that does not inflate: JSON with `outcome`, never plain text."""
    huge = await client.post("/agencies/residence/events", content=b"x" * 1_100_000)
    assert (huge.status_code, huge.json()["outcome"], huge.json()["reason"]) == (413, "refused", "BODY_TOO_LARGE")
    broken = await client.post("/agencies/residence/events", content=b"not gzip",
                               headers={"Content-Encoding": "gzip"})
    assert (broken.status_code, broken.json()["outcome"], broken.json()["reason"]) == (400, "refused", "BAD_GZIP")
