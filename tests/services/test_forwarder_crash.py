"""A real `superapp serve` SIGKILLed while its forwarder is sending a batch to the agency: nothing is lost, and
the agency holds each dossier once.

Delivery is at least once (docs/ARCHITECTURE.md, "Never lost"): a job is marked delivered after the agency
answered, so only the jobs in flight at the kill can reach the agency a second time, after the lease
(`SUPERAPP_FORWARD_LEASE_SECONDS`) runs out, and with the same `Idempotency-Key`, on which the agency dedupes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from sqlmodel import col, select
from starlette.applications import Starlette

from core.db import Database
from core.models import Dossier, ForwardJob
from core.settings import Settings
from services.forwarder import Forwarder
from tests.support import RunningSandbox, citizen, gql, sandbox_secret

RESIDENCE_FORM = {"new_address": "Số 9 Phúc Xá, Ba Đình, Hà Nội"}
DOSSIERS = 30
MAX_CONCURRENCY = 10  # the agency's bulkhead: at most this many in flight at the kill
LEASE_SECONDS = 2


@contextlib.contextmanager
def _session_forwarder_paused(app: Starlette) -> Iterator[None]:
    """The session server's own forwarder shares the database: stopped (in its own loop) for the test."""
    forwarder: Forwarder = app.state.forwarder
    task = forwarder._task  # noqa: SLF001 - the loop it runs in; stop()/start() are its public controls
    if task is None or task.done():
        yield
        return
    loop = task.get_loop()
    asyncio.run_coroutine_threadsafe(forwarder.stop(), loop).result(10)
    try:
        yield
    finally:
        loop.call_soon_threadsafe(forwarder.start)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(settings: Settings, agency_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "SUPERAPP_ENV": "test", "SUPERAPP_DATABASE_URL": settings.database_url,
           "SUPERAPP_DATA_DIR": str(settings.data_dir), "SUPERAPP_SERVICES": "residence",
           "SUPERAPP_AGENCY_RESIDENCE_BASE_URL": agency_url,
           "SUPERAPP_AGENCY_RESIDENCE_SECRET": sandbox_secret("residence").decode(),
           "SUPERAPP_AGENCY_RESIDENCE_MAX_CONCURRENCY": str(MAX_CONCURRENCY),
           "SUPERAPP_AGENCY_RESIDENCE_TIMEOUT": "5", "SUPERAPP_FORWARD_POLL_SECONDS": "0.1",
           "SUPERAPP_FORWARD_LEASE_SECONDS": str(LEASE_SECONDS), "SUPERAPP_FORWARD_MAX_BACKOFF_SECONDS": "0.5",
           "SUPERAPP_LOG_LEVEL": "WARNING"}
    command = [str(Path(sys.executable).parent / "superapp"), "serve", "--port", str(port)]
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


async def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def _jobs(db: Database, codes: set[str]) -> list[ForwardJob]:
    async with db.read() as session:
        return list((await session.execute(select(ForwardJob).join(Dossier, col(Dossier.id) == ForwardJob.dossier_id)
                                           .where(col(Dossier.code).in_(codes)))).scalars())


async def test_a_server_killed_mid_batch_loses_no_dossier_and_the_agency_holds_each_once(
    settings: Settings, db: Database, app: Starlette, client: httpx.AsyncClient,
    sandboxes: dict[str, RunningSandbox], tmp_path: Path,
) -> None:
    residence = sandboxes["residence"]
    who = citizen(settings)
    with _session_forwarder_paused(app):
        codes: set[str] = set()
        for _ in range(DOSSIERS):
            body = await gql(client, 'mutation($f: JSON!) { submitDossier(input: {procedureCode: "1.004194", '
                                     "formData: $f}) { dossier { code } errors { code } } }", {"f": RESIDENCE_FORM},
                             who=who)
            codes.add(body["data"]["submitDossier"]["dossier"]["code"])

        def posted() -> list[str]:  # every submission that reached the agency, repeats included
            return [c for s in list(residence.sandbox.journal) if s.path == "/dossiers"
                    for c in codes if c.encode() in s.body]

        def held() -> set[str]:
            return {r.dossier_code for r in list(residence.sandbox.received.values())} & codes

        await residence.fault("slow", delay_ms=1500)  # a batch stays in flight long enough to be killed
        log = tmp_path / "serve.log"
        first, _ = _serve(settings, residence.url, log)
        try:
            await _wait(lambda: len(posted()) >= 5, 60, "the first server to send a batch")
            first.send_signal(signal.SIGKILL)
            first.wait(5)
        finally:
            first.kill()
            await residence.fault("ok")  # whatever happened, the session's other tests get a healthy agency
        in_flight = len(posted())
        assert len(held()) < DOSSIERS, "the batch was done before the kill; the test proves nothing"
        assert in_flight <= MAX_CONCURRENCY
        assert {j.delivered_at for j in await _jobs(db, codes)} == {None}  # none recorded: all still owed

        second, _ = _serve(settings, residence.url, log)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                jobs = await _jobs(db, codes)
                if all(j.delivered_at is not None for j in jobs):
                    break
                await asyncio.sleep(0.2)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
    jobs = await _jobs(db, codes)
    assert len(jobs) == DOSSIERS
    assert [j for j in jobs if j.delivered_at is None or j.ended_at is not None] == []
    assert held() == codes  # nothing lost
    stored = Counter(r.dossier_code for r in residence.sandbox.received.values() if r.dossier_code in codes)
    assert set(stored.values()) == {1}  # the agency holds each dossier once
    references = {r.dossier_code: r.reference for r in residence.sandbox.received.values()}
    assert {j.agency_reference for j in jobs} == {references[c] for c in codes}
    repeats = sum(n - 1 for n in Counter(posted()).values())
    assert repeats <= in_flight  # only what was in flight at the kill went out again, with the same key
    assert "Traceback" not in log.read_text(errors="replace")
