"""syncPull over real HTTP: pages cut by count and gzip size, resets, isolation, compression both ways."""

from __future__ import annotations

import asyncio
import gzip
import json
import secrets
import uuid
import zlib

import httpx
import pytest

from core.clock import utc_now
from core.db import Database
from core.documents import issue_document
from core.settings import Settings
from sync.checkpoint import Checkpoint
from sync.wire import PULL_DOCUMENT, PULL_FIELD
from tests.support import citizen, error_codes
from tests.sync.helpers import BIRTH, citizen_row, mutation, pull, pull_all, push


async def _drafts(client: httpx.AsyncClient, who: object, count: int, size: int = 10) -> None:
    device = str(uuid.uuid4())
    batch = [mutation(i + 1, "draft.create", str(uuid.uuid4()),
                      {"procedureCode": BIRTH, "fields": {"child_name": f"Bé {i} " + secrets.token_hex(16 * size)}})
             for i in range(count)]
    body = await push(client, who, device, batch)  # type: ignore[arg-type]
    assert {r["status"] for r in body["data"]["syncPush"]["results"]} == {"APPLIED"}


async def test_pages_are_cut_by_compressed_size_and_never_split_a_record(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who = citizen(settings)
    await _drafts(client, who, 30, size=40)  # ~1.3 KB of random hex each: barely compressible
    checkpoint, pages, ids = None, 0, []
    while True:
        page = await pull(client, who, checkpoint, max_bytes=4096)
        raw = json.dumps({"data": {PULL_FIELD: page}}, ensure_ascii=False, separators=(",", ":")).encode()
        assert len(page["changes"]) >= 1
        assert len(gzip.compress(raw)) <= 4096 + 1024 or len(page["changes"]) == 1
        ids += [c["id"] for c in page["changes"] if c["type"] == "draft"]
        pages, checkpoint = pages + 1, page["checkpoint"]
        if not page["hasMore"]:
            break
    assert pages >= 5
    assert len(ids) == len(set(ids)) == 30  # every record once, whole


async def test_pages_are_cut_by_count_and_report_progress(settings: Settings, client: httpx.AsyncClient) -> None:
    who = citizen(settings)
    await _drafts(client, who, 7)
    first = await pull(client, who, limit=3)
    assert len(first["changes"]) == 3
    assert first["hasMore"] is True
    assert first["remaining"] >= 4
    second = await pull(client, who, first["checkpoint"], limit=3)
    assert first["remaining"] - second["remaining"] == 3
    assert {c["id"] for c in first["changes"]}.isdisjoint({c["id"] for c in second["changes"]})
    too_big = await _raw_pull(client, who, {"schemaVersion": 3, "limit": 100_000})
    assert error_codes(too_big) == ["PAGE_SIZE_TOO_LARGE"]


async def _raw_pull(client: httpx.AsyncClient, who: object, variables: dict[str, object]) -> dict[str, object]:
    response = await client.post("/graphql", json={"query": PULL_DOCUMENT, "variables": variables},
                                 headers=who.headers)  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()
    return body


async def test_another_citizens_changes_never_appear(settings: Settings, client: httpx.AsyncClient,
                                                     db: Database) -> None:
    mine, theirs = citizen(settings), citizen(settings)
    await _drafts(client, theirs, 3)
    their_row = await citizen_row(db, theirs)
    await _drafts(client, mine, 1)
    # Even a checkpoint lifted from the other citizen's device yields only a reset of one's own data.
    _, their_checkpoint = await pull_all(client, theirs)
    page = await pull(client, mine, their_checkpoint)
    assert page["reset"] == "SCOPE_CHANGED"
    seen, _ = await pull_all(client, mine)
    assert len([k for k in seen if k[0] == "draft"]) == 1
    assert all(c["data"] is None or c["type"] == "procedure" or str(their_row.id) not in json.dumps(c)
               for c in seen.values() if c["type"] != "draft")


@pytest.mark.parametrize(("tamper", "reason"), [
    (lambda cp: "garbage!", "CHECKPOINT_INVALID"),
    (lambda cp: Checkpoint(cp.epoch + 1, cp.schema_version, cp.citizen_id, cp.citizen_seq, cp.public_seq).encode(),
     "EPOCH_CHANGED"),
    (lambda cp: Checkpoint(cp.epoch, 2, cp.citizen_id, cp.citizen_seq, cp.public_seq).encode(), "SCHEMA_CHANGED"),
    (lambda cp: Checkpoint(cp.epoch, cp.schema_version, cp.citizen_id, cp.citizen_seq + 999, cp.public_seq).encode(),
     "CHECKPOINT_AHEAD"),
])
async def test_unusable_checkpoints_answer_a_reset_with_the_first_page(
        settings: Settings, client: httpx.AsyncClient, tamper: object, reason: str) -> None:
    who = citizen(settings)
    await _drafts(client, who, 2)
    _, checkpoint = await pull_all(client, who)
    page = await pull(client, who, tamper(Checkpoint.decode(checkpoint)))  # type: ignore[operator]
    assert page["reset"] == reason
    assert [c for c in page["changes"] if c["type"] == "draft"]  # the replacement sync starts at once


async def test_responses_are_gzipped_and_gzipped_requests_accepted(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who = citizen(settings)
    await _drafts(client, who, 5)
    body = json.dumps({"query": PULL_DOCUMENT, "variables": {"schemaVersion": 3}}).encode()
    response = await client.post("/graphql", content=gzip.compress(body),
                                 headers={**who.headers, "Content-Type": "application/json",
                                          "Content-Encoding": "gzip", "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.num_bytes_downloaded < len(response.content)
    assert len(response.json()["data"][PULL_FIELD]["changes"]) >= 5
    broken = await client.post("/graphql", content=gzip.compress(body)[:-12],
                               headers={**who.headers, "Content-Type": "application/json",
                                        "Content-Encoding": "gzip"})
    assert broken.status_code == 400
    bomb = zlib.compress(b" " * 5_000_000)
    wrapped = gzip.compress(b" " * 5_000_000)
    assert len(bomb) < settings.graphql.max_body_bytes
    too_big = await client.post("/graphql", content=wrapped,
                                headers={**who.headers, "Content-Type": "application/json",
                                         "Content-Encoding": "gzip"})
    assert too_big.status_code == 413


async def test_a_transaction_committing_late_is_never_skipped(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    """T1 takes a seq and stays open; T2 (later) must wait, so no reader can see T2's seq before T1's."""
    who = citizen(settings)
    await _drafts(client, who, 1)
    row = await citizen_row(db, who)
    assert row.id is not None
    _, checkpoint = await pull_all(client, who)
    t1_open, release = asyncio.Event(), asyncio.Event()

    async def slow_writer() -> None:
        async with db.write() as session:
            await issue_document(session, citizen_id=row.id or 0, agency_id=1, kind="card", title_vi="Thẻ 1",
                                 title_en="Card 1", number="T1", issued_at=utc_now())
            t1_open.set()
            await release.wait()

    async def later_writer() -> None:
        await t1_open.wait()
        body = await push(client, who, str(uuid.uuid4()),
                          [mutation(1, "draft.create", str(uuid.uuid4()), {"procedureCode": BIRTH, "fields": {}})])
        assert body["data"]["syncPush"]["results"][0]["status"] == "APPLIED"

    slow = asyncio.create_task(slow_writer())
    later = asyncio.create_task(later_writer())
    await t1_open.wait()
    await asyncio.sleep(0.3)
    during = await pull(client, who, checkpoint)
    assert during["changes"] == []  # neither is visible yet, and the later one cannot have overtaken
    release.set()
    await asyncio.gather(slow, later)
    seen, _ = await pull_all(client, who, checkpoint)
    assert sorted(k[0] for k in seen) == ["document", "draft"]


async def test_sync_changes_fails_alone_so_public_siblings_still_answer(client: httpx.AsyncClient) -> None:
    """Every root field is nullable: without a token only the sync page is null (issue 9, item 20)."""
    body = (await client.post("/graphql", json={"query": "{ procedures(first: 1) { edges { node { code } } } "
                                                          "syncChanges(schemaVersion: 3) { checkpoint } }"})).json()
    assert body["data"]["syncChanges"] is None
    assert len(body["data"]["procedures"]["edges"]) == 1
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["syncChanges"], "UNAUTHENTICATED")]
