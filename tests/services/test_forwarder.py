"""Submissions are never lost: kept while the agency is down, delivered when it is back, even after the
server that received them has stopped and another has started."""

from __future__ import annotations

import asyncio

import httpx
from sqlmodel import select

from api.app import create_app
from core.db import Database
from core.models import Dossier, ForwardJob
from core.settings import Settings
from tests.support import SUBMIT, agency_overrides, citizen, gql, serve, until_received

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
