"""The notification inbox travels with offline sync: status changes arrive as `notification` records, and
inbox entries read offline are marked through `notifications.markRead`, for every device of the citizen."""

from __future__ import annotations

import uuid

import httpx

from core.db import Database
from core.dossier_status import DossierStatus
from core.settings import Settings
from tests.support import citizen
from tests.sync.helpers import advance, mutation, pull, pull_all, push, submitted_dossier


async def test_a_status_change_reaches_the_device_as_an_inbox_record(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    who = citizen(settings)
    code = await submitted_dossier(client, who)
    _, checkpoint = await pull_all(client, who)
    await advance(db, code, DossierStatus.ACCEPTED)
    changes, _ = await pull_all(client, who, checkpoint)
    inbox = [c for (kind, _), c in changes.items() if kind == "notification"]
    assert len(inbox) == 1
    data = inbox[0]["data"]
    assert (data["dossierCode"], data["status"], data["readAt"]) == (code, "ACCEPTED", None)
    assert data["procedureNameVi"] == "Đăng ký khai sinh"
    assert ("dossier", code) in changes


async def test_read_offline_then_pushed_marks_it_read_on_every_device(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    who, other = citizen(settings), citizen(settings)
    code = await submitted_dossier(client, who)
    await advance(db, code, DossierStatus.ACCEPTED)
    changes, checkpoint = await pull_all(client, who)
    [notification_id] = [int(i) for (kind, i) in changes if kind == "notification"]
    others_code = await submitted_dossier(client, other)
    await advance(db, others_code, DossierStatus.ACCEPTED)
    others, _ = await pull_all(client, other)
    [others_id] = [int(i) for (kind, i) in others if kind == "notification"]

    answer = await push(client, who, str(uuid.uuid4()),
                        [mutation(1, "notifications.markRead", None, {"ids": [notification_id, others_id]})],
                        pull_from=checkpoint)
    result = answer["data"]["syncPush"]["results"][0]
    assert (result["status"], result["recordType"]) == ("APPLIED", "notification")
    assert result["record"] == {"ids": [str(notification_id)]}
    page = answer["data"]["syncPush"]["page"]
    read = [c for c in page["changes"] if c["type"] == "notification"]
    assert [(c["id"], c["data"]["readAt"] is not None) for c in read] == [(str(notification_id), True)]

    still_unread, _ = await pull_all(client, other)
    assert still_unread[("notification", str(others_id))]["data"]["readAt"] is None


async def test_old_app_versions_do_not_receive_inbox_records(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    who = citizen(settings)
    code = await submitted_dossier(client, who)
    await advance(db, code, DossierStatus.ACCEPTED)
    current, _ = await pull_all(client, who)
    assert any(kind == "notification" for kind, _ in current)
    page = await pull(client, who, schema_version=2)
    assert page["changes"]
    assert all(c["type"] != "notification" for c in page["changes"])


async def test_mark_read_with_malformed_ids_is_quarantined_not_applied(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who = citizen(settings)
    answer = await push(client, who, str(uuid.uuid4()), [mutation(1, "notifications.markRead", None, {"ids": ["1"]})])
    assert [(r["status"], r["error"]["code"]) for r in answer["data"]["syncPush"]["results"]] == [
        ("REJECTED", "MUTATION_QUARANTINED")]
