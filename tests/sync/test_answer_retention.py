"""Stored push answers and `superapp maintenance`: an answer the install may not hold yet (its latest push),
or one inside the window, still answers a resend after maintenance; only answers past both go."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.clock import utc_now
from core.db import Database
from core.models import SyncClient, SyncMutationResult
from core.settings import Settings
from tests.support import citizen
from tests.sync.helpers import BIRTH, mutation, push


def _maintenance(settings: Settings, tmp_path: Path) -> None:
    env = {**os.environ, "SUPERAPP_DATA_DIR": str(tmp_path), "SUPERAPP_DATABASE_URL": settings.database_url,
           "SUPERAPP_ENV": "test"}
    done = subprocess.run([sys.executable, "-m", "api.cli", "maintenance"], env=env, capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.returncode == 0, done.stderr


async def _age(db: Database, client_id: str, seq: int, days: float) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(update(SyncMutationResult).where(
            col(SyncMutationResult.client_id) == client_id, col(SyncMutationResult.seq) == seq)
            .values(created_at=utc_now() - timedelta(days=days)))
    await db.transaction(work)


async def _answered_below(db: Database, client_id: str) -> int:
    async with db.read() as session:
        client = await session.get(SyncClient, client_id)
    assert client is not None
    return client.answered_below


async def test_resends_within_the_window_or_of_the_latest_push_get_their_stored_answers_after_maintenance(
        settings: Settings, db: Database, client: httpx.AsyncClient, tmp_path: Path) -> None:
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    create = mutation(1, "draft.create", draft, {"procedureCode": BIRTH, "fields": {"child_name": "An"}}, base=0)
    edits = [mutation(seq, "draft.update", draft, {"fields": {"child_name": f"An {seq}"}}, base=1)
             for seq in range(2, 6)]
    first = (await push(client, who, device, [create, edits[0]]))["data"]["syncPush"]
    later = (await push(client, who, device, edits[1:]))["data"]["syncPush"]
    assert [r["status"] for r in first["results"] + later["results"]] == ["APPLIED"] * 5
    assert await _answered_below(db, device) == 3  # the second push started at seq 3: the app holds 1 and 2
    await _age(db, device, 1, 34)  # inside the 35-day window
    await _age(db, device, 2, 40)  # past it, and held by the app
    await _age(db, device, 3, 400)  # of the latest push: the app may not have its answer
    # A second install pushed once, a year ago, and never heard the answer: it resends when it comes back.
    lost_device = str(uuid.uuid4())
    lost = mutation(1, "draft.create", str(uuid.uuid4()), {"procedureCode": BIRTH, "fields": {}}, base=0)
    original = (await push(client, who, lost_device, [lost]))["data"]["syncPush"]["results"][0]
    await _age(db, lost_device, 1, 365)

    await asyncio.to_thread(_maintenance, settings, tmp_path)

    late = (await push(client, who, lost_device, [lost]))["data"]["syncPush"]["results"][0]
    assert (late["status"], late["originalStatus"], late["record"]) == ("DUPLICATE", "APPLIED", original["record"])
    lost_again = (await push(client, who, device, edits[1:]))["data"]["syncPush"]["results"]
    assert [(r["status"], r["originalStatus"]) for r in lost_again] == [("DUPLICATE", "APPLIED")] * 3
    # The create sent again under a new seq (after a restore, or queued twice) within the window: recognised.
    again = (await push(client, who, device, [{**create, "seq": 6}]))["data"]["syncPush"]["results"][0]
    assert (again["status"], again["originalStatus"]) == ("DUPLICATE", "APPLIED")
    assert again["record"] == first["results"][0]["record"]
    # Past the window and held by the app: the answer is gone, and nothing is applied again.
    gone = (await push(client, who, device, [edits[0]]))["data"]["syncPush"]["results"][0]
    assert (gone["status"], gone["error"]["code"]) == ("REJECTED", "SEQUENCE_INVALID")
