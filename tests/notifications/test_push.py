"""A status change from an agency reaches every registered device through firebase-admin and the stand-in."""

from __future__ import annotations

import json

import httpx

from core.db import Database
from notifications.standins import FcmStandin, SmsStandin
from tests.notifications.conftest import DispatcherFactory
from tests.notifications.support import (
    agency_event,
    drain_until,
    forwarded_dossier,
    new_token,
    notifications_of,
    outbox_of,
    register,
    set_phone,
)
from tests.support import RunningSandbox, citizen, gql

INBOX = """query($u: Boolean) { myNotifications(first: 10, unreadOnly: $u) { edges { node { id dossierCode status
  delivery read procedureName { vi } } } } unreadNotificationCount }"""
MARK = "mutation($ids: [ID!]!) { markNotificationsRead(input: {ids: $ids}) { markedIds unreadCount errors { code } } }"
DEVICES = "{ myDevices { platform locale } }"


async def test_agency_status_change_is_pushed_to_every_device_in_its_language(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
    fcm: tuple[FcmStandin, str], make_dispatcher: DispatcherFactory,
) -> None:
    standin = fcm[0]
    who = citizen(settings, name="Nguyễn Bí Mật")
    phone_vi, phone_en = new_token(), new_token()
    assert (await register(client, who, phone_vi, locale="vi"))["errors"] == []
    assert (await register(client, who, phone_en, locale="en", platform="ios"))["errors"] == []
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    await agency_event(client, code, "accepted")
    dispatcher = make_dispatcher()
    await drain_until(dispatcher, lambda: {phone_vi, phone_en} <= {r.token for r in standin.accepted})

    received = {r.token: r.message for r in standin.accepted if r.token in (phone_vi, phone_en)}
    assert received[phone_vi]["notification"] == {"title": f"Hồ sơ {code}: Được tiếp nhận",
                                                  "body": "Đăng ký thường trú"}
    assert received[phone_en]["notification"]["title"] == f"Dossier {code}: Accepted"
    assert received[phone_en]["notification"]["body"] == "Permanent residence registration"
    data = received[phone_vi]["data"]
    assert set(data) == {"kind", "dossierCode", "status", "dedupeKey"}
    assert (data["dossierCode"], data["status"]) == (code, "ACCEPTED")
    assert received[phone_vi]["android"]["collapse_key"] == code
    assert data["dedupeKey"] != received[phone_en]["data"]["dedupeKey"]
    # No personal data: not the ID number, not the name, not the address from the form.
    wire = json.dumps(list(received.values()), ensure_ascii=False)
    for secret in (who.id_number, "Nguyễn", "Bí Mật", "Phúc Xá"):
        assert secret not in wire

    [notification] = await notifications_of(db, who)
    assert notification.delivery == "delivered"
    assert [r.state for r in await outbox_of(db, notification.id or 0)] == ["sent", "sent"]
    inbox = await gql(client, INBOX, {"u": True}, who=who)
    [edge] = inbox["data"]["myNotifications"]["edges"]
    assert edge["node"] | {"id": None} == {"id": None, "dossierCode": code, "status": "ACCEPTED",
                                          "delivery": "DELIVERED", "read": False,
                                          "procedureName": {"vi": "Đăng ký thường trú"}}
    assert inbox["data"]["unreadNotificationCount"] == 1
    marked = await gql(client, MARK, {"ids": [edge["node"]["id"], "999999999"]}, who=who)
    assert marked["data"]["markNotificationsRead"] == {"markedIds": [edge["node"]["id"]], "unreadCount": 0,
                                                       "errors": []}
    assert (await gql(client, INBOX, {"u": True}, who=who))["data"]["myNotifications"]["edges"] == []


async def test_another_citizen_cannot_mark_or_see_my_notifications(
    settings, client: httpx.AsyncClient, sandboxes: dict[str, RunningSandbox],
) -> None:
    owner, other = citizen(settings), citizen(settings)
    code = await forwarded_dossier(client, owner, sandboxes["residence"])
    await agency_event(client, code, "accepted")
    inbox = await gql(client, INBOX, {"u": False}, who=owner)
    [edge] = inbox["data"]["myNotifications"]["edges"]
    marked = await gql(client, MARK, {"ids": [edge["node"]["id"]]}, who=other)
    assert marked["data"]["markNotificationsRead"]["markedIds"] == []
    assert (await gql(client, INBOX, {"u": False}, who=other))["data"]["myNotifications"]["edges"] == []
    assert (await gql(client, INBOX, {"u": True}, who=owner))["data"]["unreadNotificationCount"] == 1


async def test_unregistered_token_is_deleted_and_sms_takes_over(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
    fcm: tuple[FcmStandin, str], sms: tuple[SmsStandin, str], make_dispatcher: DispatcherFactory,
) -> None:
    standin, gateway = fcm[0], sms[0]
    who = citizen(settings)
    token = new_token()
    await register(client, who, token)
    await set_phone(db, who, "0912345678")
    standin.answer(token, "unregistered")
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    await agency_event(client, code, "accepted")
    dispatcher = make_dispatcher()
    await drain_until(dispatcher, lambda: any(m["to"] == "0912345678" for m in gateway.received))

    assert [r.status for r in standin.attempts_for(token)] == [404]
    assert (await gql(client, DEVICES, who=who))["data"]["myDevices"] == []
    [notification] = await notifications_of(db, who)
    rows = await outbox_of(db, notification.id or 0)
    assert [(r.channel, r.state, r.last_error) for r in rows] == [("push", "dropped", "UnregisteredError"),
                                                                   ("sms", "sent", None)]
    [text] = [m for m in gateway.received if m["to"] == "0912345678"]
    assert text["text"] == f"DVC: Ho so {code} (Dang ky thuong tru): Duoc tiep nhan."
    assert text["reference"] == rows[1].dedupe_key
    assert [n.delivery for n in await notifications_of(db, who)] == ["delivered"]


async def test_quota_answer_is_retried_no_sooner_than_retry_after(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
    fcm: tuple[FcmStandin, str], make_dispatcher: DispatcherFactory,
) -> None:
    standin = fcm[0]
    who = citizen(settings)
    token = new_token()
    await register(client, who, token)
    standin.answer(token, "quota", times=1, retry_after=1)
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    await agency_event(client, code, "accepted")
    dispatcher = make_dispatcher()
    await drain_until(dispatcher, lambda: any(r.status == 200 for r in standin.attempts_for(token)))

    first, second = standin.attempts_for(token)
    assert (first.status, second.status) == (429, 200)
    # Our own backoff here is 0.05-0.2 s: only the Retry-After header explains a wait of a second.
    assert second.at - first.at >= 1.0
    assert await devices_kept(client, who) == 1


async def devices_kept(client: httpx.AsyncClient, who) -> int:
    return len((await gql(client, DEVICES, who=who))["data"]["myDevices"])


async def test_server_errors_are_retried_then_given_up_and_shown_failed(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
    fcm: tuple[FcmStandin, str], make_dispatcher: DispatcherFactory,
) -> None:
    standin = fcm[0]
    who = citizen(settings)  # no phone: nothing to fall back to
    token = new_token()
    await register(client, who, token)
    standin.answer(token, "error500")
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    await agency_event(client, code, "accepted")
    dispatcher = make_dispatcher(notify_give_up_seconds=3.0)  # room for two tries on a loaded machine

    async def failed() -> bool:
        return [n.delivery for n in await notifications_of(db, who)] == ["failed"]

    await drain_until(dispatcher, failed)
    attempts = standin.attempts_for(token)
    assert len(attempts) >= 2
    assert {r.status for r in attempts} == {500}
    assert await devices_kept(client, who) == 1  # a server error says nothing about the token
    inbox = await gql(client, INBOX, {"u": False}, who=who)
    assert inbox["data"]["myNotifications"]["edges"][0]["node"]["delivery"] == "FAILED"
    metrics = (await client.get("/metrics")).text
    assert 'superapp_notifications_delivered_total{channel="push",outcome="failed"}' in metrics
