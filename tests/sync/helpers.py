"""Shared by the sync tests: push/pull over real HTTP, a fresh reference client, server-side changes made
through core's own write paths on the test's database connection."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, insert
from sqlmodel import SQLModel, select

from core.clock import utc_now
from core.db import Database
from core.dossier_status import DossierStatus
from core.dossiers import change_status
from core.models import Citizen as CitizenRow
from core.models import Dossier
from sync.client import OfflineClient
from sync.wire import PULL_DOCUMENT, PULL_FIELD, PUSH_DOCUMENT
from tests.support import Citizen, gql

BIRTH = "1.001193"
BIRTH_FORM = {"child_name": "Nguyễn Bé", "child_birth_date": "2026-10-02", "child_sex": "female",
              "place_of_birth": "Hà Nội", "mother_name": "Phạm Hoa"}


def mutation(seq: int, intent: str, record_id: str | None, args: dict[str, Any] | None = None,
             base: int | None = None, cmid: str | None = None) -> dict[str, Any]:
    return {"clientMutationId": cmid or str(uuid.uuid4()), "seq": seq, "intent": intent, "recordId": record_id,
            "baseVersion": base, "args": args or {}}


async def push(client: httpx.AsyncClient, who: Citizen, client_id: str, mutations: list[dict[str, Any]],
               pull_from: str | None = None, schema_version: int = 3) -> dict[str, Any]:
    variables = {"input": {"clientId": client_id, "schemaVersion": schema_version, "mutations": mutations,
                           "pullFrom": pull_from}}
    # Escaped as JavaScript's JSON.stringify does, so a queued string with a lone surrogate (an emoji cut in
    # half) travels as the app would send it; httpx's own encoder cannot encode one.
    raw = json.dumps({"query": PUSH_DOCUMENT, "variables": variables}, ensure_ascii=True)
    response = await client.post("/graphql", content=raw, headers={**who.headers, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def pull(client: httpx.AsyncClient, who: Citizen, checkpoint: str | None = None, *, limit: int | None = None,
               max_bytes: int | None = None, schema_version: int = 3) -> dict[str, Any]:
    body = await gql(client, PULL_DOCUMENT, {"checkpoint": checkpoint, "schemaVersion": schema_version,
                                             "limit": limit, "maxBytes": max_bytes}, who=who)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"][PULL_FIELD]
    return page


async def pull_all(client: httpx.AsyncClient, who: Citizen, checkpoint: str | None = None,
                   **kwargs: Any) -> tuple[dict[tuple[str, str], dict[str, Any]], str]:
    """Every change after `checkpoint`, keyed by (type, id), latest wins; and the final checkpoint."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for _ in range(500):
        page = await pull(client, who, checkpoint, **kwargs)
        for change in page["changes"]:
            seen[(change["type"], change["id"])] = change
        checkpoint = page["checkpoint"]
        if not page["hasMore"]:
            assert checkpoint is not None
            return seen, checkpoint
    raise AssertionError("pull never caught up")


def new_client(tmp_path: Path, server: str, who: Citizen, name: str = "device", **kwargs: Any) -> OfflineClient:
    return OfflineClient(tmp_path / f"{name}-{uuid.uuid4().hex[:6]}.db", base_url=server, token=who.token, **kwargs)


async def server_view(tmp_path: Path, server: str, who: Citizen) -> dict[tuple[str, str], tuple[int, Any]]:
    """The server's truth for `who`, as a brand-new device downloads it."""
    fresh = new_client(tmp_path, server, who, "truth")
    try:
        await fresh.sync()
        return fresh.store.live()
    finally:
        fresh.close()


async def citizen_row(db: Database, who: Citizen) -> CitizenRow:
    async with db.read() as session:
        row = (await session.execute(select(CitizenRow).where(CitizenRow.id_number == who.id_number))).scalars().one()
    return row


async def advance(db: Database, code: str, target: DossierStatus, *, external_id: str | None = None) -> None:
    """An agency moves a dossier (through core's state machine, as the events endpoint does)."""
    async with db.write() as session:
        dossier = (await session.execute(select(Dossier).where(Dossier.code == code).with_for_update())).scalars().one()
        await change_status(session, dossier=dossier, target=target, source="agency",
                            occurred_at=utc_now() + timedelta(seconds=1), external_id=external_id)


async def submitted_dossier(client: httpx.AsyncClient, who: Citizen) -> str:
    body = await gql(client, """mutation($f: JSON!) { submitDossier(input: {procedureCode: "1.001193", formData: $f})
      { dossier { code } errors { code field } } }""", {"f": BIRTH_FORM}, who=who)
    assert body["data"]["submitDossier"]["errors"] == [], body
    return str(body["data"]["submitDossier"]["dossier"]["code"])


Backup = dict[str, list[dict[str, Any]]]


async def backup(db: Database) -> Backup:
    """A copy of every table the server owns, read in one transaction: what a backup would hold."""
    async with db.read() as session:
        return {table.name: [dict(row) for row in (await session.execute(table.select())).mappings()]
                for table in SQLModel.metadata.sorted_tables}


async def restore(db: Database, copy: Backup) -> None:
    """Put the database back to `copy`, every table in one transaction, under the running server (the same
    on SQLite and PostgreSQL; sequences stay ahead, as after restoring a dump taken while the server ran)."""
    tables = SQLModel.metadata.sorted_tables
    async with db.write() as session:
        for table in reversed(tables):
            await session.execute(delete(table))
        for table in tables:
            rows = sorted(copy[table.name], key=lambda r: tuple((0, v, "") if isinstance(v, int) else (1, 0, str(v))
                                                               for v in (r[c.name] for c in table.primary_key)))
            if rows:
                await session.execute(insert(table), rows)
