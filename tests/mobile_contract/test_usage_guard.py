"""The breaking-change guard with app usage: a deprecated field stays while an operation that a supported app
version sends still uses it, and may go once that version is below its platform's minimum; end to end, from
operations a real server counted to `superapp contract usage` and `superapp schema check --usage`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from graphql import build_schema
from sqlalchemy import delete

from api.app import create_app
from core.db import Database
from core.models import AppMinimumVersion, AppOperationUsage
from core.settings import Settings
from mobile_contract.compatibility import check
from mobile_contract.manifest import OPERATIONS, document_hash, operation_text
from mobile_contract.snapshot import SNAPSHOT
from mobile_contract.usage import UsedOperation, coordinates, load
from tests.support import RunningSandbox, agency_overrides, citizen, serve

PROJECT = Path(__file__).resolve().parents[2]
SYNC_PULL = operation_text(OPERATIONS / "SyncPull.graphql")
SYNC_CHANGES = operation_text(OPERATIONS / "SyncChanges.graphql")
# The contract as it is (syncPull deprecated with a removal date), and the next one without syncPull.
DEPRECATED_SDL = SNAPSHOT.read_text(encoding="utf-8")
REMOVED_SDL = re.sub(r'\n(  """[^\n]*"""\n)?  syncPull\([^\n]*\n', "\n", DEPRECATED_SDL)


def _operation(text: str, name: str, *, version: str = "1.0.0", supported: bool = True,
               document: str | None = "same") -> UsedOperation:
    return UsedOperation(app_name="dichvucong-android", platform="android", app_version=version, supported=supported,
                         operation_hash=document_hash(text), operation_name=name, count=7,
                         first_seen="2026-01-01T00:00:00+00:00", last_seen="2026-12-01T00:00:00+00:00",
                         document=text if document == "same" else document)


def test_the_removed_field_is_what_the_old_operation_reads() -> None:
    schema = build_schema(DEPRECATED_SDL)
    assert "Query.syncPull" in coordinates(schema, SYNC_PULL)
    assert "Query.syncPull(schemaVersion)" in coordinates(schema, SYNC_PULL)
    assert "Query.syncPull" not in coordinates(schema, SYNC_CHANGES)
    assert REMOVED_SDL != DEPRECATED_SDL
    assert "syncPull(" not in REMOVED_SDL


def test_without_usage_the_deprecated_removal_is_allowed() -> None:
    report = check(DEPRECATED_SDL, REMOVED_SDL)
    assert report.ok, report.breaking
    assert report.allowed_removals == ["FIELD_REMOVED: Field Query.syncPull was removed."]


def test_a_supported_version_still_using_the_field_refuses_its_removal() -> None:
    report = check(DEPRECATED_SDL, REMOVED_SDL, [_operation(SYNC_PULL, "SyncPull"),
                                                 _operation(SYNC_CHANGES, "SyncChanges", version="2.0.0")])
    assert not report.ok
    assert report.breaking[0] == ("FIELD_REMOVED: Field Query.syncPull was removed. Still used by supported app "
                                  "versions: dichvucong-android 1.0.0 (SyncPull).")
    assert any(line.startswith("OPERATION_BROKEN: dichvucong-android 1.0.0 (SyncPull)") for line in report.breaking)
    assert report.allowed_removals == []


def test_once_the_version_is_unsupported_the_removal_is_allowed() -> None:
    report = check(DEPRECATED_SDL, REMOVED_SDL, [_operation(SYNC_PULL, "SyncPull", supported=False),
                                                 _operation(SYNC_CHANGES, "SyncChanges", version="2.0.0")])
    assert report.ok, report.breaking
    assert report.allowed_removals == ["FIELD_REMOVED: Field Query.syncPull was removed."]


def test_a_type_change_that_breaks_a_supported_operation_is_refused() -> None:
    """Not a removal: `limit` becomes a String, so SyncPull's `$limit: Int` no longer fits."""
    changed = DEPRECATED_SDL.replace("syncPull(schemaVersion: Int!, checkpoint: String = null, limit: Int = null",
                                     "syncPull(schemaVersion: Int!, checkpoint: String = null, limit: String = null")
    assert changed != DEPRECATED_SDL
    report = check(DEPRECATED_SDL, changed, [_operation(SYNC_PULL, "SyncPull")])
    assert any(line.startswith("OPERATION_BROKEN: dichvucong-android 1.0.0 (SyncPull)") for line in report.breaking)
    unchecked = check(DEPRECATED_SDL, REMOVED_SDL, [_operation(SYNC_PULL, "SyncPull", document=None)])
    assert len(unchecked.unchecked) == 1
    assert "SyncPull" in unchecked.unchecked[0]


def _env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    env.update(SUPERAPP_DATA_DIR=str(tmp_path), SUPERAPP_DATABASE_URL=settings.database_url,
               SUPERAPP_LOG_LEVEL="WARNING", SUPERAPP_ENV="test")
    return env


def _superapp(settings: Settings, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=_env(settings, tmp_path), cwd=PROJECT,
                          capture_output=True, text=True, timeout=180, check=False)


async def _forget(db: Database) -> None:
    async def work(session: Any) -> None:
        await session.execute(delete(AppMinimumVersion))
        await session.execute(delete(AppOperationUsage))
    await db.transaction(work)


async def _send_from_apps(settings: Settings, sandboxes: dict[str, RunningSandbox]) -> None:
    """A real server counts SyncPull from app 1.0.0 and SyncChanges from 2.0.0; its shutdown writes the batch."""
    who = citizen(settings)
    variables = json.loads((OPERATIONS / "SyncPull.variables.json").read_text(encoding="utf-8"))
    with serve(create_app(settings, agencies=agency_overrides(sandboxes))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            for text, version in ((SYNC_PULL, "1.0.0"), (SYNC_CHANGES, "2.0.0")):
                response = await http.post("/graphql", headers={
                    **who.headers, "apollographql-client-name": "dichvucong-android",
                    "apollographql-client-version": version}, json={
                    "variables": variables, "extensions": {
                        "persistedQuery": {"version": 1, "sha256Hash": document_hash(text)}}})
                assert "data" in response.json(), response.text


async def test_a_removal_is_refused_while_a_supported_version_sends_it_and_allowed_after_the_minimum_moves(
        db: Database, settings: Settings, sandboxes: dict[str, RunningSandbox], tmp_path: Path) -> None:
    await _forget(db)
    try:
        await _send_from_apps(settings, sandboxes)
        removed, deprecated = tmp_path / "next.graphql", tmp_path / "released.graphql"
        removed.write_text(REMOVED_SDL, encoding="utf-8")
        deprecated.write_text(DEPRECATED_SDL, encoding="utf-8")
        exported = tmp_path / "usage.json"

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return _superapp(settings, tmp_path, *args)

        report = await asyncio.to_thread(cli, "contract", "usage")
        assert report.returncode == 0, report.stderr
        assert "Query.syncPull: KEEP, used by supported dichvucong-android 1.0.0 (SyncPull)" in report.stdout
        listed = await asyncio.to_thread(cli, "apps", "list")
        assert "dichvucong-android" in listed.stdout, listed.stdout
        assert "1.0.0" in listed.stdout

        written = await asyncio.to_thread(cli, "contract", "usage", "--export", str(exported))
        assert written.returncode == 0, written.stderr
        assert {o.operation_name for o in load(exported) if o.supported} == {"SyncPull", "SyncChanges"}
        offline = await asyncio.to_thread(cli, "contract", "usage", "--from", str(exported))
        assert "Query.syncPull: KEEP, used by supported dichvucong-android 1.0.0 (SyncPull)" in offline.stdout
        refused = await asyncio.to_thread(cli, "schema", "check", "--against", str(deprecated), "--current",
                                          str(removed), "--usage", str(exported))
        assert refused.returncode == 1, refused.stdout
        assert "Still used by supported app versions: dichvucong-android 1.0.0 (SyncPull)" in refused.stdout
        assert "SCHEMA CHECK FAILED" in refused.stderr

        moved = await asyncio.to_thread(cli, "apps", "set-minimum", "android", "1.1.0", "--store-url",
                                        "https://play.google.com/store/apps/details?id=vn.gov.test")
        assert moved.returncode == 0, moved.stderr
        allowed = await asyncio.to_thread(cli, "schema", "check", "--against", str(deprecated), "--current",
                                          str(removed), "--usage", "db")
        assert allowed.returncode == 0, allowed.stdout + allowed.stderr
        assert "FIELD_REMOVED: Field Query.syncPull was removed." in allowed.stdout
        after = await asyncio.to_thread(cli, "contract", "usage")
        assert "Query.syncPull: safe to remove (used only by unsupported versions)" in after.stdout
        assert "Query.syncPull: dichvucong-android 1.0.0" in after.stdout  # listed among the old-only fields
    finally:
        await _forget(db)


def test_set_minimum_refuses_what_is_not_a_platform_version_or_link(settings: Settings, tmp_path: Path) -> None:
    for args, word in ((("apps", "set-minimum", "symbian", "1.0.0"), "platform"),
                       (("apps", "set-minimum", "ios", "1.0"), "version"),
                       (("apps", "set-minimum", "ios", "1.0.0", "--store-url", "javascript:alert(1)"), "link")):
        result = _superapp(settings, tmp_path, *args)
        assert result.returncode == 2, result.stderr
        assert word in result.stderr
