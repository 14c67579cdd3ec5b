"""A plug-in declares its own agency: checked at load, merged at start-up like its procedures; a declaration
that cannot be registered makes the service FAILED with the reason, never READY with procedures nobody can
file. The example plug-in files a dossier with its own agency and it reaches the plug-in's sandbox."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.settings import Settings
from services.registry import GROUP, ServicePlugin, ServiceState, load_registry
from tests.support import SUBMIT, citizen, gql, serve, until_received

LAND_AGENCY = {"code": "000.00.00.G15", "name_vi": "Cục Đăng ký đất đai", "name_en": "Land Registration Department",
               "level": "central"}


def _procedure(code: str, agency: str) -> dict[str, Any]:
    return {"code": code, "agency": agency, "name_vi": f"Thủ tục {code}", "name_en": f"Procedure {code}",
            "online_level": "full", "processing_days": 5,
            "form_schema": {"type": "object", "properties": {}, "additionalProperties": True}}


def _plugin(code: str, **attributes: Any) -> EntryPoint:
    """A plug-in class registered under `code`, reachable as an entry point of this module."""
    plugin = type(f"_Plugin_{code}", (ServicePlugin,), {"code": code, "name_vi": code, "name_en": code,
                                                          "calls_agency": False, **attributes})
    globals()[plugin.__name__] = plugin
    return EntryPoint(name=code, value=f"{__name__}:{plugin.__name__}", group=GROUP)


async def test_the_example_plugin_files_a_dossier_with_its_own_agency_and_its_sandbox_receives_it(
        client: httpx.AsyncClient, settings: Settings, sandboxes):
    listed = await gql(client, "{ services { code state reason } }")
    assert {"code": "public_library", "state": "READY", "reason": None} in listed["data"]["services"]
    procedure = await gql(client, '{ procedure(code: "EX.000001") { agency { code name { vi en } } } }',
                          headers={"Accept-Language": "en"})
    assert procedure["data"]["procedure"]["agency"] == {
        "code": "000.00.31.H26", "name": {"vi": "Thư viện Hà Nội", "en": "Hanoi Library"}}
    body = await gql(client, SUBMIT, {"p": "EX.000001", "f": {}}, who=citizen(settings))
    assert body["data"]["submitDossier"]["errors"] == [], body
    code = body["data"]["submitDossier"]["dossier"]["code"]
    assert code.startswith("000.00.31.H26-")
    await until_received(sandboxes["public_library"], code)


@pytest.mark.parametrize(("agency", "reason"), [
    ({**LAND_AGENCY, "code": "000.00.00.g15"}, "agency code '000.00.00.g15' is not shaped"),
    ({**LAND_AGENCY, "code": "G15"}, "agency code 'G15' is not shaped"),
    ({**LAND_AGENCY, "name_vi": "  "}, "agency name_vi must be 1-255 printable characters"),
    ({**LAND_AGENCY, "name_en": "x" * 256}, "agency name_en must be 1-255 printable characters"),
    ({**LAND_AGENCY, "name_en": "Land\x00"}, "agency name_en must be 1-255 printable characters"),
    ({**LAND_AGENCY, "level": "galactic"}, "agency level 'galactic' is not one of central, province"),
    ({k: v for k, v in LAND_AGENCY.items() if k != "level"}, "agency level None is not one of"),
])
def test_a_malformed_agency_declaration_fails_the_service_at_load(settings: Settings, agency: dict[str, Any],
                                                                  reason: str):
    registry = load_registry(settings, entries=[_plugin("land_registry", agency=agency)])
    [row] = registry.report()
    assert row.state is ServiceState.FAILED
    assert str(row.reason).startswith(f"ValueError: {reason}"), row.reason


def test_an_agency_code_other_than_the_declared_agency_is_refused(settings: Settings):
    registry = load_registry(settings, entries=[_plugin("land_registry", agency=LAND_AGENCY,
                                                        agency_code="000.00.00.G12")])
    [row] = registry.report()
    assert row.state is ServiceState.FAILED
    assert row.reason == "ValueError: agency_code '000.00.00.G12' is not the declared agency's code '000.00.00.G15'"


async def test_agencies_that_cannot_be_registered_fail_their_service_over_http(settings: Settings, db):
    entries = [
        _plugin("land_registry", agency=LAND_AGENCY, procedures=(_procedure("EX.150001", "000.00.00.G15"),)),
        # Another service taking the land registry's code under other names.
        _plugin("land_rival", agency={**LAND_AGENCY, "name_en": "Somebody else"},
                procedures=(_procedure("EX.150002", "000.00.00.G15"),)),
        # The national catalogue's Ministry of Justice under other names.
        _plugin("impostor", agency={**LAND_AGENCY, "code": "000.00.00.G12", "name_en": "Not the ministry"}),
        # A procedure naming an agency nobody registered (the case).
        _plugin("orphan", procedures=(_procedure("EX.150003", "000.00.00.G77"),)),
        # Same code and names as the land registry's own: two services of one agency are fine.
        _plugin("land_survey", agency=LAND_AGENCY),
    ]
    app = create_app(settings, registry=load_registry(settings, entries=entries))
    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            ready = (await http.get("/readyz")).json()
            listed = await gql(http, "{ services { code state reason } }")
            land = await gql(http, '{ procedure(code: "EX.150001") { agency { name { en } } } }',
                             headers={"Accept-Language": "en"})
            rival = await gql(http, '{ procedure(code: "EX.150002") { code } }')
            filed = await gql(http, SUBMIT, {"p": "EX.150003", "f": {}}, who=citizen(settings))
    failures = {
        "land_rival": "agency 000.00.00.G15 is already registered by service 'land_registry' with other names",
        "impostor": "agency 000.00.00.G12 is already registered by the national catalogue with other names",
        "orphan": "procedure EX.150003 names unknown agency 000.00.00.G77 (declare it as the service's agency)"}
    assert ready["status"] == "degraded"
    assert ready["failures"] == failures
    assert ready["services"] == {"impostor": "failed", "land_registry": "ready", "land_survey": "ready",
                                 "land_rival": "failed", "orphan": "failed"}
    assert {row["code"]: row["reason"] for row in listed["data"]["services"] if row["state"] == "FAILED"} == failures
    assert land["data"]["procedure"] == {"agency": {"name": {"en": "Land Registration Department"}}}
    assert rival["data"]["procedure"] is None
    assert filed["data"]["submitDossier"]["errors"][0]["code"] == "PROCEDURE_NOT_AVAILABLE"
