"""`superapp sync-purge`: tombstones past retention go, recent ones and live rows stay."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from core.clock import utc_now
from core.db import Database
from core.models import ChangeLogEntry, SyncScope


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPERAPP_DATA_DIR": str(tmp_path),
           "SUPERAPP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'purge.db'}"}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True,
                          check=False, timeout=120)


def test_sync_purge_drops_only_old_tombstones(tmp_path: Path) -> None:
    assert _cli(tmp_path, "migrate").returncode == 0
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'purge.db'}"
    old, recent = utc_now() - timedelta(days=200), utc_now() - timedelta(days=10)

    async def arrange() -> None:
        db = Database.from_url(db_url)
        async with db.write() as session:
            session.add(SyncScope(scope="c:1", last_seq=3, min_retained_seq=0))
            session.add_all([
                ChangeLogEntry(scope="c:1", record_type="draft", record_id="a", seq=1, version=2, deleted=True,
                               changed_at=old),
                ChangeLogEntry(scope="c:1", record_type="draft", record_id="b", seq=2, version=2, deleted=True,
                               changed_at=recent),
                ChangeLogEntry(scope="c:1", record_type="dossier", record_id="c", seq=3, version=1, changed_at=old),
            ])
        await db.dispose()

    async def remaining() -> tuple[list[str], int]:
        db = Database.from_url(db_url)
        async with db.read() as session:
            ids = sorted((await session.execute(select(ChangeLogEntry.record_id))).scalars())
            scope = (await session.execute(select(SyncScope).where(SyncScope.scope == "c:1"))).scalars().one()
        await db.dispose()
        return ids, scope.min_retained_seq

    asyncio.run(arrange())
    run = _cli(tmp_path, "sync-purge")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "1 tombstones purged"
    assert asyncio.run(remaining()) == (["b", "c"], 1)
