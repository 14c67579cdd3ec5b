"""`serviceDirectory` over HTTP against the real app: a tile per installed service, province and age
conditions, diacritic-free search, paging, ETag caching, and feature flags rolled out per province and app
version by the `superapp flags` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.clock import local_date, utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
from core.feature_flags import FlagStore
from core.seed import seed
from core.seed_data import PROCEDURES
from core.settings import Settings
from mobile_contract.manifest import OPERATIONS, document_hash, operation_text
from tests.support import Citizen, citizen, error_codes, gql

PROJECT = Path(__file__).resolve().parents[2]
DIRECTORY = """query($province: String, $locale: String, $search: String, $first: Int, $after: String) {
  serviceDirectory(province: $province, locale: $locale, search: $search, first: $first, after: $after) {
    version province locale
    categories { code title titleVi titleEn tileCount }
    tiles { edges { cursor node { id title titleVi titleEn icon category screen target provinces flagged } }
            pageInfo { hasNextPage endCursor } }
  }
}"""
SERVICES = "{ services { code state } }"
INTERCONNECTED = "core.lt.ks-tt-bhyt"  # rolled out by flag `interconnected_birth`
ANDROID = {"apollographql-client-name": "dichvucong-android"}


async def _directory(client: httpx.AsyncClient, who: Citizen | None = None, headers: dict[str, str] | None = None,
                     **variables: Any) -> dict[str, Any]:
    body = await gql(client, DIRECTORY, {"first": 100, **variables}, who=who, headers=headers)
    assert "errors" not in body, body
    directory: dict[str, Any] = body["data"]["serviceDirectory"]
    return directory


def _ids(directory: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in directory["tiles"]["edges"]]


@pytest.fixture
async def flags(db: Database) -> AsyncIterator[FlagStore]:
    """The operators' flag store on the session database; the flag is off again afterwards."""
    store = FlagStore(db, ttl_seconds=0)
    await store.disable("interconnected_birth")
    yield store
    await store.disable("interconnected_birth")


async def test_every_installed_service_and_core_procedure_has_a_tile(
        client: httpx.AsyncClient, settings: Settings, flags: FlagStore) -> None:
    adult = citizen(settings, birth_date=date(1980, 5, 1))
    services = (await gql(client, SERVICES))["data"]["services"]
    ready = [s["code"] for s in services if s["state"] == "READY"]
    assert {"civil_status", "residence", "social_insurance", "traffic_fines", "public_library"} <= set(ready)
    seen: set[str] = set()
    for province in ("001", "079", "048"):
        seen |= set(_ids(await _directory(client, who=adult, province=province)))
    assert [code for code in ready if not any(i.startswith(f"{code}.") for i in seen)] == []
    built_in_forms = {"1.001193", "1.000894", "1.001022", "1.004194", "1.004206", "1.001612", "1.000045"}
    core = {p["code"].lower() for p in PROCEDURES if p["code"] not in built_in_forms} - {"lt.ks-tt-bhyt"}
    assert {f"core.{code}" for code in core} <= seen
    assert INTERCONNECTED not in seen  # behind a flag that is on nowhere


async def test_record_list_tiles_name_me_fields(client: httpx.AsyncClient, settings: Settings) -> None:
    adult = citizen(settings, birth_date=date(1980, 5, 1))
    directory = await _directory(client, who=adult, province="001")
    tiles = {e["node"]["id"]: e["node"] for e in directory["tiles"]["edges"]}
    assert (tiles["traffic_fines.fines"]["screen"], tiles["traffic_fines.fines"]["target"]) == (
        "RECORD_LIST", "trafficFines")
    assert tiles["social_insurance.card"]["target"] == "healthInsuranceCard"
    assert (tiles["civil_status.birth"]["screen"], tiles["civil_status.birth"]["target"]) == ("FORM", "1.001193")


async def test_the_demo_rolls_the_interconnected_procedure_out_in_hanoi_only(
        client: httpx.AsyncClient, db: Database, calendar: HolidayCalendar, settings: Settings) -> None:
    await FlagStore(db, ttl_seconds=0).disable("interconnected_birth")
    try:
        await seed(db, calendar=calendar, tz_name=settings.timezone)  # as `superapp seed` (and `make run`)
        assert INTERCONNECTED in _ids(await _directory(client, province="001"))
        assert INTERCONNECTED not in _ids(await _directory(client, province="079"))
        await FlagStore(db, ttl_seconds=0).enable("interconnected_birth", ["079"])
        await seed(db, calendar=calendar, tz_name=settings.timezone)  # a re-seed keeps the operator's setting
        assert INTERCONNECTED in _ids(await _directory(client, province="079"))
    finally:
        await FlagStore(db, ttl_seconds=0).disable("interconnected_birth")


async def test_a_province_restricted_tile_is_hidden_elsewhere(client: httpx.AsyncClient) -> None:
    hanoi = await _directory(client, province="001")
    hcmc = await _directory(client, province="079")
    nowhere = await _directory(client)
    licence = next(e["node"] for e in hanoi["tiles"]["edges"] if e["node"]["id"] == "core.1.002809")
    assert licence["provinces"] == ["001"]
    assert "core.1.002809" not in _ids(hcmc)
    assert "core.1.002809" not in _ids(nowhere)
    assert "core.1.004222" in _ids(hcmc)
    assert "core.1.004222" not in _ids(hanoi)
    assert "civil_status.birth" in _ids(hanoi)
    assert "civil_status.birth" in _ids(hcmc)
    assert "civil_status.birth" in _ids(nowhere)
    counts = {c["code"]: c["tileCount"] for c in hanoi["categories"]}
    transport = [e for e in hanoi["tiles"]["edges"] if e["node"]["category"] == "transport"]
    assert counts.get("transport", 0) == len(transport)


async def test_age_conditions_apply_to_the_signed_in_citizen_only(client: httpx.AsyncClient,
                                                                  settings: Settings) -> None:
    anonymous = _ids(await _directory(client, province="001"))
    year = local_date(utc_now(), settings.timezone).year
    child = _ids(await _directory(client, who=citizen(settings, birth_date=date(year - 14, 1, 1)), province="001"))
    teen = _ids(await _directory(client, who=citizen(settings, birth_date=date(year - 17, 1, 1)), province="001"))
    adult = _ids(await _directory(client, who=citizen(settings, birth_date=date(1980, 5, 1)), province="001"))
    assert "traffic_fines.fines" not in anonymous
    assert "civil_status.marriage" not in anonymous
    assert "traffic_fines.fines" not in child
    assert "civil_status.marriage" not in child
    assert "traffic_fines.fines" in teen
    assert "civil_status.marriage" not in teen
    assert "traffic_fines.fines" in adult
    assert "civil_status.marriage" in adult
    # An expired or forged token is served as anonymous: the home screen always opens.
    forged = await _directory(client, headers={"Authorization": "Bearer not-a-token"}, province="001")
    assert _ids(forged) == anonymous


async def test_search_ignores_diacritics_and_locale_picks_the_title(client: httpx.AsyncClient) -> None:
    for search in ("khai sinh", "KHAI SINH", "Khai Sinh", "khai  sinh"):
        found = await _directory(client, province="001", search=search)
        assert "civil_status.birth" in _ids(found), search
        assert "residence.permanent" not in _ids(found)
    english = await _directory(client, province="001", search="health", locale="en")
    node = next(e["node"] for e in english["tiles"]["edges"] if e["node"]["id"] == "social_insurance.card")
    assert (node["title"], english["locale"]) == ("My health-insurance card", "en")
    assert english["categories"] == [{"code": "health", "title": "Health and insurance",
                                      "titleVi": "Y tế và bảo hiểm", "titleEn": "Health and insurance",
                                      "tileCount": len(english["tiles"]["edges"])}]
    assert _ids(await _directory(client, province="001", search="đăng ký tạm trú")) == ["residence.temporary"]
    assert _ids(await _directory(client, province="001", search="no such service")) == []


async def test_pages_cover_the_directory_once_in_order(client: httpx.AsyncClient) -> None:
    whole = _ids(await _directory(client, province="001"))
    paged: list[str] = []
    after = None
    for _ in range(20):
        page = await _directory(client, province="001", first=4, after=after)
        paged += _ids(page)
        if not page["tiles"]["pageInfo"]["hasNextPage"]:
            break
        after = page["tiles"]["pageInfo"]["endCursor"]
    assert paged == whole
    assert len(set(whole)) == len(whole) > 4


@pytest.mark.parametrize(("variables", "code"), [
    ({"province": "999"}, "UNKNOWN_PROVINCE"),
    ({"province": "1"}, "UNKNOWN_PROVINCE"),
    ({"locale": "fr"}, "UNSUPPORTED_LOCALE"),
    ({"search": "x " * 150}, "SEARCH_TOO_LONG"),
    ({"first": 0}, "PAGE_SIZE_TOO_LARGE"),
    ({"first": 10_000}, "PAGE_SIZE_TOO_LARGE"),
    ({"after": "garbage"}, "INVALID_CURSOR"),
    ({"after": "YzE6WyJ0aWxlIiwiYSIsMiwiYyJd"}, "INVALID_CURSOR"),  # c1:["tile","a",2,"c"]: wrong types
])
async def test_bad_arguments_are_typed_errors(client: httpx.AsyncClient, variables: dict[str, Any],
                                              code: str) -> None:
    body = await gql(client, DIRECTORY, variables)
    assert error_codes(body) == [code]
    assert body["data"] == {"serviceDirectory": None}


async def test_a_public_persisted_get_is_cacheable_and_changes_with_a_flag(
        client: httpx.AsyncClient, flags: FlagStore) -> None:
    document = operation_text(OPERATIONS / "ServiceDirectory.graphql")
    params = {"documentId": f"sha256:{document_hash(document)}",
              "variables": json.dumps({"province": "079", "first": 50})}
    first = await client.get("/graphql", params=params)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public")
    assert "apollographql-client-version" in first.headers["vary"]
    again = await client.get("/graphql", params=params, headers={"if-none-match": etag})
    assert (again.status_code, again.content) == (304, b"")
    await flags.enable("interconnected_birth", ["079"])
    changed = await client.get("/graphql", params=params, headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert INTERCONNECTED in [e["node"]["id"] for e in
                              changed.json()["data"]["serviceDirectory"]["tiles"]["edges"]]


def _flags_command(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    env.update(SUPERAPP_DATA_DIR=str(settings.data_dir), SUPERAPP_DATABASE_URL=settings.database_url,
               SUPERAPP_LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "api.cli", "flags", *args], env=env, cwd=PROJECT,
                          capture_output=True, text=True, timeout=120, check=False)


async def test_a_flag_rolled_out_to_one_province_then_from_an_app_version(
        client: httpx.AsyncClient, settings: Settings, flags: FlagStore) -> None:
    before = await _directory(client, province="079")
    assert INTERCONNECTED not in _ids(before)
    enabled = _flags_command(settings, "enable", "interconnected_birth", "--provinces", "079")
    assert enabled.returncode == 0, enabled.stderr
    assert enabled.stdout.strip() == "interconnected_birth is on in 079"
    hcmc = await _directory(client, province="079")
    tile = next(e["node"] for e in hcmc["tiles"]["edges"] if e["node"]["id"] == INTERCONNECTED)
    assert (tile["flagged"], tile["provinces"], tile["screen"], tile["target"]) == (
        True, ["079"], "FORM", "LT.KS-TT-BHYT")
    assert hcmc["version"] != before["version"]
    assert INTERCONNECTED not in _ids(await _directory(client, province="001"))
    listed = _flags_command(settings, "list")
    assert "interconnected_birth: provinces 079; any app; tiles core.lt.ks-tt-bhyt" in listed.stdout
    # From app version 2.4.0 on Android only: older apps, other platforms and unknown apps do not see it.
    await flags.enable("interconnected_birth", ["079"], min_version="2.4.0", platform="android")
    for version, shown in (("2.3.9", False), ("2.4.0", True), ("10.0.0", True)):
        headers = {**ANDROID, "apollographql-client-version": version}
        assert (INTERCONNECTED in _ids(await _directory(client, headers=headers, province="079"))) is shown
    ios = {"apollographql-client-name": "dichvucong-ios", "apollographql-client-version": "3.0.0"}
    assert INTERCONNECTED not in _ids(await _directory(client, headers=ios, province="079"))
    assert INTERCONNECTED not in _ids(await _directory(client, province="079"))
    disabled = _flags_command(settings, "disable", "interconnected_birth")
    assert disabled.returncode == 0, disabled.stderr
    headers = {**ANDROID, "apollographql-client-version": "2.4.0"}
    assert INTERCONNECTED not in _ids(await _directory(client, headers=headers, province="079"))


def test_the_flags_command_refuses_bad_input(settings: Settings) -> None:
    bad = _flags_command(settings, "enable", "interconnected_birth", "--provinces", "079,999")
    assert (bad.returncode, bad.stderr.strip()) == (2, "not province codes: 999 (three digits, e.g. 001, 079)")
    version = _flags_command(settings, "enable", "x", "--provinces", "*", "--min-version", "two")
    assert version.returncode == 2
    assert "not a version" in version.stderr
    missing = _flags_command(settings, "disable", "never-made")
    assert (missing.returncode, missing.stderr.strip()) == (1, "no flag 'never-made'")
