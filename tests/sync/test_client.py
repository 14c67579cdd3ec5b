"""The reference client against the real server, over a real lossy TCP link: nothing lost, nothing twice."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest

from core.clock import utc_now
from core.db import Database
from core.settings import Settings
from sync.client import AuthExpired, OfflineClient, SyncInterrupted
from sync.lossy_link import Fault, LossyLink
from sync.maintenance import purge
from tests.support import citizen
from tests.sync.helpers import BIRTH, BIRTH_FORM, new_client, server_view


async def _sync_until_done(device: OfflineClient, attempts: int = 60) -> int:
    """Retry like the app does when the signal comes and goes; returns how many attempts failed."""
    failures = 0
    for _ in range(attempts):
        try:
            await device.sync()
            return failures
        except SyncInterrupted:
            failures += 1
    raise AssertionError("never converged")


async def _link(server: str, **kwargs: object) -> tuple[LossyLink, str]:
    parsed = urlparse(server)
    assert parsed.hostname
    assert parsed.port
    link = LossyLink(parsed.hostname, parsed.port, **kwargs)  # type: ignore[arg-type]
    return link, await link.start()


def _drafts(view: dict[tuple[str, str], tuple[int, object]]) -> dict[str, object]:
    return {k[1]: v[1] for k, v in view.items() if k[0] == "draft"}


@pytest.mark.parametrize("seed", range(4))
async def test_cuts_at_random_byte_offsets_converge_with_every_effect_once(
        settings: Settings, server: str, tmp_path: Path, seed: int) -> None:
    who = citizen(settings)
    link, url = await _link(server, seed=seed)
    rng = random.Random(seed)
    # Cut the first few connections in both directions at random offsets (inside headers, JSON or gzip).
    link.plan = [Fault(rng.choice(["up", "down"]), rng.randrange(0, 3000)) for _ in range(5)]
    device = new_client(tmp_path, url, who, max_bytes=2048, limit=5)
    try:
        ids = [device.create_draft(BIRTH, {"child_name": f"Bé {i}"}) for i in range(4)]
        device.edit_draft(ids[0], {"mother_name": "Phạm Hoa"})
        device.delete_draft(ids[3])
        await _sync_until_done(device)
        assert device.store.pending() == []
        truth = await server_view(tmp_path, server, who)
        assert device.store.live() == truth
        drafts = _drafts(truth)
        assert sorted(drafts) == sorted(ids[:3])
        assert drafts[ids[0]]["fields"] == {"child_name": "Bé 0", "mother_name": "Phạm Hoa"}  # type: ignore[index]
        assert all(d["history"] == [] for d in drafts.values())  # type: ignore[index]
        assert sorted(o["seq"] for o in device.store.outcomes()) == [1, 2, 3, 4, 5, 6]
    finally:
        device.close()
        await link.stop()


async def test_a_lost_acknowledgement_is_answered_duplicate_with_the_original_result(
        settings: Settings, server: str, tmp_path: Path) -> None:
    who = citizen(settings)
    link, url = await _link(server)
    link.plan = [Fault("down", 40)]  # the push reaches the server and commits; its answer dies in the headers
    device = new_client(tmp_path, url, who)
    try:
        draft = device.create_draft(BIRTH, BIRTH_FORM)
        device.submit_draft(draft)
        with pytest.raises(SyncInterrupted):
            await device.sync()
        assert len(device.store.pending()) == 2  # still queued: the device never heard back
        await device.sync()
        assert [(o["status"], o["answer"]["originalStatus"]) for o in device.store.outcomes()] == [
            ("DUPLICATE", "APPLIED"), ("DUPLICATE", "APPLIED")]
        truth = await server_view(tmp_path, server, who)
        assert device.store.live() == truth
        assert len([k for k in truth if k[0] == "dossier"]) == 1  # submitted exactly once
    finally:
        device.close()
        await link.stop()


def _jumping_clock(skew: timedelta) -> Callable[[], datetime]:
    """A device clock that is off by `skew` and jumps back and forth by hours while offline."""
    ticks = iter(range(1000))
    return lambda: datetime(2026, 1, 1, tzinfo=UTC) + skew + timedelta(hours=next(ticks) * 7 % 50 - 25)


async def test_device_clock_skew_changes_no_outcome(settings: Settings, server: str, tmp_path: Path) -> None:
    outcomes = []
    for skew in (timedelta(0), timedelta(days=1), timedelta(days=-1)):
        who = citizen(settings)
        a = new_client(tmp_path, server, who, "a", clock=_jumping_clock(skew))
        b = new_client(tmp_path, server, who, "b")
        try:
            draft = a.create_draft(BIRTH, {"child_name": "A"})
            await a.sync()
            await b.sync()
            a.edit_draft(draft, {"child_name": "A2"})
            b.edit_draft(draft, {"child_name": "B2"})
            await b.sync()
            await a.sync()
            await b.sync()
            record = b.store.stored("draft", draft)
            assert record is not None
            outcomes.append((record["fields"], [(h["field"], h["value"]) for h in record["history"]],
                             [o["status"] for o in a.store.outcomes()]))
        finally:
            a.close()
            b.close()
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert outcomes[0][0] == {"child_name": "A2"}  # a's push reached the server last: it wins
    assert outcomes[0][1] == [("child_name", "B2")]  # b's value is kept in history, and b sees it


async def test_two_devices_merge_different_fields(settings: Settings, server: str, tmp_path: Path) -> None:
    who = citizen(settings)
    a, b = new_client(tmp_path, server, who, "a"), new_client(tmp_path, server, who, "b")
    try:
        draft = a.create_draft(BIRTH, {"child_name": "An"})
        await a.sync()
        await b.sync()
        a.edit_draft(draft, {"mother_name": "Hoa"})
        b.edit_draft(draft, {"place_of_birth": "Huế"})
        await a.sync()
        await b.sync()
        await a.sync()
        assert [o["status"] for o in b.store.outcomes()] == ["MERGED"]
        expected = {"child_name": "An", "mother_name": "Hoa", "place_of_birth": "Huế"}
        for device in (a, b):
            assert device.draft(draft)["fields"] == expected  # type: ignore[index]
        assert a.store.live() == b.store.live() == await server_view(tmp_path, server, who)
    finally:
        a.close()
        b.close()


async def test_submit_on_one_device_locks_the_draft_for_the_other(
        settings: Settings, server: str, tmp_path: Path) -> None:
    who = citizen(settings)
    a, b = new_client(tmp_path, server, who, "a"), new_client(tmp_path, server, who, "b")
    try:
        draft = a.create_draft(BIRTH, BIRTH_FORM)
        await a.sync()
        await b.sync()
        a.submit_draft(draft)
        b.edit_draft(draft, {"father_name": "Nguyễn Ba"})
        await a.sync()
        await b.sync()
        [answer] = [o["answer"] for o in b.store.outcomes()]
        assert (answer["status"], answer["error"]["code"]) == ("REJECTED", "DRAFT_LOCKED")
        assert answer["record"]["status"] == "submitted"  # the server record, so the app can copy the edit
        assert b.store.stored("draft", draft)["status"] == "submitted"  # type: ignore[index]
        assert b.store.live() == await server_view(tmp_path, server, who)
    finally:
        a.close()
        b.close()


async def test_delete_wins_over_an_edit_which_stays_recoverable(
        settings: Settings, server: str, tmp_path: Path) -> None:
    who = citizen(settings)
    a, b = new_client(tmp_path, server, who, "a"), new_client(tmp_path, server, who, "b")
    try:
        draft = a.create_draft(BIRTH, {"child_name": "An"})
        await a.sync()
        await b.sync()
        a.delete_draft(draft)
        b.edit_draft(draft, {"child_name": "Bình"})
        await a.sync()
        await b.sync()
        [answer] = [o["answer"] for o in b.store.outcomes()]
        assert (answer["status"], answer["error"]["code"]) == ("CONFLICT", "DRAFT_DELETED")
        assert b.store.stored("draft", draft) is None
        assert a.store.stored("draft", draft) is None
        b.enqueue("draft.restore", draft)
        await b.sync()
        await a.sync()
        restored = a.store.stored("draft", draft)
        assert restored is not None
        assert restored["status"] == "open"
        assert ("child_name", "Bình", "after_delete") in [(h["field"], h["value"], h["reason"])
                                                          for h in restored["history"]]
    finally:
        a.close()
        b.close()


async def test_offline_past_tombstone_retention_resets_without_resurrecting_or_losing_drafts(
        settings: Settings, server: str, tmp_path: Path, db: Database) -> None:
    who = citizen(settings)
    a, b = new_client(tmp_path, server, who, "a"), new_client(tmp_path, server, who, "b")
    try:
        gone, kept = a.create_draft(BIRTH, {"child_name": "Xoá"}), a.create_draft(BIRTH, {"child_name": "Giữ"})
        await a.sync()
        await b.sync()
        a.delete_draft(gone)
        await a.sync()
        unpushed = b.create_draft(BIRTH, {"child_name": "Offline"})  # b is offline for a year
        async with db.write() as session:
            await purge(session, now=utc_now() + timedelta(days=400), retention_days=180)
        report = await b.sync()
        assert report.resets == ["CHECKPOINT_EXPIRED"]
        assert b.store.stored("draft", gone) is None  # not resurrected
        assert b.store.stored("draft", kept) is not None
        assert b.store.stored("draft", unpushed) is not None  # the queue survived the reset and was pushed
        assert b.store.live() == await server_view(tmp_path, server, who)
    finally:
        a.close()
        b.close()


async def test_an_expired_token_never_empties_the_queue(settings: Settings, server: str, tmp_path: Path) -> None:
    who = citizen(settings)
    device = new_client(tmp_path, server, who)
    try:
        draft = device.create_draft(BIRTH, {"child_name": "An"})
        device.token = "expired.token.value"
        with pytest.raises(AuthExpired):
            await device.sync()
        assert [m["recordId"] for m in device.store.pending()] == [draft]
        device.token = who.token  # signed in again
        await device.sync()
        assert device.store.pending() == []
        assert device.store.stored("draft", draft) is not None
    finally:
        device.close()


async def test_the_app_killed_while_applying_a_page_keeps_the_old_state(
        settings: Settings, server: str, tmp_path: Path) -> None:
    who = citizen(settings)
    path = tmp_path / "killed.db"
    device = OfflineClient(path, base_url=server, token=who.token, limit=3)

    def killed() -> None:
        raise KeyboardInterrupt("app killed")

    device.before_page_commit = killed
    with pytest.raises(KeyboardInterrupt):
        await device.sync()
    device.close()
    reopened = OfflineClient(path, base_url=server, token=who.token, limit=3)
    try:
        assert reopened.checkpoint is None
        assert reopened.store.live() == {}
        await reopened.sync()
        assert reopened.store.live() == await server_view(tmp_path, server, who)
    finally:
        reopened.close()


async def test_an_older_app_gets_projected_records_and_its_old_mutations_upcast(
        settings: Settings, server: str, tmp_path: Path) -> None:
    who = citizen(settings)
    old = new_client(tmp_path, server, who, "v2", schema_version=2)
    oldest = new_client(tmp_path, server, who, "v1", schema_version=1)
    try:
        draft = old.enqueue("draft.create", "6f0f9a52-8a0c-4a8e-9d61-3f2f1f1f1f1f",
                            {"procedureCode": BIRTH, "data": {"child_name": "Cũ"}})
        assert draft == 1
        await old.sync()
        record = old.store.stored("draft", "6f0f9a52-8a0c-4a8e-9d61-3f2f1f1f1f1f")
        assert record is not None
        assert record["data"] == {"child_name": "Cũ"}
        assert "fields" not in record
        await oldest.sync()
        assert not [k for k in oldest.store.live() if k[0] == "document"]
    finally:
        old.close()
        oldest.close()
