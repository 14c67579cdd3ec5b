"""`superapp device-sim`: a rural device on a lossy 2G link, offline work, reconnect, convergence.

The reference client (`sync/client.py`) talks to a real server through a real TCP proxy that cuts
connections at random byte offsets; the run ends by comparing the device with what a fresh download of
the server gives, and exits 1 if they differ or any queued action was not answered exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from api.auth import issue_dev_token
from api.standalone import standalone_server
from core.clock import utc_now
from core.db import Database
from core.dossier_status import DossierStatus
from core.dossiers import change_status
from core.models import Citizen, Dossier
from core.seed import DEMO_CITIZEN_ID_NUMBER
from core.settings import Settings
from sync.client import OfflineClient, SyncInterrupted, SyncReport
from sync.lossy_link import LossyLink

Say = Callable[[str], None]


async def _until_synced(device: OfflineClient, link: LossyLink, say: Say, label: str) -> SyncReport:
    for attempt in range(1, 200):
        try:
            report = await device.sync()
        except SyncInterrupted as cut:
            say(f"  {label}: attempt {attempt} cut ({cut}); the device keeps its queue and checkpoint")
            await asyncio.sleep(0.05)
            continue
        say(f"  {label}: done on attempt {attempt}: {report.round_trips} round trips, {report.pages} pages, "
            f"{report.upserts} upserts, {report.tombstones} tombstones, answers {report.answers}")
        return report
    raise RuntimeError("the link never let a sync through")


async def _agency_moves(settings: Settings, say: Say) -> None:
    db = Database.from_url(settings.database_url)
    try:
        async def accept(session: AsyncSession) -> str | None:
            citizen = (await session.execute(
                select(Citizen).where(Citizen.id_number == DEMO_CITIZEN_ID_NUMBER))).scalars().one()
            dossier = (await session.execute(select(Dossier).where(
                Dossier.citizen_id == citizen.id, Dossier.status == DossierStatus.SUBMITTED,
                col(Dossier.parent_id).is_(None)).with_for_update())).scalars().first()
            if dossier is None:
                return None
            await change_status(session, dossier=dossier, target=DossierStatus.ACCEPTED, source="agency",
                                occurred_at=utc_now() + timedelta(seconds=1))
            return str(dossier.code)

        accepted = await db.transaction(accept)
        if accepted is not None:
            say(f"  server: the agency accepted dossier {accepted} while the device was offline")
    finally:
        await db.dispose()


async def simulate(base_url: str, settings: Settings, *, loss: float, seed: int, say: Say) -> bool:
    parsed = urlparse(base_url)
    assert parsed.hostname
    assert parsed.port
    link = LossyLink(parsed.hostname, parsed.port, loss=loss, seed=seed, max_offset=6000)
    url = await link.start()
    token = issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER)
    with tempfile.TemporaryDirectory(prefix="device-") as tmp:
        device = OfflineClient(Path(tmp) / "phone.db", base_url=url, token=token, max_bytes=4096)
        try:
            say(f"1. First sync over a link that cuts {loss:.0%} of connections (seed {seed}), 4 KB pages")
            await _until_synced(device, link, say, "first sync")
            say("2. Offline: the citizen fills in a birth registration, changes it, submits; starts another")
            draft = device.create_draft("1.001193", {"child_name": "Nguyễn Bé Na", "child_sex": "female"})
            device.edit_draft(draft, {"child_birth_date": "2026-10-02", "place_of_birth": "Trạm y tế xã",
                                      "mother_name": "Lò Thị Hoa"})
            device.submit_draft(draft)
            other = device.create_draft("1.001193", {"child_name": "Bản nháp"})
            device.delete_draft(other)
            say(f"  queued {len(device.store.pending())} actions; local view of the draft: "
                f"{device.draft(draft)}")
            await _agency_moves(settings, say)
            say("3. Signal returns: push the queue and pull, over the same lossy link")
            await _until_synced(device, link, say, "reconnect")
            say(f"  the link cut {link.cuts} connections in all; {link.bytes_down} bytes down, {link.bytes_up} up")
            fresh = OfflineClient(Path(tmp) / "truth.db", base_url=base_url, token=token)
            await fresh.sync()
            same = fresh.store.live() == device.store.live()
            outcomes = device.store.outcomes()
            once = sorted(o["seq"] for o in outcomes) == list(range(1, len(outcomes) + 1))
            for o in outcomes:
                say(f"  seq {o['seq']} {o['intent']}: {o['status']}")
            submitted = device.store.stored("draft", draft)
            say(f"  the draft is now {submitted and submitted['status']} as dossier "
                f"{submitted and submitted['dossierCode']}")
            fresh.close()
            say("CONVERGED: the device equals the server, every action answered once" if same and once
                else "DIVERGED")
            return same and once
        finally:
            device.close()
            await link.stop()


def run(args: argparse.Namespace, say: Say) -> int:
    logging.getLogger("superapp").setLevel(logging.CRITICAL)  # the forwarder has no sandbox to reach here
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with standalone_server() as (url, settings):
        converged = asyncio.run(simulate(url, settings, loss=args.loss, seed=args.seed, say=say))
        return 0 if converged else 1
