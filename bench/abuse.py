"""Legitimate citizens' latency, alone and while an abusive client floods the server (issue 11, item 8).

    .venv/bin/python bench/abuse.py [--seconds 20]

A real `superapp serve` process on a fresh SQLite file (or the PostgreSQL in SUPERAPP_DATABASE_URL, whose
public schema is dropped). Several legitimate citizens, in this process, each loop the app's persisted
HomeScreen and MyDossiers with a short pause, as the app does; their p95 is measured alone, then while a
flood runs in a separate process (so it does not share this process's GIL): one abusive token sending
expensive ad-hoc documents (aliased dossier lists with their histories) and submissions from many
connections, ignoring Retry-After, plus anonymous catalogue searches from the same address. Then, for
comparison, the same flood against a second server on the same database with quotas off. Prints both p95s,
the ratio (goal: under 1.20) and how many abusive requests were refused (429) or capped
(DAILY_SUBMISSION_LIMIT).

The quotas are the bench's own (QUOTA_ENV below, in cost units: a citizen may spend what 2 legitimate
requests a second cost, bursts of 20), low enough that a short flood on a small machine reaches them; the production
defaults (README) allow more per minute. Every operation is charged its cost (the cost budget's figure), so
one expensive document spends what dozens of screens would.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.auth import issue_dev_token  # noqa: E402
from core.db import Database, create_engine  # noqa: E402
from core.deadlines import HolidayCalendar  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.seed import seed  # noqa: E402
from core.seed_data import PROCEDURES  # noqa: E402
from core.settings import Environment, Settings  # noqa: E402
from mobile_contract.manifest import OPERATIONS, document_hash, operation_text  # noqa: E402

HERE = str(Path(__file__).resolve())
LEGIT_CITIZENS = 8
LEGIT_PAUSE = 1.0  # seconds between one citizen's requests: an app refreshing busily
FLOOD_CONNECTIONS = 16
ANONYMOUS_CONNECTIONS = 4
# Offered load, the same with and without quotas: an open-loop attacker on another machine does not slow down
# when answered fast, and a closed loop here would measure this machine's own client burning the shared cores.
FLOOD_RATE = 40.0  # abusive token's requests per second (the issue's attack: 500 dossiers in 29 s, ~17/s)
ANONYMOUS_RATE = 10.0
# In cost units (`superapp contract cost`; the legitimate pair below: HomeScreen 93, MyDossiers(first: 20)
# 524; the catalogue search 301): per 10 s, what 10 such pairs cost for a citizen (2 requests a second,
# twice a legitimate citizen's pace) and what 20 searches cost for an anonymous address.
HOME_COST, MY_DOSSIERS_COST, SEARCH_COST = 93, 524, 301
QUOTA_ENV = {"SUPERAPP_QUOTA_CITIZEN_LIMIT": str(10 * (HOME_COST + MY_DOSSIERS_COST)),
             "SUPERAPP_QUOTA_CITIZEN_PERIOD_SECONDS": "10",
             "SUPERAPP_QUOTA_IP_LIMIT": str(20 * SEARCH_COST), "SUPERAPP_QUOTA_IP_PERIOD_SECONDS": "10",
             "SUPERAPP_QUOTA_SUBMISSIONS_PER_DAY": "20"}
PROCEDURE = "1.004194"
FORM = next(p["sample"] for p in PROCEDURES if p["code"] == PROCEDURE)
SUBMIT = """mutation($p: String!, $f: JSON!) { submitDossier(input: {procedureCode: $p, formData: $f}) {
  dossier { code } errors { code } } }"""
_LIST = "myDossiers(first: 100) { edges { node { code status events { status note { vi en } } " \
        "procedure { code name { vi en } formSchema } } } }"
# Three aliased pages of 100 dossiers with their histories and form schemas: 4,503, just under the budget
# (5,000), so it runs unless a quota stops it; ten of them (15,010) would be refused by the budget alone.
EXPENSIVE = "query Flood { " + " ".join(f"a{i}: {_LIST}" for i in range(3)) + " }"
CATALOGUE = '{ procedures(first: 50, search: "dang ky") { edges { node { code name { vi en } } } } }'


def _persisted(name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    sha = document_hash(operation_text(OPERATIONS / f"{name}.graphql"))
    return {"variables": variables or {}, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}


LEGIT_BODIES = [_persisted("HomeScreen"), _persisted("MyDossiers", {"first": 20})]


def _id_number(n: int) -> str:
    return f"001090{n:06d}"  # Hà Nội, male, born 1990, serial n: well formed


async def _legit(url: str, token: str, until: float, latencies: list[float], statuses: Counter[int]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
        turn = 0
        while time.monotonic() < until:
            start = time.monotonic()
            answer = await http.post("/graphql", json=LEGIT_BODIES[turn % 2])
            latencies.append(time.monotonic() - start)
            statuses[answer.status_code] += 1
            turn += 1
            await asyncio.sleep(LEGIT_PAUSE)


async def legit_phase(url: str, tokens: list[str], seconds: float) -> tuple[list[float], Counter[int]]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    until = time.monotonic() + seconds
    await asyncio.gather(*(_legit(url, t, until, latencies, statuses) for t in tokens))
    return latencies, statuses


async def flood(url: str, token: str, seconds: float) -> dict[str, int]:
    """The abusive client (run in its own process): a steady offered rate, never reads Retry-After."""
    outcomes: Counter[str] = Counter()
    until = time.monotonic() + seconds

    async def abuser(n: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as http:
            turn = n
            while time.monotonic() < until:
                next_at = time.monotonic() + FLOOD_CONNECTIONS / FLOOD_RATE
                submit = turn % 4 == 0
                body = {"query": SUBMIT, "variables": {"p": PROCEDURE, "f": FORM}} if submit else {"query": EXPENSIVE}
                answer = await http.post("/graphql", json=body)
                kind = "submission" if submit else "expensive"
                if answer.status_code == 429:
                    outcomes[f"{kind} refused 429"] += 1
                elif "QUERY_TOO_COSTLY" in answer.text:
                    outcomes[f"{kind} refused QUERY_TOO_COSTLY"] += 1
                elif submit and "DAILY_SUBMISSION_LIMIT" in answer.text:
                    outcomes["submission capped (DAILY_SUBMISSION_LIMIT)"] += 1
                else:
                    outcomes[f"{kind} served {answer.status_code}"] += 1
                turn += 1
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def anonymous() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            while time.monotonic() < until:
                next_at = time.monotonic() + ANONYMOUS_CONNECTIONS / ANONYMOUS_RATE
                answer = await http.post("/graphql", json={"query": CATALOGUE})
                outcomes["anonymous catalogue " + ("refused 429" if answer.status_code == 429 else "served")] += 1
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    await asyncio.gather(*(abuser(n) for n in range(FLOOD_CONNECTIONS)),
                         *(anonymous() for _ in range(ANONYMOUS_CONNECTIONS)))
    return dict(outcomes)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                               env={**os.environ, **env}, cwd=Path(__file__).resolve().parent.parent)
    return process, f"http://127.0.0.1:{port}"


async def _ready(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


async def _with_flood(url: str, tokens: list[str], abuser: str, seconds: float,
                      ) -> tuple[list[float], Counter[int], dict[str, int]]:
    flooder = await asyncio.create_subprocess_exec(
        sys.executable, HERE, "--flood", url, abuser, str(seconds + 1),
        stdout=asyncio.subprocess.PIPE)
    await asyncio.sleep(1.0)  # the flooder's interpreter starts and is flooding before the clock runs
    latencies, statuses = await legit_phase(url, tokens, seconds)
    out, _ = await flooder.communicate()
    return latencies, statuses, json.loads(out.decode().strip().splitlines()[-1])


async def main(seconds: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-abuse-"))
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
    settings = Settings(env=Environment.TEST, data_dir=tmp, database_url=url)
    db = Database.from_url(url)
    await seed(db, calendar=HolidayCalendar.load(None), tz_name=settings.timezone)
    dialect = db.dialect
    await db.dispose()
    claims = {"name": "Người Dùng Đo", "birthdate": "1990-01-01", "gender": "male"}
    tokens = [issue_dev_token(settings, id_number=_id_number(n + 1), extra_claims=claims)
              for n in range(LEGIT_CITIZENS + 2)]
    legit, abusers = tokens[:LEGIT_CITIZENS], tokens[LEGIT_CITIZENS:]
    env = {"SUPERAPP_ENV": "test", "SUPERAPP_DATA_DIR": str(tmp), "SUPERAPP_DATABASE_URL": url,
           "SUPERAPP_LOG_LEVEL": "ERROR",
           "SUPERAPP_SERVICES": "traffic_fines",  # routes no procedure: dossiers stay at the desk, no agency call
           **QUOTA_ENV}
    server, base = _start_server(env)
    try:
        await _ready(base)
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            for token in legit:  # each citizen has dossiers to list (and is enrolled) before the clock runs
                for _ in range(3):
                    await http.post("/graphql", headers={"Authorization": f"Bearer {token}"},
                                    json={"query": SUBMIT, "variables": {"p": PROCEDURE, "f": FORM}})
        await legit_phase(base, legit, 3)  # warm-up: caches, connections
        alone, alone_statuses = await legit_phase(base, legit, seconds)
        mixed, mixed_statuses, outcomes = await _with_flood(base, legit, abusers[0], seconds)
    finally:
        _stop(server)
    print(f"== abuse benchmark ({dialect}, one server process, {LEGIT_CITIZENS} citizens every {LEGIT_PAUSE} s, "
          f"flood offered {FLOOD_RATE:.0f}+{ANONYMOUS_RATE:.0f} req/s on {FLOOD_CONNECTIONS}+{ANONYMOUS_CONNECTIONS} "
          f"connections, {seconds:.0f} s per phase) ==")
    base_p95, mixed_p95 = p95(alone), p95(mixed)
    print(f"legit alone:      {len(alone):5d} requests, p50 {statistics.median(alone) * 1000:7.1f} ms, "
          f"p95 {base_p95 * 1000:7.1f} ms, statuses {dict(alone_statuses)}")
    print(f"legit with flood: {len(mixed):5d} requests, p50 {statistics.median(mixed) * 1000:7.1f} ms, "
          f"p95 {mixed_p95 * 1000:7.1f} ms, statuses {dict(mixed_statuses)}")
    print(f"p95 ratio (with flood / alone): {mixed_p95 / base_p95:.2f} (goal < 1.20)")
    print(f"abusive requests: {sum(outcomes.values())}; refused or capped: "
          f"{sum(n for k, n in outcomes.items() if 'refused' in k or 'capped' in k)}; {outcomes}")

    env_off = {**env, "SUPERAPP_QUOTA_ENABLED": "false"}
    server, base = _start_server(env_off)
    try:
        await _ready(base)
        await legit_phase(base, legit, 2)
        unguarded, _, off_outcomes = await _with_flood(base, legit, abusers[1], seconds)
    finally:
        _stop(server)
    print(f"for comparison, quotas off: legit p95 {p95(unguarded) * 1000:7.1f} ms "
          f"({p95(unguarded) / base_p95:.2f}x alone), abusive requests served {sum(off_outcomes.values())}")


if __name__ == "__main__":
    if "--flood" in sys.argv:
        at = sys.argv.index("--flood")
        result = asyncio.run(flood(sys.argv[at + 1], sys.argv[at + 2], float(sys.argv[at + 3])))
        print(json.dumps(result))
    else:
        length = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 20.0
        asyncio.run(main(length))
