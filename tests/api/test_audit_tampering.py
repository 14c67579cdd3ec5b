"""Tampering with the audit trail through SQL, on the session's database (SQLite or PostgreSQL): a changed,
removed, reordered or forged row, and a removed last row, are each found by `superapp audit verify`'s check,
at the right row; each tamper is undone afterwards so the chain holds again. The CLI itself runs as a real
process: exit 0 on the intact chain, 1 naming the broken row, and `export` gives lines a third party re-checks.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import Database
from core.settings import Settings
from tests.support import citizen, gql

PROJECT = Path(__file__).resolve().parents[2]
_COLUMNS = ("seq", "at", "actor_kind", "actor_id", "subject_citizen_id", "fields", "operation", "purpose",
            "request_id", "prev_hash", "hash")


async def _some_rows(client: httpx.AsyncClient, settings: Settings, db: Database) -> int:
    """At least three rows in the trail; returns the last seq."""
    who = citizen(settings)
    for _ in range(3):
        await gql(client, "query Reads { me { fullName } }", who=who)
    async with db.read() as session:
        return int((await session.execute(text("SELECT max(seq) FROM audit_entry"))).scalar_one())


async def _row(session: AsyncSession, seq: int) -> dict[str, Any]:
    found = await session.execute(text(f"SELECT {', '.join(_COLUMNS)} FROM audit_entry WHERE seq = :s"), {"s": seq})
    return dict(found.mappings().one())


async def _insert(session: AsyncSession, row: dict[str, Any]) -> None:
    names = ", ".join(_COLUMNS)
    await session.execute(text(f"INSERT INTO audit_entry ({names}) VALUES ({', '.join(':' + c for c in _COLUMNS)})"),
                          row)


async def _renumber(session: AsyncSession, old: int, new: int) -> None:
    await session.execute(text("UPDATE audit_entry SET seq = :new WHERE seq = :old"), {"new": new, "old": old})


async def _swap(session: AsyncSession, a: int, b: int) -> None:
    await _renumber(session, a, -1)
    await _renumber(session, b, a)
    await _renumber(session, -1, b)


Saved = dict[int, dict[str, Any]]
Tamper = Callable[[AsyncSession, int, Saved], Awaitable[None]]


async def _change(session: AsyncSession, last: int, saved: Saved) -> None:
    await session.execute(text("UPDATE audit_entry SET purpose = 'marketing' WHERE seq = :s"), {"s": last - 1})


async def _unchange(session: AsyncSession, last: int, saved: Saved) -> None:
    await session.execute(text("UPDATE audit_entry SET purpose = :p WHERE seq = :s"),
                          {"p": saved[last - 1]["purpose"], "s": last - 1})


async def _remove(session: AsyncSession, last: int, saved: Saved) -> None:
    await session.execute(text("DELETE FROM audit_entry WHERE seq = :s"), {"s": last - 1})


async def _put_back(session: AsyncSession, last: int, saved: Saved) -> None:
    await _insert(session, saved[last - 1])


async def _reorder(session: AsyncSession, last: int, saved: Saved) -> None:
    await _swap(session, last - 2, last - 1)


async def _forge(session: AsyncSession, last: int, saved: Saved) -> None:
    forged = {**saved[last], "seq": last + 1, "prev_hash": saved[last]["hash"], "operation": "Forged",
              "hash": hashlib.sha256(b"not the algorithm").hexdigest()}
    await _insert(session, forged)


async def _unforge(session: AsyncSession, last: int, saved: Saved) -> None:
    await session.execute(text("DELETE FROM audit_entry WHERE seq = :s"), {"s": last + 1})


async def _drop_last(session: AsyncSession, last: int, saved: Saved) -> None:
    await session.execute(text("DELETE FROM audit_entry WHERE seq = :s"), {"s": last})


async def _put_last_back(session: AsyncSession, last: int, saved: Saved) -> None:
    await _insert(session, saved[last])


CASES: dict[str, tuple[Tamper, Tamper, int, str]] = {
    # name: (tamper, undo, broken position relative to the last seq, words of the reason)
    "changed row": (_change, _unchange, -1, "hash does not match"),
    "removed row": (_remove, _put_back, -1, "seq"),
    "two reordered rows": (_reorder, _reorder, -2, "prev_hash"),
    "appended forged row": (_forge, _unforge, +1, "hash does not match"),
    "removed last row": (_drop_last, _put_last_back, 0, "the head records"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_tampering_is_detected_at_the_broken_row(case: str, client: httpx.AsyncClient, settings: Settings,
                                                       db: Database) -> None:
    tamper, undo, offset, reason = CASES[case]
    last = await _some_rows(client, settings, db)
    async with db.read() as session:
        assert (await audit.verify(session))[1] is None
        saved = {seq: await _row(session, seq) for seq in (last - 2, last - 1, last)}
    async with db.write() as session:
        await tamper(session, last, saved)
    try:
        async with db.read() as session:
            _, broken = await audit.verify(session)
        assert broken is not None, case
        assert broken.position == last + offset, (case, broken)
        assert reason in broken.reason, (case, broken)
    finally:
        async with db.write() as session:
            await undo(session, last, saved)
    async with db.read() as session:
        assert (await audit.verify(session))[1] is None


def _superapp(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    env.update(SUPERAPP_DATABASE_URL=settings.database_url, SUPERAPP_DATA_DIR=str(settings.data_dir),
               SUPERAPP_LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, cwd=PROJECT, capture_output=True,
                          text=True, timeout=120, check=False)


def _recheck(lines: list[str]) -> bool:
    """A third party's check of an export, from docs/ARCHITECTURE.md alone: no code of ours."""
    prev = "0" * 64
    for seq, line in enumerate(lines, start=1):
        row = json.loads(line)
        claimed = row.pop("hash")
        canonical = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if row["seq"] != seq or row["prev_hash"] != prev or hashlib.sha256(canonical).hexdigest() != claimed:
            return False
        prev = claimed
    return True


async def test_the_cli_verifies_and_exports_for_a_third_party(client: httpx.AsyncClient, settings: Settings,
                                                              db: Database, tmp_path: Path) -> None:
    last = await _some_rows(client, settings, db)
    intact = _superapp(settings, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert f"audit trail intact: {last} row(s)" in intact.stdout
    exported = _superapp(settings, "audit", "export", "--output", str(tmp_path / "trail.jsonl"))
    assert exported.returncode == 0, exported.stderr
    lines = (tmp_path / "trail.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= last
    assert _recheck(lines)
    async with db.write() as session:
        await session.execute(text("UPDATE audit_entry SET fields = 'Me.phone' WHERE seq = :s"), {"s": last})
    try:
        broken = _superapp(settings, "audit", "verify")
        assert broken.returncode == 1
        assert f"audit trail BROKEN at row {last} (seq {last}): hash does not match" in broken.stderr
        tampered = _superapp(settings, "audit", "export", "--output", str(tmp_path / "tampered.jsonl"))
        assert not _recheck((tmp_path / "tampered.jsonl").read_text(encoding="utf-8").splitlines())
        assert tampered.returncode == 0
    finally:
        async with db.write() as session:
            await session.execute(text("UPDATE audit_entry SET fields = 'Me.fullName' WHERE seq = :s"), {"s": last})
