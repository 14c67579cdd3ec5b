"""What an SMS says: the agency's own words when the citizen must act (what a supplement asks for), in one
message, without the citizen's identifiers; a refused request, without anything personal in the push."""

from __future__ import annotations

import json

import httpx
from sqlmodel import select

from core.db import Database
from core.models import Citizen as CitizenRow
from notifications.standins import FcmStandin, SmsStandin
from notifications.templates import gsm7_length
from tests.notifications.conftest import DispatcherFactory
from tests.notifications.support import agency_event, drain_until, forwarded_dossier, new_token, register, set_phone
from tests.support import RunningSandbox, citizen, gql

WITHDRAW = """mutation($c: String!) { withdrawDossier(input: {code: $c}) { dossier { status } errors { code } } }"""


async def _texts(gateway: SmsStandin, phone: str) -> list[str]:
    return [m["text"] for m in gateway.received if m["to"] == phone]


async def test_a_supplement_request_sms_says_what_the_agency_asks_for_without_personal_data(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
    sms: tuple[SmsStandin, str], make_dispatcher: DispatcherFactory,
) -> None:
    gateway, phone = sms[0], "0987000444"
    who = citizen(settings, name="Đỗ Thị Bí Mật")
    await register(client, who, new_token())
    await set_phone(db, who, phone)
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    await agency_event(client, code, "accepted")
    await agency_event(client, code, "processing")
    request = (f"Bổ sung bản sao sổ hộ khẩu của bà Đỗ Thị Bí Mật (CCCD {who.id_number}, "
               "ĐT 0987 000 444) trước ngày 05/12")
    await agency_event(client, code, "supplement_requested", note_vi=request)
    await drain_until(make_dispatcher(), lambda: gateway.received and any(m["to"] == phone for m in gateway.received))

    [text] = await _texts(gateway, phone)
    assert text == (f"DVC: Ho so {code} (Dang ky thuong tru): Yeu cau bo sung giay to: Bo sung ban sao so ho "
                    "khau cua ba *** (CCCD ***, DT ***) truoc ngay 05/12.")
    assert (gsm7_length(text) or 999) <= 160

    # A request too long for one SMS is cut with an ellipsis, never spilled into a second message.
    await agency_event(client, code, "processing")
    await agency_event(client, code, "supplement_requested", note_vi="Nộp bản sao chứng thực " * 20)
    await drain_until(make_dispatcher(), lambda: len([m for m in gateway.received if m["to"] == phone]) == 2)
    long = (await _texts(gateway, phone))[1]
    assert long.startswith(f"DVC: Ho so {code}: Yeu cau bo sung giay to: Nop ban sao chung thuc Nop ban sao")
    assert "Dang ky" not in long  # the procedure name goes first
    assert long.endswith("...")
    assert long[:-3].split()[-1] in {"Nop", "ban", "sao", "chung", "thuc"}  # cut between words
    assert (gsm7_length(long) or 999) <= 160


async def test_a_refused_withdrawal_is_pushed_and_texted_with_the_reason_but_the_push_says_nothing_personal(
    settings, client: httpx.AsyncClient, db: Database, sandboxes: dict[str, RunningSandbox],
    fcm: tuple[FcmStandin, str], sms: tuple[SmsStandin, str], make_dispatcher: DispatcherFactory,
) -> None:
    residence = sandboxes["residence"]
    gateway, phone = sms[0], "0987000555"
    who = citizen(settings, name="Phan Văn Kín")
    token = new_token()
    await register(client, who, token)
    await set_phone(db, who, phone)
    code = await forwarded_dossier(client, who, residence)
    async with db.read() as session:
        id_number = (await session.execute(select(CitizenRow.id_number).where(
            CitizenRow.id_number == who.id_number))).scalar_one()
    reason = f"Hồ sơ của ông Phan Văn Kín ({id_number}) đã được duyệt"
    async with httpx.AsyncClient(base_url=residence.url, timeout=5) as http:
        assert (await http.post("/_control/fault", json={"mode": "refuse", "reason": reason})).status_code == 200
    try:
        body = await gql(client, WITHDRAW, {"c": code}, who=who)
        assert body["data"]["withdrawDossier"]["errors"] == []
        await drain_until(make_dispatcher(), lambda: fcm[0].attempts_for(token), seconds=20)
    finally:
        await residence.fault("ok")
    [push] = [r.message for r in fcm[0].attempts_for(token)]
    assert push["notification"] == {"title": f"Hồ sơ {code}: Yêu cầu của bạn không được chấp nhận",
                                    "body": "Đăng ký thường trú"}
    assert push["data"]["status"] == "WITHDRAWAL_REQUESTED"
    wire = json.dumps(push, ensure_ascii=False)
    for secret in (id_number, "Phan Văn Kín", "duyệt"):
        assert secret not in wire
    await drain_until(make_dispatcher(), lambda: any(m["to"] == phone for m in gateway.received))
    assert await _texts(gateway, phone) == [
        f"DVC: Ho so {code}: Co quan khong chap nhan yeu cau rut ho so: Ho so cua ong *** (***) da duoc duyet."]
