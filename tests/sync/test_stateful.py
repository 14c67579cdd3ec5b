"""Random interleavings of server changes, edits on two devices, syncs over a link that cuts at random
offsets and loses answers: always ending with each device equal to the server and every effect once.

Each device owns one draft field (a: child_name, b: mother_name), so the expected final draft is known
exactly: the last value each device typed, unless any device deleted the draft (delete wins).
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, rule
from sqlalchemy import func
from sqlmodel import select

from core.catalogue import agency_by_code, retire_procedure, stamp_procedure_if_changed
from core.clock import utc_now
from core.db import Database
from core.dossier_status import DossierStatus
from core.models import Procedure, SyncClient, SyncMutationResult
from core.settings import Settings
from sync.client import OfflineClient, SyncInterrupted
from sync.lossy_link import Fault, LossyLink
from tests.support import citizen
from tests.sync.helpers import BIRTH, advance, server_view

ROAD = [DossierStatus.ACCEPTED, DossierStatus.PROCESSING, DossierStatus.PROCESSED, DossierStatus.RETURNED]
FIELD = {"a": "child_name", "b": "mother_name"}


class SyncMachine(RuleBasedStateMachine):
    settings: Settings
    server: str
    drafts = Bundle("drafts")

    @initialize()
    def start(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="sync-stateful-"))
        self.db = Database.from_url(self.settings.database_url)
        self.who = citizen(self.settings)
        parsed = urlparse(self.server)
        assert parsed.hostname
        assert parsed.port
        self.link = LossyLink(parsed.hostname, parsed.port, seed=len(self.who.id_number))
        url = self.run(self.link.start())
        self.devices = {n: OfflineClient(self.tmp / f"{n}.db", base_url=url, token=self.who.token, limit=4,
                                         max_bytes=2048) for n in ("a", "b")}
        self.typed: dict[str, dict[str, str]] = {}  # draft -> field -> last value typed
        self.deleted: set[str] = set()
        self.enqueued = {"a": 0, "b": 0}
        self.dossier: str | None = None
        self.road = 0
        self.procedure = f"T.{uuid.uuid4().hex[:8]}"
        self.run(self._catalogue_edit(create=True))

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _catalogue_edit(self, *, create: bool = False) -> None:
        async with self.db.write() as session:
            agency = await agency_by_code(session, "000.20.31.H26")
            assert agency is not None
            assert agency.id is not None
            row = (await session.execute(select(Procedure).where(Procedure.code == self.procedure))).scalars().first()
            if row is None:
                row = Procedure(code=self.procedure, name_vi="Thử", name_en="Test", search_text="thu",
                                agency_id=agency.id, online_level="full", processing_days=1)
            row.name_en = f"Test {uuid.uuid4().hex[:4]}"
            row.active = True
            await stamp_procedure_if_changed(session, row, now=utc_now())

    @rule(device=st.sampled_from(["a", "b"]), value=st.text("abcơư", min_size=1, max_size=6), target=drafts)
    def create(self, device: str, value: str) -> str:
        draft = self.devices[device].create_draft(BIRTH, {FIELD[device]: value})
        self.enqueued[device] += 1
        self.typed[draft] = {FIELD[device]: value}
        return draft

    @rule(device=st.sampled_from(["a", "b"]), draft=drafts, value=st.text("xyzđ", min_size=1, max_size=6))
    def edit(self, device: str, draft: str, value: str) -> None:
        client = self.devices[device]
        if client.draft(draft) is None:
            return  # this device has not seen the draft yet (or it is deleted there)
        client.edit_draft(draft, {FIELD[device]: value})
        self.enqueued[device] += 1
        self.typed[draft][FIELD[device]] = value

    @rule(device=st.sampled_from(["a", "b"]), draft=drafts)
    def delete(self, device: str, draft: str) -> None:
        client = self.devices[device]
        if client.draft(draft) is None:
            return
        client.delete_draft(draft)
        self.enqueued[device] += 1
        self.deleted.add(draft)

    @rule()
    def agency_moves_the_dossier(self) -> None:
        async def go() -> None:
            if self.dossier is None:
                import httpx

                from tests.sync.helpers import submitted_dossier

                async with httpx.AsyncClient(base_url=self.server, timeout=30) as http:
                    self.dossier = await submitted_dossier(http, self.who)
            elif self.road < len(ROAD):
                await advance(self.db, self.dossier, ROAD[self.road])
                self.road += 1
        self.run(go())

    @rule(retire=st.booleans())
    def catalogue_changes(self, retire: bool) -> None:
        async def go() -> None:
            if retire:
                async with self.db.write() as session:
                    await retire_procedure(session, code=self.procedure, now=utc_now())
            else:
                await self._catalogue_edit()
        self.run(go())

    @rule(device=st.sampled_from(["a", "b"]),
          faults=st.lists(st.tuples(st.sampled_from(["up", "down"]), st.integers(0, 2500)), max_size=3))
    def sync(self, device: str, faults: list[tuple[str, int]]) -> None:
        self.link.plan = [Fault(d, n) for d, n in faults]
        try:
            self.run(self.devices[device].sync())
        except SyncInterrupted:
            pass  # the signal went; whatever was applied locally is consistent, the rest comes later
        self.link.plan = []

    def teardown(self) -> None:
        if not hasattr(self, "loop"):
            return
        try:
            self.run(self._converge())
        finally:
            for client in self.devices.values():
                client.close()
            self.run(self._retire())
            self.run(self.link.stop())
            self.run(self.db.dispose())
            self.loop.close()

    async def _retire(self) -> None:
        async with self.db.write() as session:
            await retire_procedure(session, code=self.procedure, now=utc_now())

    async def _converge(self) -> None:
        for _ in range(2):  # a then b then a again: b's pushes reach a
            for client in self.devices.values():
                await client.sync()
        truth = await server_view(self.tmp, self.server, self.who)
        for client in self.devices.values():
            assert client.store.pending() == []
            assert client.store.live() == truth
        drafts = {k[1]: v[1] for k, v in truth.items() if k[0] == "draft"}
        assert set(drafts) == set(self.typed) - self.deleted
        for draft, record in drafts.items():
            assert record["fields"] == self.typed[draft]
        async with self.db.read() as session:
            for name, client in self.devices.items():
                row = await session.get(SyncClient, client.client_id)
                applied = row.last_seq if row else 0
                answers = (await session.execute(select(func.count()).where(
                    SyncMutationResult.client_id == client.client_id))).scalar_one()
                assert applied == answers == self.enqueued[name]  # every mutation answered, once
                assert sorted(o["seq"] for o in client.store.outcomes()) == list(range(1, applied + 1))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_random_interleavings_converge_exactly_once(settings: Settings, server: str) -> None:
    SyncMachine.settings, SyncMachine.server = settings, server
    case = SyncMachine.TestCase
    case.settings = hsettings(max_examples=8, stateful_step_count=14, deadline=None)
    case("runTest").runTest()
