"""The server restored from an earlier copy of its database under a live device (issue 9, item 3).

The backup is every table copied in one transaction, and the restore puts them back in one transaction while
the server keeps running: what an operator does with a dump, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from core.db import Database
from core.settings import Settings
from tests.support import citizen
from tests.sync.helpers import BIRTH, backup, mutation, new_client, pull, push, restore, server_view


async def test_a_device_converges_and_resends_what_the_restore_lost(
        settings: Settings, server: str, tmp_path: Path, db: Database) -> None:
    who = citizen(settings)
    device = new_client(tmp_path, server, who)
    try:
        kept = device.create_draft(BIRTH, {"child_name": "Trước"})
        await device.sync()  # seq 1
        copy = await backup(db)
        device.edit_draft(kept, {"child_name": "Sau"})  # seq 2, acknowledged, then lost in the restore
        lost = device.create_draft(BIRTH, {"child_name": "Mất"})  # seq 3, idem
        await device.sync()
        assert device.store.stored("draft", kept)["fields"] == {"child_name": "Sau"}  # type: ignore[index]
        await restore(db, copy)
        device.edit_draft(kept, {"mother_name": "Hoa"})  # seq 4, queued after the restore
        report = await device.sync()
        assert report.resets == ["CHECKPOINT_AHEAD"]
        assert report.answers.get("OUT_OF_ORDER") == 1  # once: the server said where to continue
        assert device.store.pending() == []
        truth = await server_view(tmp_path, server, who)
        assert device.store.live() == truth  # converged: no record newer than the server's survives
        drafts = {k[1]: v[1] for k, v in truth.items() if k[0] == "draft"}
        assert drafts[kept]["fields"] == {"child_name": "Sau", "mother_name": "Hoa"}
        assert drafts[lost]["fields"] == {"child_name": "Mất"}
        assert sorted(o["seq"] for o in device.store.outcomes()) == [1, 2, 3, 4]
    finally:
        device.close()


async def test_after_a_restore_the_replacement_copy_wins_whatever_its_version(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    """The protocol as an independent client sees it: CHECKPOINT_AHEAD, a lower version, expectedSeq."""
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    await push(client, who, device, [mutation(1, "draft.create", draft, {"procedureCode": BIRTH, "fields": {}})])
    first = await pull(client, who)
    copy = await backup(db)
    edits = [mutation(seq, "draft.update", draft, {"fields": {"child_name": f"v{seq}"}}, base=seq - 1)
             for seq in (2, 3, 4)]
    await push(client, who, device, edits)
    ahead = await pull(client, who, first["checkpoint"])
    assert [(c["id"], c["version"]) for c in ahead["changes"] if c["type"] == "draft"] == [(draft, 4)]
    await restore(db, copy)
    page = await pull(client, who, ahead["checkpoint"])
    assert page["reset"] == "CHECKPOINT_AHEAD"
    assert [(c["id"], c["version"], c["data"]["fields"]) for c in page["changes"] if c["type"] == "draft"] == [
        (draft, 1, {})]  # older than the device's version 4: the device must take it all the same
    late = mutation(5, "draft.update", draft, {"fields": {"child_name": "sau khôi phục"}}, base=4)
    body = (await push(client, who, device, [late]))["data"]["syncPush"]
    assert [(r["status"], r["expectedSeq"]) for r in body["results"]] == [("OUT_OF_ORDER", 2)]
    assert body["lastAppliedSeq"] == 1
    resent = [{**m, "seq": seq} for seq, m in enumerate([*edits, late], start=2)]  # same ids, from expectedSeq
    body = (await push(client, who, device, resent))["data"]["syncPush"]
    assert [(r["status"], r["conflicts"]) for r in body["results"]] == [("APPLIED", [])] * 4
    assert body["results"][-1]["record"]["fields"] == {"child_name": "sau khôi phục"}
