"""`homeScreen` over HTTP: the operators' layout taking effect on the next request, the citizen's own items
first, nothing personal for anonymous callers, announcements by province and window, personal text refused.

The layout is one table for the whole database, so the tests that change it restore the seeded one after.
Operators' changes go through the real CLI (`superapp home ...`, `superapp announcements ...`), in a thread.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from api.cli import _parser
from api.home_cli import run
from core.clock import utc_now
from core.db import Database
from core.documents import issue_document
from core.dossier_status import DossierStatus
from core.models import Agency, Announcement
from core.seed_data import HOME_DEFAULT_SERVICES, HOME_SECTION_ORDER
from core.settings import Settings
from tests.api.helpers import citizen_id_of, move, submitted_code
from tests.support import Citizen, citizen, error_codes, gql

HOME = """query($province: String) { homeScreen(province: $province) { personalized province sections {
  kind title { vi en }
  actionNeeded { reason dossier { code status } }
  wallet { documentCount newestDocuments { id title { vi } } }
  frequentServices { personalized procedures { code } }
  announcements { id title { vi en } body { vi en } agency { code } provinces priority startsAt endsAt }
} } }"""


async def cli(settings: Settings, *argv: str) -> tuple[int, list[str], list[str]]:
    """`superapp <argv>` as an operator types it, against the tests' database."""
    out: list[str] = []
    err: list[str] = []
    args = _parser().parse_args(list(argv))
    code = await asyncio.to_thread(run, settings, args, out.append, err.append)
    return code, out, err


async def home(client: httpx.AsyncClient, who: Citizen | None = None, province: str | None = None) -> dict[str, Any]:
    body = await gql(client, HOME, {"province": province}, who=who)
    assert "errors" not in body, body
    layout: dict[str, Any] = body["data"]["homeScreen"]
    return layout


def kinds(layout: dict[str, Any]) -> list[str]:
    return [s["kind"] for s in layout["sections"]]


def section(layout: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(s for s in layout["sections"] if s["kind"] == kind)


@pytest.fixture
async def restored_layout(settings: Settings) -> AsyncIterator[None]:
    yield
    for kind in HOME_SECTION_ORDER:
        assert (await cli(settings, "home", "enable", kind))[0] == 0
    assert (await cli(settings, "home", "order", *HOME_SECTION_ORDER))[0] == 0
    assert (await cli(settings, "home", "defaults", *HOME_DEFAULT_SERVICES))[0] == 0


async def busy_citizen(client: httpx.AsyncClient, settings: Settings, db: Database) -> Citizen:
    """A citizen with a dossier the agency sent back for a supplement and one document in the wallet."""
    who = citizen(settings)
    code = await submitted_code(client, who)
    await move(db, who.id_number, code, DossierStatus.ACCEPTED, DossierStatus.PROCESSING,
               DossierStatus.SUPPLEMENT_REQUESTED)
    citizen_id = await citizen_id_of(db, who.id_number)
    async with db.write() as session:
        agency = (await session.execute(select(Agency))).scalars().first()
        assert agency is not None
        assert agency.id is not None
        await issue_document(session, citizen_id=citizen_id, agency_id=agency.id, kind="birth_certificate",
                             title_vi="Giấy khai sinh", title_en="Birth certificate", number="KS-1",
                             issued_at=utc_now())
    return who


async def add_announcement(settings: Settings, title: str, *extra: str) -> int:
    code, out, err = await cli(settings, "announcements", "add", "--agency", "000.00.00.G09", "--title-vi", title,
                               "--title-en", title, "--body-vi", "Nội dung thông báo", "--body-en", "Notice body",
                               *extra)
    assert code == 0, err
    return int(out[0].split()[1])


async def test_the_citizens_own_items_come_first_whatever_the_configured_order(
        client: httpx.AsyncClient, settings: Settings, db: Database, restored_layout: None) -> None:
    who = await busy_citizen(client, settings, db)
    assert kinds(await home(client, who)) == ["ACTION_NEEDED", "WALLET", "ANNOUNCEMENTS", "FREQUENT_SERVICES"]

    code, out, _ = await cli(settings, "home", "order", "FREQUENT_SERVICES", "ANNOUNCEMENTS", "WALLET",
                             "ACTION_NEEDED")
    assert code == 0
    assert out[-1] == "in effect from the next homeScreen request"

    # Generic sections were put first, but the citizen's own ones still lead, in their configured order.
    layout = await home(client, who)
    assert kinds(layout) == ["WALLET", "ACTION_NEEDED", "FREQUENT_SERVICES", "ANNOUNCEMENTS"]
    action = section(layout, "ACTION_NEEDED")
    assert action["title"] == {"vi": "Hồ sơ cần bạn xử lý", "en": "Dossiers needing your action"}
    assert [i["reason"] for i in action["actionNeeded"]] == ["SUPPLEMENT_REQUESTED"]
    assert [action["wallet"], action["frequentServices"], action["announcements"]] == [None, None, None]
    wallet = section(layout, "WALLET")["wallet"]
    assert wallet["documentCount"] == 1
    assert wallet["newestDocuments"][0]["title"]["vi"] == "Giấy khai sinh"
    frequent = section(layout, "FREQUENT_SERVICES")["frequentServices"]
    assert frequent == {"personalized": True, "procedures": [{"code": "1.001193"}]}


async def test_a_configuration_change_takes_effect_on_the_next_request(
        client: httpx.AsyncClient, settings: Settings, restored_layout: None) -> None:
    assert kinds(await home(client)) == ["ANNOUNCEMENTS", "FREQUENT_SERVICES"]

    assert (await cli(settings, "home", "order", "FREQUENT_SERVICES"))[0] == 0
    assert kinds(await home(client)) == ["FREQUENT_SERVICES", "ANNOUNCEMENTS"]

    assert (await cli(settings, "home", "disable", "announcements"))[0] == 0
    assert kinds(await home(client)) == ["FREQUENT_SERVICES"]

    assert (await cli(settings, "home", "defaults", "1.004222", "2.000986"))[0] == 0
    frequent = section(await home(client), "FREQUENT_SERVICES")["frequentServices"]
    assert frequent == {"personalized": False, "procedures": [{"code": "1.004222"}, {"code": "2.000986"}]}

    assert (await cli(settings, "home", "defaults"))[0] == 0
    assert kinds(await home(client)) == []  # an empty section is left out


async def test_operators_input_is_checked(settings: Settings) -> None:
    code, _, err = await cli(settings, "home", "order", "WALLET", "NEWS")
    assert code == 2
    assert err[0].startswith("BAD_USER_INPUT kind")
    code, _, err = await cli(settings, "home", "defaults", "9.999999")
    assert code == 2
    assert err[0].startswith("PROCEDURE_NOT_AVAILABLE procedureCodes")


async def test_an_anonymous_caller_gets_no_personal_section(
        client: httpx.AsyncClient, settings: Settings, db: Database) -> None:
    await busy_citizen(client, settings, db)  # someone has personal items; they must not leak to anyone else
    layout = await home(client)
    assert layout["personalized"] is False
    assert kinds(layout) == ["ANNOUNCEMENTS", "FREQUENT_SERVICES"]
    for each in layout["sections"]:
        assert each["actionNeeded"] is None
        assert each["wallet"] is None
    assert section(layout, "FREQUENT_SERVICES")["frequentServices"]["personalized"] is False


async def test_a_new_citizen_sees_no_empty_section_and_the_default_services(
        client: httpx.AsyncClient, settings: Settings) -> None:
    layout = await home(client, citizen(settings))
    assert layout["personalized"] is True
    assert kinds(layout) == ["ANNOUNCEMENTS", "FREQUENT_SERVICES"]
    procedures = section(layout, "FREQUENT_SERVICES")["frequentServices"]["procedures"]
    assert [p["code"] for p in procedures] == HOME_DEFAULT_SERVICES


async def test_a_bad_token_is_unauthenticated_not_an_anonymous_layout(client: httpx.AsyncClient) -> None:
    body = await gql(client, HOME, headers={"Authorization": "Bearer not-a-token"})
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_reading_the_own_sections_is_in_the_citizens_access_log(
        client: httpx.AsyncClient, settings: Settings, db: Database) -> None:
    who = await busy_citizen(client, settings, db)
    await home(client, who)
    body = await gql(client, "{ myDataAccessLog(first: 5) { edges { node { operation fields data { en } } } } }",
                     who=who)
    fields = {f for edge in body["data"]["myDataAccessLog"]["edges"] for f in edge["node"]["fields"]}
    assert {"HomeSection.actionNeeded", "HomeSection.wallet", "HomeSection.frequentServices"} <= fields

    fresh = citizen(settings)  # the default services and announcements are nobody's data: no row
    await home(client, fresh)
    body = await gql(client, "{ myDataAccessLog(first: 5) { edges { node { fields } } } }", who=fresh)
    assert [f for e in body["data"]["myDataAccessLog"]["edges"] for f in e["node"]["fields"]
            if f.startswith("HomeSection.")] == []


async def test_announcements_by_province(client: httpx.AsyncClient, settings: Settings) -> None:
    tag = uuid.uuid4().hex[:8]
    await add_announcement(settings, f"Toàn quốc {tag}", "--days", "3", "--priority", "90")
    await add_announcement(settings, f"Thành phố Hồ Chí Minh {tag}", "--days", "3", "--province", "079",
                           "--priority", "80")
    await add_announcement(settings, f"Đà Nẵng và Huế {tag}", "--days", "3", "--province", "048", "--province",
                           "046")

    def mine(layout: dict[str, Any]) -> list[str]:
        shown = section(layout, "ANNOUNCEMENTS")["announcements"]
        return [a["title"]["vi"] for a in shown if a["title"]["vi"].endswith(tag)]

    assert mine(await home(client)) == [f"Toàn quốc {tag}"]
    hcmc = await home(client, province="079")
    assert hcmc["province"] == "079"
    assert mine(hcmc) == [f"Toàn quốc {tag}", f"Thành phố Hồ Chí Minh {tag}"]  # priority order
    assert mine(await home(client, citizen(settings), province="046")) == [f"Toàn quốc {tag}", f"Đà Nẵng và Huế {tag}"]
    shown = section(hcmc, "ANNOUNCEMENTS")["announcements"]
    targeted = next(a for a in shown if a["title"]["vi"].startswith("Thành phố"))
    assert (targeted["provinces"], targeted["agency"]["code"]) == (["079"], "000.00.00.G09")

    for bad in ("999", "79", "0790", "hcm"):
        body = await gql(client, HOME, {"province": bad})
        assert error_codes(body) == ["UNKNOWN_PROVINCE"], bad


async def test_an_announcement_shows_only_inside_its_window(
        client: httpx.AsyncClient, settings: Settings, db: Database) -> None:
    tag = uuid.uuid4().hex[:8]
    now = utc_now()
    running = await add_announcement(settings, f"Đang hiệu lực {tag}", "--days", "1")
    await add_announcement(settings, f"Đã hết hạn {tag}", "--starts", (now - timedelta(days=2)).isoformat(),
                           "--ends", (now - timedelta(seconds=1)).isoformat())
    await add_announcement(settings, f"Sắp tới {tag}", "--starts", (now + timedelta(hours=1)).isoformat(),
                           "--days", "1")
    withdrawn = await add_announcement(settings, f"Đã rút {tag}", "--days", "1")
    assert (await cli(settings, "announcements", "withdraw", str(withdrawn)))[0] == 0
    assert (await cli(settings, "announcements", "withdraw", str(withdrawn)))[0] == 1

    def mine(layout: dict[str, Any]) -> list[str]:
        return [a["title"]["vi"] for a in section(layout, "ANNOUNCEMENTS")["announcements"]
                if a["title"]["vi"].endswith(tag)]

    assert mine(await home(client)) == [f"Đang hiệu lực {tag}"]
    _, out, _ = await cli(settings, "announcements", "list")
    states = {line.split()[0]: line.split()[1] for line in out[1:-1]}
    assert states[str(running)] == "active"
    assert states[str(withdrawn)] == "withdrawn"

    # The running one expires: its end passes (the row's window is moved back, as the clock moving forward
    # would leave it), and the next request no longer shows it.
    async with db.write() as session:
        row = await session.get(Announcement, running)
        assert row is not None
        row.ends_at = utc_now() - timedelta(microseconds=1)
        session.add(row)
    assert mine(await home(client)) == []


@pytest.mark.parametrize(("field", "text", "what"), [
    ("--body-vi", "Liên hệ anh Nam, số định danh 001090123456, để nhận kết quả.", "identification number"),
    ("--body-en", "Citizen 001 090 123 456 must come to the counter.", "identification number"),
    ("--title-en", "Call 0912 345 678 today", "phone number"),
    ("--body-vi", "Gọi +84912345678 để được hỗ trợ.", "phone number"),
])
async def test_personal_text_is_refused(settings: Settings, db: Database, field: str, text: str, what: str) -> None:
    tag = uuid.uuid4().hex[:8]
    values = {"--title-vi": f"Thông báo {tag}", "--title-en": f"Notice {tag}", "--body-vi": "Nội dung",
              "--body-en": "Body", field: text}
    code, _, err = await cli(settings, "announcements", "add", "--agency", "000.00.00.G09", "--days", "1",
                             *[x for pair in values.items() for x in pair])
    assert code == 2
    assert err[0].startswith("ANNOUNCEMENT_PERSONAL_DATA"), err
    assert what in err[0], err
    async with db.read() as session:
        stored = (await session.execute(select(Announcement.id).where(
            col(Announcement.title_vi) == f"Thông báo {tag}"))).first()
    assert stored is None


async def test_announcement_limits_are_checked_before_the_database(settings: Settings) -> None:
    base = ["announcements", "add", "--agency", "000.00.00.G09", "--title-en", "Notice", "--body-vi", "Nội dung",
            "--body-en", "Body"]
    code, _, err = await cli(settings, *base, "--title-vi", "x" * 121, "--days", "1")
    assert code == 2
    assert err[0].startswith("INVALID_LENGTH titleVi")
    code, _, err = await cli(settings, *base, "--title-vi", "Tiêu đề\x00", "--days", "1")
    assert code == 2
    assert err[0].startswith("INVALID_VALUE titleVi")
    code, _, err = await cli(settings, *base, "--title-vi", "Tiêu đề", "--days", "1", "--province", "999")
    assert code == 2
    assert err[0].startswith("UNKNOWN_PROVINCE provinces")
    code, _, err = await cli(settings, *base, "--title-vi", "Tiêu đề", "--days", "1", "--priority", "101")
    assert code == 2
    assert err[0].startswith("OUT_OF_RANGE priority")
    code, _, err = await cli(settings, "announcements", "add", "--agency", "000.00.00.X99", "--title-vi", "Tiêu đề",
                             *base[4:], "--days", "1")
    assert code == 2
    assert err[0].startswith("NOT_FOUND agencyCode")
    code, _, err = await cli(settings, *base, "--title-vi", "Tiêu đề", "--ends", "2026-12-31T00:00:00")
    assert code == 2
    assert "UTC offset" in err[0]
