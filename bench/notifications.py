"""Status events per second from the agency callback to the FCM stand-in's receipt, with one and two workers.

    .venv/bin/python bench/notifications.py [--events 400]

Runs the real server (`superapp serve`) and one or two real `superapp worker` processes against the FCM
stand-in (in this process, so receipts share its clock), on a fresh SQLite file or on the database in
SUPERAPP_DATABASE_URL (its public schema is dropped). Separate processes, as in production: nothing shares
a GIL with the callbacks being sent. The baseline, measured in the same run, is the
callback endpoint alone (no worker): results are printed as ratios against it, so they compare across
machines. Latency is per event: from sending its callback to the stand-in receiving its push.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import text
from starlette.types import ASGIApp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.clock import utc_now  # noqa: E402
from core.db import Database, create_engine  # noqa: E402
from core.deadlines import HolidayCalendar  # noqa: E402
from core.devices import register_device  # noqa: E402
from core.dossiers import Submission, submit_dossier  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.models import Citizen, ForwardJob  # noqa: E402
from core.seed import seed  # noqa: E402
from core.seed_data import PROCEDURES  # noqa: E402
from core.settings import Environment, Settings  # noqa: E402
from notifications.standins import FcmStandin  # noqa: E402
from services.signing import signed_headers  # noqa: E402

SECRET = b"bench-secret-residence"
PROCEDURE = "1.004194"
CONCURRENCY = 8


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


async def dossiers(db: Database, count: int, tag: str, tz_name: str) -> list[tuple[str, str]]:
    """`count` forwarded residence dossiers, each of a citizen with one device: (dossier code, token)."""
    calendar = HolidayCalendar.load(None)
    form = dict(next(p["sample"] for p in PROCEDURES if p["code"] == PROCEDURE))
    made = []
    for n in range(count):  # one transaction each: a code is taken before anything is stamped (core.locks)
        async with db.write() as session:
            citizen = Citizen(id_number=str(uuid.uuid4().int)[:12], full_name="Bench")  # bench rows only
            session.add(citizen)
            await session.flush()
            assert citizen.id is not None
            dossier = await submit_dossier(session, citizen=citizen, now=utc_now(), calendar=calendar,
                                           tz_name=tz_name,
                                           submission=Submission(procedure_code=PROCEDURE, form_data=form))
            session.add(ForwardJob(dossier_id=dossier.id or 0, service_code="residence",
                                   idempotency_key=f"bench-{tag}-{n}-{uuid.uuid4().hex[:8]}",
                                   next_attempt_at=utc_now() + timedelta(days=1), delivered_at=utc_now()))
            token = f"bench-{tag}-{n}"
            await register_device(session, citizen_id=citizen.id, token=token, platform="android", locale="vi",
                                  now=utc_now())
            made.append((dossier.code, token))
    return made


async def callbacks(url: str, targets: list[tuple[str, str]], sent: dict[str, float]) -> list[float]:
    """POST one signed `accepted` event per dossier; returns each callback's round trip."""
    gate = asyncio.Semaphore(CONCURRENCY)
    trips: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        async def one(code: str, token: str) -> None:
            body = json.dumps({"event_id": uuid.uuid4().hex, "dossier_ref": code, "status": "2",
                               "occurred_at": utc_now().isoformat()}).encode()
            async with gate:
                sent[token] = time.monotonic()
                response = await http.post("/agencies/residence/events", content=body,
                                           headers=signed_headers(SECRET, str(int(time.time())), body))
                trips.append(time.monotonic() - sent[token])
            assert response.status_code == 200, response.text

        await asyncio.gather(*(one(c, t) for c, t in targets))
    return trips


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _process(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "api.cli", *args], env={**os.environ, **env},
                            cwd=Path(__file__).resolve().parent.parent)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)


async def run(env: dict[str, str], url: str, fcm: FcmStandin, db: Database, workers: int, events: int,
              tag: str) -> tuple[float, list[float]]:
    targets = await dossiers(db, events, tag, Settings().timezone)  # SUPERAPP_TIMEZONE, as the server
    tokens = {t for _, t in targets}
    sent: dict[str, float] = {}
    processes = [_process(env, "worker") for _ in range(workers)]
    await asyncio.sleep(2.0 if workers else 0)  # let the workers import and connect before the clock starts
    start = time.monotonic()
    trips = await callbacks(url, targets, sent)
    if workers == 0:
        rate = events / (time.monotonic() - start)
        async with db.write() as session:  # the baseline's pushes must not queue ahead of the next run's
            await session.execute(text("UPDATE outbox_message SET state = 'dropped' WHERE state = 'pending'"))
        return rate, trips
    while len({r.token for r in fcm.accepted if r.token in tokens}) < events:
        await asyncio.sleep(0.005)
    elapsed = time.monotonic() - start
    _stop(processes)
    first = {}
    for r in fcm.accepted:
        if r.token in tokens and r.token not in first:
            first[r.token] = r.at
    return events / elapsed, [first[t] - sent[t] for t in tokens]


async def main(events: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    url = os.environ.get("SUPERAPP_DATABASE_URL", "")
    if url.startswith("postgresql"):
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    fcm = FcmStandin(project="bench")
    with serve(fcm.app()) as fcm_url:
        settings = Settings(env=Environment.TEST, data_dir=tmp, database_url=url)
        env = {"SUPERAPP_ENV": "test", "SUPERAPP_DATA_DIR": str(tmp), "SUPERAPP_DATABASE_URL": url,
               "SUPERAPP_FCM_ENDPOINT": fcm_url, "SUPERAPP_FCM_PROJECT_ID": "bench",
               "SUPERAPP_WORKER_POLL_SECONDS": "0.01", "SUPERAPP_WORKER_BATCH_SIZE": "100",
               "SUPERAPP_FORWARD_POLL_SECONDS": "3600", "SUPERAPP_LOG_LEVEL": "WARNING",
               "SUPERAPP_SERVICES": "residence", "SUPERAPP_AGENCY_RESIDENCE_BASE_URL": "http://127.0.0.1:9",
               "SUPERAPP_AGENCY_RESIDENCE_SECRET": SECRET.decode()}
        db = Database.from_url(url)
        await seed(db, calendar=HolidayCalendar.load(None), tz_name=settings.timezone)
        port = _port()
        server_process = _process(env, "serve", "--port", str(port))
        server = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(f"{server}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        try:
            base_rate, base_trips = await run(env, server, fcm, db, 0, events, "base")
            base_p50, base_p99 = pct(base_trips, 0.5), pct(base_trips, 0.99)
            print(f"database: {db.dialect}; {events} status events per run; callback concurrency {CONCURRENCY}")
            print(f"baseline (callbacks only, no worker): {base_rate:8.1f} events/s, "
                  f"callback p50 {base_p50 * 1000:6.1f} ms, p99 {base_p99 * 1000:6.1f} ms")
            for workers in (1, 2):
                rate, latencies = await run(env, server, fcm, db, workers, events, f"w{workers}")
                p50, p99 = pct(latencies, 0.5), pct(latencies, 0.99)
                print(f"{workers} worker{'s' if workers > 1 else ' '} callback->push: {rate:8.1f} events/s "
                      f"({rate / base_rate:4.2f}x baseline), p50 {p50 * 1000:6.1f} ms ({p50 / base_p50:5.1f}x), "
                      f"p99 {p99 * 1000:6.1f} ms ({p99 / base_p99:5.1f}x)")
        finally:
            _stop([server_process])
        await db.dispose()


if __name__ == "__main__":
    count = int(sys.argv[sys.argv.index("--events") + 1]) if "--events" in sys.argv else 400
    asyncio.run(main(count))
