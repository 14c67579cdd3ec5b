"""Submissions are never lost: kept while the agency is down, delivered when it is back, even after the
server that received them has stopped and another has started."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from api.app import create_app
from core.clock import utc_now
from core.db import Database
from core.models import Dossier, ForwardJob, Notification, OutboxMessage
from core.seed_data import PROCEDURES
from core.settings import Settings
from services.client import agency_reason
from tests.support import (
    SUBMIT,
    Citizen,
    RunningSandbox,
    agency_overrides,
    citizen,
    gql,
    serve,
    until_received,
)

PROJECT = Path(__file__).resolve().parents[2]
REGISTER = """mutation($t: String!) { registerDevice(input: {token: $t, platform: "android", locale: "vi"}) {
  errors { code } } }"""

FORM = {"address": "Phòng 1, 5 Lê Lợi, Quận 1, TP. Hồ Chí Minh", "until": "2027-06-30"}


async def _job(db: Database, code: str) -> ForwardJob:
    async with db.read() as session:
        dossier = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
        return (await session.execute(select(ForwardJob).where(ForwardJob.dossier_id == dossier.id))).scalars().one()


async def test_a_dossier_submitted_while_the_agency_is_down_arrives_after_a_restart(
    settings: Settings, db: Database, sandboxes
):
    residence = sandboxes["residence"]
    who = citizen(settings)
    overrides = agency_overrides(sandboxes, timeout=0.5, retries=0)
    await residence.fault("error")
    try:
        with serve(create_app(settings, agencies=overrides)) as first:
            async with httpx.AsyncClient(base_url=first, timeout=30) as http:
                body = await gql(http, SUBMIT, {"p": "1.004206", "f": FORM}, who=who)
            code = body["data"]["submitDossier"]["dossier"]["code"]
            assert body["data"]["submitDossier"]["dossier"]["status"] == "SUBMITTED"
            async with asyncio.timeout(10):
                while (await _job(db, code)).attempts < 2:
                    await asyncio.sleep(0.05)
        job = await _job(db, code)
        assert job.delivered_at is None
        assert job.last_error == "HTTP_503"
        assert not any(r.dossier_code == code for r in residence.sandbox.received.values())
    finally:
        await residence.fault("ok")

    # The first server is gone; a new one finds the pending job in the database and delivers it.
    with serve(create_app(settings, agencies=overrides)):
        await until_received(residence, code)
        async with asyncio.timeout(10):
            while (await _job(db, code)).delivered_at is None:
                await asyncio.sleep(0.05)
    job = await _job(db, code)
    received = residence.sandbox.received[job.idempotency_key]
    assert job.agency_reference == received.reference
    assert received.body["procedure_code"] == "1.004206"
    assert sum(1 for r in residence.sandbox.received.values() if r.dossier_code == code) == 1


# --- An agency's "no" is final; operators see and handle what keeps failing --------------------------------

REASON = "Thiếu bản chính giấy chứng sinh"
DOSSIER = """query($c: String!) { dossier(code: $c) { status statusLabel { vi en }
  events { status fromStatus source note { vi en } } } }"""
INBOX = "{ myNotifications(first: 5) { edges { node { dossierCode status statusLabel { vi } } } } }"
WITHDRAW = """mutation($c: String!) { withdrawDossier(input: {code: $c}) { dossier { status } errors { code } } }"""
SUPPLEMENT = """mutation($c: String!, $f: JSON!) { supplementDossier(input: {code: $c, formData: $f}) {
  dossier { status } errors { code field } } }"""
SAMPLES = {p["code"]: p["sample"] for p in PROCEDURES}


@pytest.fixture
async def agencies(sandboxes: dict[str, RunningSandbox]) -> AsyncIterator[dict[str, RunningSandbox]]:
    yield sandboxes
    for running in sandboxes.values():
        await running.fault("ok")


async def _refuse(running: RunningSandbox, reason: str = REASON) -> None:
    async with httpx.AsyncClient(base_url=running.url, timeout=5) as http:
        response = await http.post("/_control/fault", json={"mode": "refuse", "reason": reason})
        assert response.status_code == 200, response.text


async def _jobs(db: Database, code: str) -> list[ForwardJob]:
    async with db.read() as session:
        dossier = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
        query = select(ForwardJob).where(ForwardJob.dossier_id == dossier.id).order_by(col(ForwardJob.id))
        return list((await session.execute(query)).scalars())


async def _until(db: Database, code: str, done: Callable[[list[ForwardJob]], bool],
                 seconds: float = 10) -> list[ForwardJob]:
    async with asyncio.timeout(seconds):
        while not done(jobs := await _jobs(db, code)):
            await asyncio.sleep(0.05)
    return jobs


async def _submit(client: httpx.AsyncClient, who: Citizen, procedure: str) -> str:
    body = await gql(client, SUBMIT, {"p": procedure, "f": SAMPLES[procedure]}, who=who)
    assert body["data"]["submitDossier"]["errors"] == [], body
    return str(body["data"]["submitDossier"]["dossier"]["code"])


async def _dossier(client: httpx.AsyncClient, who: Citizen, code: str) -> dict[str, Any]:
    dossier: dict[str, Any] = (await gql(client, DOSSIER, {"c": code}, who=who))["data"]["dossier"]
    return dossier


async def _outbox(db: Database, code: str) -> list[tuple[str, str]]:
    """(status, channel) of every delivery owed to the citizen about `code`."""
    async with db.read() as session:
        rows = (await session.execute(
            select(Notification.status, OutboxMessage.channel)
            .join(OutboxMessage, col(OutboxMessage.notification_id) == Notification.id)
            .where(Notification.dossier_code == code).order_by(col(OutboxMessage.id)))).all()
    return [(status, channel) for status, channel in rows]


async def test_a_refused_submission_is_not_retried_and_the_citizen_sees_the_agencys_reason(
    client: httpx.AsyncClient, settings: Settings, db: Database, agencies
):
    social = agencies["social_insurance"]
    who = citizen(settings)
    assert (await gql(client, REGISTER, {"t": f"fcm-refused-{who.id_number}"}, who=who))["data"]
    await _refuse(social)
    code = await _submit(client, who, "1.001612")
    [job] = await _until(db, code, lambda jobs: jobs[0].ended_at is not None)
    assert (job.attempts, job.delivered_at, job.last_error) == (1, None, f"HTTP_422: {REASON}")
    seen = social.sandbox.requests_seen
    await asyncio.sleep(1.0)  # five forwarder polls: nothing is retried
    assert social.sandbox.requests_seen == seen
    assert (await _jobs(db, code))[0].attempts == 1

    dossier = await _dossier(client, who, code)
    assert (dossier["status"], dossier["statusLabel"]) == (
        "NOT_ACCEPTED", {"vi": "Không được tiếp nhận", "en": "Not accepted"})
    assert dossier["events"][-1] == {
        "status": "NOT_ACCEPTED", "fromStatus": "SUBMITTED", "source": "agency",
        "note": {"vi": f"Cơ quan không tiếp nhận hồ sơ: {REASON}",
                 "en": f"The agency did not accept the dossier: {REASON}"}}
    inbox = (await gql(client, INBOX, who=who))["data"]["myNotifications"]["edges"]
    assert inbox[0]["node"] == {"dossierCode": code, "status": "NOT_ACCEPTED",
                                "statusLabel": {"vi": "Không được tiếp nhận"}}
    assert await _outbox(db, code) == [("not_accepted", "push")]


async def test_a_refused_withdrawal_keeps_the_status_and_tells_the_citizen_why(
    client: httpx.AsyncClient, settings: Settings, db: Database, agencies
):
    residence = agencies["residence"]
    who = citizen(settings)
    code = await _submit(client, who, "1.004206")
    await until_received(residence, code)
    assert (await residence.advance(code))["callback_status"] == 200
    await _refuse(residence, "Hồ sơ đã được thẩm định, không thể rút")
    body = await gql(client, WITHDRAW, {"c": code}, who=who)
    assert body["data"]["withdrawDossier"] == {"dossier": {"status": "WITHDRAWAL_REQUESTED"}, "errors": []}
    _, withdrawal = await _until(db, code, lambda jobs: len(jobs) == 2 and jobs[1].ended_at is not None)
    assert (withdrawal.action, withdrawal.attempts) == ("withdraw", 1)

    dossier = await _dossier(client, who, code)
    assert dossier["status"] == "WITHDRAWAL_REQUESTED"
    assert dossier["events"][-1] == {
        "status": "WITHDRAWAL_REQUESTED", "fromStatus": "WITHDRAWAL_REQUESTED", "source": "agency",
        "note": {"vi": "Cơ quan không chấp nhận yêu cầu rút hồ sơ: Hồ sơ đã được thẩm định, không thể rút",
                 "en": "The agency refused the withdrawal: Hồ sơ đã được thẩm định, không thể rút"}}
    inbox = (await gql(client, INBOX, who=who))["data"]["myNotifications"]["edges"]
    assert [(n["node"]["dossierCode"], n["node"]["status"]) for n in inbox] == [
        (code, "WITHDRAWAL_REQUESTED"), (code, "ACCEPTED")]


async def test_a_refused_supplement_keeps_processing_and_tells_the_citizen_why(
    client: httpx.AsyncClient, settings: Settings, db: Database, agencies
):
    civil = agencies["civil_status"]
    who = citizen(settings)
    code = await _submit(client, who, "1.001193")
    await until_received(civil, code)
    for _ in range(2):
        assert (await civil.advance(code))["callback_status"] == 200
    assert (await civil.advance(code, status="BO_SUNG"))["callback_status"] == 200
    await _refuse(civil, "Đã quá hạn bổ sung")
    body = await gql(client, SUPPLEMENT, {"c": code, "f": {"father_name": "Nguyễn Văn Bình"}}, who=who)
    assert body["data"]["supplementDossier"] == {"dossier": {"status": "PROCESSING"}, "errors": []}
    await _until(db, code, lambda jobs: len(jobs) == 2 and jobs[1].ended_at is not None)
    dossier = await _dossier(client, who, code)
    assert dossier["status"] == "PROCESSING"
    assert dossier["events"][-1] == {
        "status": "PROCESSING", "fromStatus": "PROCESSING", "source": "agency",
        "note": {"vi": "Cơ quan không nhận phần bổ sung: Đã quá hạn bổ sung",
                 "en": "The agency refused the supplement: Đã quá hạn bổ sung"}}


def _superapp(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    env.update(SUPERAPP_DATA_DIR=str(settings.data_dir), SUPERAPP_DATABASE_URL=settings.database_url,
               SUPERAPP_LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "api.cli", "forward", *args], env=env, cwd=PROJECT,
                          capture_output=True, text=True, timeout=120, check=False)


def _listed(settings: Settings, job_id: int) -> list[str]:
    listed = _superapp(settings, "list")
    assert listed.returncode == 0, listed.stderr
    return next(line.split(None, 6) for line in listed.stdout.splitlines() if line.split()[0] == str(job_id))


async def test_operators_list_retry_and_give_up_failing_jobs(
    client: httpx.AsyncClient, settings: Settings, db: Database, agencies
):
    """A job owed to a service whose plug-in is no longer loaded fails on every round without calling any
    agency (so no circuit opens for the other tests): the operator lists it, retries it, gives it up."""
    who = citizen(settings)
    code = await _submit(client, who, "1.004222")  # the agency's desk takes it: no job of its own
    async with db.write() as session:
        dossier = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
        session.add(ForwardJob(dossier_id=dossier.id or 0, service_code="retired_agency", action="submit",
                               idempotency_key=f"superapp:{code}", next_attempt_at=utc_now()))
    [job] = await _until(db, code, lambda jobs: jobs[0].attempts >= 1)
    assert job.id is not None
    row = _listed(settings, job.id)
    assert row[1:5] == ["failing", code, "retired_agency", "submit"]
    assert row[-1].endswith("service retired_agency is not loaded")
    assert who.id_number not in _superapp(settings, "list").stdout

    retried = _superapp(settings, "retry", str(job.id))
    assert retried.returncode == 0, retried.stderr
    attempts = (await _jobs(db, code))[0].attempts
    await _until(db, code, lambda jobs: jobs[0].attempts > attempts)  # due at once, not after its backoff
    gave_up = _superapp(settings, "give-up", str(job.id), "--reason", "Cơ quan ngừng nhận hồ sơ trực tuyến")
    assert gave_up.returncode == 0, gave_up.stderr
    [job] = await _jobs(db, code)
    assert job.ended_at is not None
    assert job.delivered_at is None
    assert _listed(settings, job.id or 0)[1] == "given-up"
    dossier_now = await _dossier(client, who, code)
    assert dossier_now["status"] == "NOT_ACCEPTED"
    assert dossier_now["events"][-1]["note"] == {
        "vi": "Không gửi được hồ sơ đến cơ quan: Cơ quan ngừng nhận hồ sơ trực tuyến",
        "en": "The dossier could not be delivered to the agency: Cơ quan ngừng nhận hồ sơ trực tuyến"}
    inbox = (await gql(client, INBOX, who=who))["data"]["myNotifications"]["edges"]
    assert inbox[0]["node"]["dossierCode"] == code

    # An ended job is final: neither retried nor given up twice; an unknown job is refused the same way.
    for args in (("retry", str(job.id)), ("give-up", str(job.id)), ("retry", "999999999")):
        refused = _superapp(settings, *args)
        assert refused.returncode == 1
        assert "is not owed" in refused.stderr
    await asyncio.sleep(0.6)  # three forwarder polls: an ended job is not tried again
    assert (await _jobs(db, code))[0].attempts == job.attempts


@pytest.mark.parametrize(("status", "body", "reason"), [
    (422, '{"error": "refused", "reason": "Thiếu ảnh"}', "Thiếu ảnh"),
    (400, '{"message": "  sai\\u0000 mẫu\\n đơn "}', "sai mẫu đơn"),
    (404, '{"error": {"code": 7}}', "HTTP 404"),
    (409, "<html><body>Conflict</body></html>", "HTTP 409"),
    (410, "dossier closed", "dossier closed"),
    (403, "", "HTTP 403"),
    (422, '{"reason": "' + "x" * 900 + '"}', "x" * 500),
])
def test_the_agencys_reason_is_its_own_text_clean_and_short(status: int, body: str, reason: str) -> None:
    assert agency_reason(status, body) == reason


async def test_a_server_shutting_down_finishes_the_delivery_in_flight(settings: Settings, db: Database, sandboxes):
    """Shutdown stops the forwarder between rounds: a delivery the agency is still answering is waited for and
    recorded. (It was cancelled: the round's connection went to the garbage collector, which logged a
    traceback, and the dossier was sent again after the restart.) The agency holds the call until a timer,
    started just before the shutdown, releases it: cancelled, the job would stay undelivered."""
    residence = sandboxes["residence"]
    before = residence.sandbox.seen_by_path["/dossiers"]
    await residence.fault("hold")
    release = threading.Timer(0.5, lambda: asyncio.run(residence.fault("ok")))
    try:
        with serve(create_app(settings, agencies=agency_overrides(sandboxes, timeout=20, retries=0))) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                body = await gql(http, SUBMIT, {"p": "1.004206", "f": FORM}, who=citizen(settings))
            code = body["data"]["submitDossier"]["dossier"]["code"]
            async with asyncio.timeout(15):
                while residence.sandbox.seen_by_path["/dossiers"] <= before:  # the agency holds our call
                    await asyncio.sleep(0.02)
            release.start()
        job = await _job(db, code)
    finally:
        release.cancel()
        await residence.fault("ok")
    assert job.delivered_at is not None
    assert job.agency_reference
