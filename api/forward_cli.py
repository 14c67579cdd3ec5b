"""`superapp forward list|retry|give-up`: the operators' dead-letter view of the forward queue.

`list` shows the jobs that keep failing (still owed, retried with backoff) and the ones that ended
undelivered (`refused` by the agency, `given-up` by an operator, or `ended` with the dossier they followed),
with attempts and last error. `retry JOB` makes a job
still owed due at once (after fixing the cause); `give-up JOB` ends it and tells the citizen, through the
same path as an agency's refusal (`core.forward_outcomes`). Nothing printed names the citizen.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import datetime

from core.clock import utc_now
from core.db import Database
from core.forward_outcomes import given_up
from core.forwarding import requeue, troubled
from core.models import ForwardJob
from core.settings import Settings

REASON_MAX = 500
Print = Callable[[str], None]


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _state(job: ForwardJob) -> str:
    error = job.last_error or ""
    if job.ended_at is None:
        return "failing"
    return "refused" if error.startswith("HTTP_") else "given-up" if error.startswith("GIVEN_UP") else "ended"


async def _list(db: Database, out: Print) -> int:
    async with db.read() as session:
        rows = await troubled(session)
    out(f"{'job':>6}  {'state':<8}  {'dossier':<24}  {'service':<16}  {'action':<10}  {'tries':>5}  "
        f"{'next / ended (UTC)':<19}  last error")
    for job, code in rows:
        out(f"{job.id:>6}  {_state(job):<8}  {code:<24}  {job.service_code:<16}  {job.action:<10}  "
            f"{job.attempts:>5}  {_when(job.ended_at or job.next_attempt_at):<19}  {job.last_error or '-'}")
    out(f"{len(rows)} job(s)")
    return 0


async def _retry(db: Database, job_id: int, out: Print, err: Print) -> int:
    job = await db.transaction(lambda session: requeue(session, job_id=job_id, now=utc_now()))
    if job is None:
        err(f"job {job_id} is not owed (unknown, delivered or ended); a refused job is final: the citizen "
            "was told and files anew")
        return 1
    out(f"job {job_id} is due now; a running server delivers it within its poll interval")
    return 0


async def _give_up(db: Database, job_id: int, reason: str | None, out: Print, err: Print) -> int:
    if reason is not None and (len(reason) > REASON_MAX or "\x00" in reason):
        err(f"--reason: at most {REASON_MAX} characters, no NUL")
        return 2
    job = await db.transaction(lambda session: given_up(session, job_id=job_id,
                                                        reason=reason.strip() if reason else None, now=utc_now()))
    if job is None:
        err(f"job {job_id} is not owed (unknown, delivered or ended)")
        return 1
    out(f"job {job_id} ended; the citizen is told")
    return 0


def run(settings: Settings, args: argparse.Namespace, out: Print, err: Print) -> int:
    async def main() -> int:
        db = Database.from_url(settings.database_url)
        try:
            if args.forward_command == "list":
                return await _list(db, out)
            if args.forward_command == "retry":
                return await _retry(db, args.job, out, err)
            return await _give_up(db, args.job, args.reason, out, err)
        finally:
            await db.dispose()

    return asyncio.run(main())
