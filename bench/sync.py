"""Offline-sync benchmark: bytes and round trips over the wire, and pull speed against a plain SQL read.

A citizen with 100 dossiers (10 events each; the last two of each dossier's status changes notified, so 200
inbox notifications), 20 documents, and 60 drafts (the reconnect edits three and the tombstone measurement
deletes fifty).
Everything runs on one machine in one process; ratios are against a baseline measured in the same run.

    .venv/bin/python -m bench.sync     (as a module: run as a script, this file would shadow the sync package)
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy import text
from sqlmodel import select

from api.auth import issue_dev_token
from api.standalone import standalone_server
from core.clock import utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
from core.documents import issue_document
from core.dossier_status import DossierStatus as S
from core.dossiers import Submission, change_status, submit_dossier
from core.drafts import save_draft
from core.models import Citizen, Draft
from core.seed_data import PROCEDURES
from core.settings import Settings
from sync.client import OfflineClient
from sync.lossy_link import LossyLink
from sync.wire import PULL_DOCUMENT, PULL_FIELD

ID_NUMBER = "001090009999"
PATH = [S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PROCESSING, S.PAYMENT_REQUESTED, S.PROCESSING,
        S.PROCESSED, S.RETURNED]


async def _populate(settings: Settings) -> tuple[list[str], list[str]]:
    db = Database.from_url(settings.database_url)
    calendar = HolidayCalendar.load(settings.holidays_file)
    sample = next(p for p in PROCEDURES if p["code"] == "1.001193")["sample"]
    now = utc_now() - timedelta(days=30)
    codes, drafts = [], []
    async with db.write() as session:
        citizen = Citizen(id_number=ID_NUMBER, full_name="Người Dùng Đo")
        session.add(citizen)
        await session.flush()
        assert citizen.id is not None
    for i in range(100):  # one transaction each: a code is taken before anything is stamped (core.locks)
        async with db.write() as session:
            dossier = await submit_dossier(session, citizen=citizen, now=now + timedelta(minutes=i), calendar=calendar,
                                           tz_name=settings.timezone,
                                           submission=Submission(procedure_code="1.001193", form_data=sample))
            path = PATH[: 9 if i >= 5 else 3]
            for step, status in enumerate(path):
                await change_status(session, dossier=dossier, target=status, source="agency",
                                    occurred_at=now + timedelta(minutes=i, seconds=step + 1),
                                    notify=step >= len(path) - 2)
            codes.append(dossier.code)
    async with db.write() as session:
        for i in range(20):
            await issue_document(session, citizen_id=citizen.id, agency_id=1, kind="card", title_vi=f"Thẻ {i}",
                                 title_en=f"Card {i}", number=f"N{i:04d}", issued_at=now)
        for i in range(60):
            draft = Draft(id=str(uuid.uuid4()), citizen_id=citizen.id, procedure_code="1.001193",
                          fields={"child_name": f"Bé {i}", "note": "Thông báo trạng thái hồ sơ " * 3})
            await save_draft(session, draft, now=now)
            drafts.append(draft.id)
    await db.dispose()
    return codes, drafts


async def _plain_sql(settings: Settings) -> tuple[int, float]:
    db = Database.from_url(settings.database_url)
    started = time.perf_counter()
    async with db.read() as session:
        cid = (await session.execute(select(Citizen.id).where(Citizen.id_number == ID_NUMBER))).scalar_one()
        rows = 0
        for sql in ("SELECT * FROM dossier WHERE citizen_id = :c",
                    "SELECT e.* FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id WHERE d.citizen_id = :c",
                    "SELECT * FROM document WHERE citizen_id = :c", "SELECT * FROM draft WHERE citizen_id = :c",
                    "SELECT * FROM notification WHERE citizen_id = :c",
                    "SELECT * FROM procedure WHERE active"):
            result = (await session.execute(text(sql), {"c": cid})).mappings().all()
            rows += len(json.dumps([{k: str(v) for k, v in r.items()} for r in result]))  # materialise as JSON
    elapsed = time.perf_counter() - started
    await db.dispose()
    return rows, elapsed


def main() -> None:
    logging.getLogger("superapp").setLevel(logging.CRITICAL)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with standalone_server() as (url, settings):
        asyncio.run(_bench(url, settings))


async def _bench(url: str, settings: Settings) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        codes, drafts = await _populate(settings)
        token = issue_dev_token(settings, id_number=ID_NUMBER)
        parsed = urlparse(url)
        assert parsed.hostname is not None
        assert parsed.port is not None
        link = LossyLink(parsed.hostname, parsed.port)
        via = await link.start()
        device = OfflineClient(Path(tmp) / "phone.db", base_url=via, token=token)

        started = time.perf_counter()
        first = await device.sync()
        full_seconds = time.perf_counter() - started
        first_down, first_up = link.bytes_down, link.bytes_up
        records = first.upserts + first.tombstones

        db = Database.from_url(settings.database_url)
        for code in codes[:5]:
            async with db.write() as session:
                from core.models import Dossier

                dossier = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
                await change_status(session, dossier=dossier, target=S.ACCEPTED if dossier.status == "submitted"
                                    else S.PROCESSING_STOPPED, source="agency", occurred_at=utc_now())
        await db.dispose()
        device.edit_draft(drafts[0], {"child_name": "Sửa khi offline"})
        device.edit_draft(drafts[1], {"child_name": "Sửa nữa"})
        device.delete_draft(drafts[2])
        link.bytes_down = link.bytes_up = 0
        again = await device.sync()

        # Per-record cost inside a gzip page: upserts (first sync) and tombstones (after 50 deletes).
        for d in drafts[3:53]:
            device.delete_draft(d)
        await device.sync()
        plain = OfflineClient(Path(tmp) / "other.db", base_url=url, token=token)
        per_upsert, per_tombstone = await _per_record(url, token, plain)
        sql_chars, sql_seconds = await _plain_sql(settings)
        print("== offline sync benchmark (SQLite, one process, loopback) ==")
        print(f"first full sync: {records} records, {first.round_trips} round trips, {first_down} bytes down "
              f"(gzip, on the wire), {first_up} bytes up, {full_seconds * 1000:.0f} ms")
        print(f"reconnect after 5 status changes + 3 queued mutations: {again.round_trips} round trip(s), "
              f"{link.bytes_down} bytes down, {link.bytes_up} bytes up, answers {again.answers}")
        print(f"bytes per record within the first sync's pages (on the wire / records): {first_down / records:.0f}")
        print(f"median gzip bytes per change gzipped on its own (upper bound): upsert {per_upsert:.0f}, "
              f"tombstone {per_tombstone:.0f}")
        print(f"pull: {records / full_seconds:.0f} records/s through GraphQL+HTTP+client apply; plain SQL read "
              f"of the same rows: {sql_seconds * 1000:.1f} ms; ratio sync/plain = {full_seconds / sql_seconds:.1f}x")
        device.close()
        plain.close()
        await link.stop()


async def _per_record(url: str, token: str, device: OfflineClient) -> tuple[float, float]:
    """gzip size of each page divided by its records: the cost of one more record in a page."""
    import httpx

    upserts: list[int] = []
    tombstones: list[int] = []
    checkpoint = None
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        while True:
            body = (await http.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
                "query": PULL_DOCUMENT, "variables": {"checkpoint": checkpoint, "schemaVersion": 3}})).json()
            page = body["data"][PULL_FIELD]
            for change in page["changes"]:
                size = len(gzip.compress(json.dumps(change, ensure_ascii=False, separators=(",", ":")).encode()))
                (tombstones if change["deleted"] else upserts).append(size)
            checkpoint = page["checkpoint"]
            if not page["hasMore"]:
                break
    return statistics.median(upserts), statistics.median(tombstones)


if __name__ == "__main__":
    main()
