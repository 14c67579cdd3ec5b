"""A citizen's withdrawal and supplement reach the agency that holds the dossier, through the same durable
forward queue as the dossier itself: once per key however often it is retried, never before the dossier,
and the agency's answer (its stop, or its next step) comes back as a status event.

The sandboxes are the session's real HTTP servers; faults are switched on through their control endpoint
and always off again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from core.db import Database
from core.models import Dossier, ForwardJob
from core.seed_data import PROCEDURES
from core.settings import Settings
from services.conformance.targets import installed
from tests.support import SUBMIT, Citizen, RunningSandbox, citizen, gql, until_received
from tests.sync.helpers import mutation, push

SAMPLES = {p["code"]: p["sample"] for p in PROCEDURES}
ROUTED = {code for entry in installed() for code in entry.load().procedure_codes}  # every installed plug-in's
WITHDRAW = """mutation($c: String!) { withdrawDossier(input: {code: $c}) { dossier { status } errors { code } } }"""
SUPPLEMENT = """mutation($c: String!, $f: JSON!) { supplementDossier(input: {code: $c, formData: $f}) {
  dossier { status } errors { code field } } }"""
STATUS = """query($c: String!) { dossier(code: $c) { status events { status source } } }"""


@pytest.fixture
async def agencies(sandboxes: dict[str, RunningSandbox]) -> AsyncIterator[dict[str, RunningSandbox]]:
    yield sandboxes
    for running in sandboxes.values():
        await running.fault("ok")


async def _submit(client: httpx.AsyncClient, who: Citizen, procedure: str) -> str:
    body = await gql(client, SUBMIT, {"p": procedure, "f": SAMPLES[procedure]}, who=who)
    assert body["data"]["submitDossier"]["errors"] == [], body
    return str(body["data"]["submitDossier"]["dossier"]["code"])


async def _jobs(db: Database, code: str) -> list[ForwardJob]:
    async with db.read() as session:
        dossier = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
        query = select(ForwardJob).where(ForwardJob.dossier_id == dossier.id).order_by(col(ForwardJob.id))
        return list((await session.execute(query)).scalars())


async def _until(db: Database, code: str, done: Any, seconds: float = 15) -> list[ForwardJob]:
    async with asyncio.timeout(seconds):
        while not done(jobs := await _jobs(db, code)):
            await asyncio.sleep(0.05)
    return jobs


async def _status(client: httpx.AsyncClient, who: Citizen, code: str) -> dict[str, Any]:
    dossier: dict[str, Any] = (await gql(client, STATUS, {"c": code}, who=who))["data"]["dossier"]
    return dossier


def _actions(running: RunningSandbox, code: str) -> list[Any]:
    return [a for a in running.sandbox.actions.values() if a.dossier_code == code]


async def test_a_withdrawal_retried_after_a_timeout_reaches_the_agency_once_and_its_stop_comes_back(
    client: httpx.AsyncClient, settings: Settings, db: Database, agencies
):
    residence = agencies["residence"]
    who = citizen(settings)
    code = await _submit(client, who, "1.004206")
    await until_received(residence, code)
    assert (await residence.advance(code))["callback_status"] == 200
    assert (await _status(client, who, code))["status"] == "ACCEPTED"

    # The agency works slower than our time budget: it does what it was asked after we gave up, so the
    # retry carries the same key and must be dropped as a repeat.
    await residence.fault("slow", delay_ms=1500)
    body = await gql(client, WITHDRAW, {"c": code}, who=who)
    assert body["data"]["withdrawDossier"] == {"dossier": {"status": "WITHDRAWAL_REQUESTED"}, "errors": []}
    jobs = await _until(db, code, lambda jobs: len(jobs) == 2 and jobs[1].attempts >= 1 and _actions(residence, code))
    assert jobs[1].delivered_at is None
    assert jobs[1].last_error is not None
    await residence.fault("ok")

    submission, withdrawal = await _until(db, code, lambda jobs: jobs[1].delivered_at is not None)
    assert (submission.action, withdrawal.action) == ("submit", "withdraw")
    assert withdrawal.service_code == "residence"
    assert withdrawal.idempotency_key == f"superapp:{code}:withdraw:3"
    assert withdrawal.attempts >= 2
    [received] = _actions(residence, code)
    assert received.action == "withdraw"
    assert received.repeats >= 1
    assert residence.sandbox.actions[withdrawal.idempotency_key] is received
    assert received.body["agency_reference"] == submission.agency_reference

    # The agency's next step is its own word for "processing stopped", and then the dossier moves no more.
    answer = await residence.advance(code)
    assert (answer["status"], answer["callback_status"]) == ("8", 200)
    dossier = await _status(client, who, code)
    assert dossier["status"] == "PROCESSING_STOPPED"
    assert dossier["events"][-1] == {"status": "PROCESSING_STOPPED", "source": "agency"}
    async with httpx.AsyncClient(base_url=residence.url, timeout=5) as http:
        again = await http.post(f"/_control/advance/{code}")
        listed = (await http.get("/_control/received")).json()
    assert again.status_code == 409
    assert (await _status(client, who, code))["events"] == dossier["events"]
    mine = [row for row in listed if row["dossier_code"] == code]
    assert [(row["action"], row.get("status")) for row in mine] == [("submit", "8"), ("withdraw", None)]


async def test_a_withdrawal_waits_for_the_dossier_while_the_agency_is_down(
    client: httpx.AsyncClient, settings: Settings, db: Database, agencies
):
    social = agencies["social_insurance"]
    who = citizen(settings)
    await social.fault("error")
    code = await _submit(client, who, "1.001612")
    body = await gql(client, WITHDRAW, {"c": code}, who=who)
    assert body["data"]["withdrawDossier"]["errors"] == []

    # The dossier itself is being retried; its withdrawal is not even tried before the dossier is delivered.
    submission, withdrawal = await _until(db, code, lambda jobs: jobs[0].attempts >= 2)
    assert withdrawal.action == "withdraw"
    assert withdrawal.attempts == 0
    assert submission.last_error == "HTTP_503"
    assert social.sandbox.dossier(code) is None
    await social.fault("ok")

    submission, withdrawal = await _until(db, code, lambda jobs: all(j.delivered_at is not None for j in jobs))
    assert withdrawal.attempts == 1  # the agency had the dossier when the withdrawal first came
    assert submission.delivered_at is not None
    assert withdrawal.delivered_at is not None
    assert submission.delivered_at <= withdrawal.delivered_at
    item = social.sandbox.dossier(code)
    assert item is not None
    assert item.withdrawn
    [received] = _actions(social, code)
    assert item.arrival < received.arrival

    answer = await social.advance(code)
    assert (answer["status"], answer["callback_status"]) == ("cancelled", 200)
    assert (await _status(client, who, code))["status"] == "PROCESSING_STOPPED"


async def test_a_supplement_brings_the_agency_the_answers_and_it_continues_its_road(
    client: httpx.AsyncClient, settings: Settings, db: Database, agencies
):
    civil = agencies["civil_status"]
    who = citizen(settings)
    code = await _submit(client, who, "1.001193")
    await until_received(civil, code)
    for _ in range(2):
        assert (await civil.advance(code))["callback_status"] == 200
    assert (await civil.advance(code, status="BO_SUNG"))["callback_status"] == 200
    assert (await _status(client, who, code))["status"] == "SUPPLEMENT_REQUESTED"

    answers = {"father_name": "Nguyễn Văn Bình"}
    body = await gql(client, SUPPLEMENT, {"c": code, "f": answers}, who=who)
    assert body["data"]["supplementDossier"] == {"dossier": {"status": "PROCESSING"}, "errors": []}
    _, supplement = await _until(db, code, lambda jobs: len(jobs) == 2 and jobs[1].delivered_at is not None)
    assert supplement.action == "supplement"
    assert supplement.payload == answers
    assert supplement.idempotency_key == f"superapp:{code}:supplement:5"
    [received] = _actions(civil, code)
    assert received.action == "supplement"
    assert received.body["answers"] == answers
    item = civil.sandbox.dossier(code)
    assert item is not None
    assert item.body["form"]["father_name"] == answers["father_name"]
    assert not item.withdrawn

    # The agency goes on from where it asked: the result is ready.
    answer = await civil.advance(code)
    assert (answer["status"], answer["callback_status"]) == ("DA_CO_KET_QUA", 200)
    assert (await _status(client, who, code))["status"] == "PROCESSED"


async def test_offline_withdrawal_and_supplement_intents_are_forwarded_too(
    client: httpx.AsyncClient, settings: Settings, db: Database, agencies
):
    civil = agencies["civil_status"]
    who = citizen(settings)
    supplemented, withdrawn = await _submit(client, who, "1.001193"), await _submit(client, who, "1.001193")
    for code in (supplemented, withdrawn):
        await until_received(civil, code)
        await civil.advance(code)
    await civil.advance(supplemented)
    await civil.advance(supplemented, status="BO_SUNG")
    answers = {"father_name": "Lê Văn Nam"}
    body = await push(client, who, str(uuid.uuid4()), [
        mutation(1, "dossier.supplement", supplemented, {"fields": answers}),
        mutation(2, "dossier.withdraw", withdrawn)])
    assert "errors" not in body, body
    assert [r["status"] for r in body["data"]["syncPush"]["results"]] == ["APPLIED", "APPLIED"], body

    await _until(db, supplemented, lambda jobs: len(jobs) == 2 and jobs[1].delivered_at is not None)
    await _until(db, withdrawn, lambda jobs: len(jobs) == 2 and jobs[1].delivered_at is not None)
    assert [a.body["answers"] for a in _actions(civil, supplemented)] == [answers]
    assert [a.action for a in _actions(civil, withdrawn)] == ["withdraw"]
    assert (await civil.advance(withdrawn))["status"] == "DUNG_XU_LY"
    assert (await _status(client, who, withdrawn))["status"] == "PROCESSING_STOPPED"


async def test_a_dossier_no_service_routes_owes_no_agency_anything(
    client: httpx.AsyncClient, settings: Settings, db: Database
):
    procedure = next(p["code"] for p in PROCEDURES
                     if p["code"] not in ROUTED and "x-parts" not in p.get("form_schema", {}))
    who = citizen(settings)
    code = await _submit(client, who, procedure)
    body = await gql(client, WITHDRAW, {"c": code}, who=who)
    assert body["data"]["withdrawDossier"] == {"dossier": {"status": "WITHDRAWAL_REQUESTED"}, "errors": []}
    assert await _jobs(db, code) == []
