"""An interconnected filing notifies like one dossier: once per change of the parent the citizen follows,
never for a part's own step (the citizen follows the parent; its parts are detail)."""

from __future__ import annotations

import asyncio

import httpx
from sqlmodel import col, select

from core.db import Database
from core.models import OutboxMessage
from notifications.standins import FcmStandin, SmsStandin
from tests.notifications.conftest import DispatcherFactory
from tests.notifications.support import drain_until, new_token, notifications_of, register, set_phone
from tests.support import SUBMIT, RunningSandbox, citizen, gql, until_received

FORM = {"child_name": "Lê Minh Khang", "child_birth_date": "2026-10-21", "child_sex": "male",
        "place_of_birth": "Bệnh viện Phụ sản Hà Nội", "mother_name": "Lê Thị Hạnh",
        "new_address": "Số 7 ngõ 2 Phúc Xá, Ba Đình, Hà Nội", "clinic": "Bệnh viện Nhi Trung ương"}
PARTS = "query($c: String!) { dossier(code: $c) { parts { code procedure { code } } } }"
OWNERS = {"1.001193": "civil_status", "1.004194": "residence", "1.001612": "social_insurance"}


async def _channels(db: Database, notification_ids: list[int]) -> list[str]:
    async with db.read() as session:
        query = select(OutboxMessage.channel).where(col(OutboxMessage.notification_id).in_(notification_ids))
        return sorted((await session.execute(query.order_by(col(OutboxMessage.id)))).scalars())


async def test_an_interconnected_filing_notifies_once_per_change_of_the_parent(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
    fcm: tuple[FcmStandin, str], sms: tuple[SmsStandin, str], make_dispatcher: DispatcherFactory,
) -> None:
    who = citizen(settings)
    token = new_token()
    await register(client, who, token)
    await set_phone(db, who, "0987000333")
    body = await gql(client, SUBMIT, {"p": "LT.KS-TT-BHYT", "f": FORM}, who=who)
    parent = body["data"]["submitDossier"]["dossier"]["code"]
    parts = {p["procedure"]["code"]: p["code"]
             for p in (await gql(client, PARTS, {"c": parent}, who=who))["data"]["dossier"]["parts"]}
    for procedure, code in parts.items():
        await until_received(sandboxes[OWNERS[procedure]], code)

    # Two parts accepted: the parent still waits for the third, so the citizen hears nothing yet.
    await sandboxes["civil_status"].advance(parts["1.001193"])
    await sandboxes["residence"].advance(parts["1.004194"])
    assert await notifications_of(db, who) == []
    await sandboxes["social_insurance"].advance(parts["1.001612"])
    assert [(n.dossier_code, n.status) for n in await notifications_of(db, who)] == [(parent, "accepted")]

    for procedure, code in parts.items():
        for _ in range(3):
            assert (await sandboxes[OWNERS[procedure]].advance(code))["callback_status"] == 200
    notified = await notifications_of(db, who)
    assert [(n.dossier_code, n.status) for n in notified] == [
        (parent, "accepted"), (parent, "processing"), (parent, "processed"), (parent, "returned")]
    # A push per change, and one SMS: the result is ready (the citizen must come for it).
    assert await _channels(db, [n.id or 0 for n in notified]) == ["push"] * 4 + ["sms"]

    dispatcher = make_dispatcher()
    await drain_until(dispatcher, lambda: len(fcm[0].attempts_for(token)) >= 4
                      and any(m["to"] == "0987000333" for m in sms[0].received))
    pushed = [r.message["data"] for r in fcm[0].attempts_for(token)]
    # One batch goes out concurrently (send_each_async), so the stand-in may receive it in any order.
    assert sorted((d["dossierCode"], d["status"]) for d in pushed) == sorted([
        (parent, "ACCEPTED"), (parent, "PROCESSING"), (parent, "PROCESSED"), (parent, "RETURNED")])
    texts = [m["text"] for m in sms[0].received if m["to"] == "0987000333"]
    assert len(texts) == 1
    assert texts[0].startswith(f"DVC: Ho so {parent} ")


SUPPLEMENT = """mutation($c: String!, $f: JSON!) { supplementDossier(input: {code: $c, formData: $f}) {
  dossier { status } errors { code field } } }"""
EVENTS = "query($c: String!) { dossier(code: $c) { status events { status source } } }"


async def test_a_parent_that_takes_two_steps_at_once_notifies_once(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
) -> None:
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": "LT.KS-TT-BHYT", "f": FORM}, who=who)
    parent = body["data"]["submitDossier"]["dossier"]["code"]
    parts = {p["procedure"]["code"]: p["code"]
             for p in (await gql(client, PARTS, {"c": parent}, who=who))["data"]["dossier"]["parts"]}
    for procedure, code in parts.items():
        await until_received(sandboxes[OWNERS[procedure]], code)
    for _ in range(2):  # accepted, processing
        for procedure, code in parts.items():
            assert (await sandboxes[OWNERS[procedure]].advance(code))["callback_status"] == 200
    civil, birth = sandboxes["civil_status"], parts["1.001193"]
    assert (await civil.advance(birth, status="BO_SUNG"))["callback_status"] == 200
    for procedure in ("1.004194", "1.001612"):  # the other two reach "result ready" meanwhile
        assert (await sandboxes[OWNERS[procedure]].advance(parts[procedure]))["callback_status"] == 200
    answer = await gql(client, SUPPLEMENT, {"c": birth, "f": {"father_name": "Lê Văn Tâm"}}, who=who)
    assert answer["data"]["supplementDossier"]["errors"] == []
    await until_received(civil, birth)
    async with asyncio.timeout(10):
        while not any(a.dossier_code == birth for a in civil.sandbox.actions.values()):
            await asyncio.sleep(0.05)

    # The birth part's result is ready: the parent goes supplement requested -> processing -> processed.
    assert (await civil.advance(birth))["callback_status"] == 200
    events = (await gql(client, EVENTS, {"c": parent}, who=who))["data"]["dossier"]["events"]
    assert [e["status"] for e in events][-3:] == ["SUPPLEMENT_REQUESTED", "PROCESSING", "PROCESSED"]
    assert [(n.dossier_code, n.status) for n in await notifications_of(db, who)] == [
        (parent, "accepted"), (parent, "processing"), (parent, "supplement_requested"), (parent, "processed")]
