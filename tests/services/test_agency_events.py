"""POST /agencies/{service}/events: signature, replay window, dedupe, state machine."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from sqlmodel import select

from core.db import Database
from core.models import AgencyEventRecord
from core.settings import Settings
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
    assert answer["callback"] == {"outcome": "rejected"}
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
