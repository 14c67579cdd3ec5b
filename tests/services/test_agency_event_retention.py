"""Agency events past the redelivery window (docs/agency-api.yaml) are forgotten by maintenance; a late
redelivery is then read as new, and still never moves the dossier twice."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.clock import utc_now
from core.db import Database
from core.models import AgencyEventRecord
from core.retention import run
from core.settings import Settings
from services.signing import signed_headers
from tests.support import SUBMIT, citizen, gql, sandbox_secret, until_received

STATUS = "query($c: String!) { dossier(code: $c) { status version events { status } } }"


async def _post(client: httpx.AsyncClient, event: dict[str, str]) -> httpx.Response:
    body = json.dumps(event).encode()
    headers = signed_headers(sandbox_secret("residence"), str(int(time.time())), body)
    return await client.post("/agencies/residence/events", content=body, headers=headers)


async def test_an_event_redelivered_after_the_window_answers_applied_and_moves_nothing(
        client: httpx.AsyncClient, settings: Settings, db: Database, sandboxes: dict[str, Any]) -> None:
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": "1.004194", "f": {"new_address": "Số 9 Phúc Xá, Ba Đình, Hà Nội"}},
                     who=who)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await until_received(sandboxes["residence"], code)
    event = {"event_id": f"late-{uuid.uuid4().hex[:8]}", "dossier_ref": code, "status": "2",
             "occurred_at": "2026-11-20T08:00:00+07:00"}
    assert (await _post(client, event)).json() == {"outcome": "applied"}
    await run(db, settings, now=utc_now())
    assert (await _post(client, event)).json() == {"outcome": "duplicate"}  # inside the window: remembered

    async def age(session: AsyncSession) -> None:
        await session.execute(update(AgencyEventRecord).where(col(AgencyEventRecord.event_id) == event["event_id"])
                              .values(received_at=utc_now() - timedelta(days=31)))
    await db.transaction(age)
    removed = await run(db, settings, now=utc_now())
    late = await _post(client, event)

    assert removed["agency_event"] >= 1
    assert (late.status_code, late.json()) == (200, {"outcome": "applied"})
    dossier = (await gql(client, STATUS, {"c": code}, who=who))["data"]["dossier"]
    assert (dossier["status"], dossier["version"], len(dossier["events"])) == ("ACCEPTED", 2, 2)
