"""Discovery through entry points, SUPERAPP_SERVICES; a broken plug-in is left out, an unconfigured one keeps its
fields (AGENCY_UNAVAILABLE), a clashing one is refused while the others serve; the served schema is the contract."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from cryptography.hazmat.primitives import serialization

from api.app import create_app
from api.auth import load_dev_private_key
from core.citizens import citizen_profile
from core.errors import ErrorCode
from core.models import Citizen as CitizenRow
from core.settings import Environment, Settings
from mobile_contract.compatibility import check
from mobile_contract.snapshot import RELEASED, SNAPSHOT, sdl
from services.registry import (
    BUILT_IN_SERVICES,
    GROUP,
    ServicePlugin,
    ServiceRegistry,
    ServiceState,
    load_registry,
)
from services.residence import ResidenceService
from tests.support import TEST_SIGNING_KEYS, RunningSandbox, agency_overrides, citizen, gql, serve


def _entry(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=GROUP)


BUILT_INS = [_entry("residence", "services.residence:ResidenceService"),
             _entry("traffic_fines", "services.traffic_fines:TrafficFinesService")]


def test_installed_services_are_discovered_through_the_entry_point_group(settings: Settings):
    registry = load_registry(settings)
    assert sorted(registry.plugins) == ["civil_status", "public_library", "residence", "social_insurance",
                                        "traffic_fines"]
    assert registry.routes()["1.001612"] == "social_insurance"


def test_superapp_services_chooses_which_are_enabled(settings: Settings):
    chosen = settings.updated(agencies={"services": "residence, public_library"})
    assert sorted(load_registry(chosen).plugins) == ["public_library", "residence"]


async def test_a_broken_plugin_is_left_out_and_an_unconfigured_one_answers_agency_unavailable(
        settings: Settings, db, caplog):
    entries = [*BUILT_INS, _entry("broken", "no_such_module_anywhere:Service")]
    with caplog.at_level(logging.ERROR, logger="superapp.services"):
        registry = load_registry(settings, entries=entries,
                                 overrides={"traffic_fines": {"timeout": -1}})  # invalid settings
    assert sorted(registry.plugins) == ["residence"]
    assert "service broken failed to load and is left out: ModuleNotFoundError" in caplog.text
    assert ("service traffic_fines is not configured; its fields answer AGENCY_UNAVAILABLE: invalid settings: "
            "SUPERAPP_AGENCY_TRAFFIC_FINES_TIMEOUT: Input should be greater than 0") in caplog.text
    app = create_app(settings, registry=registry)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as http:
        ready = (await http.get("/readyz")).json()
        listed = await gql(http, "{ services { code name state reason } }", headers={"Accept-Language": "en"})
        fines = await gql(http, "{ me { trafficFines { plate } } }", who=citizen(settings))
    assert ready["status"] == "degraded"
    assert ready["services"] == {"broken": "failed", "residence": "ready", "traffic_fines": "failed"}
    assert ready["failures"] == {
        "broken": "ModuleNotFoundError: No module named 'no_such_module_anywhere'",
        "traffic_fines": "invalid settings: SUPERAPP_AGENCY_TRAFFIC_FINES_TIMEOUT: Input should be greater than 0"}
    assert listed["data"]["services"] == [
        {"code": "broken", "name": "broken", "state": "FAILED", "reason": ready["failures"]["broken"]},
        {"code": "residence", "name": "Residence and population data", "state": "READY", "reason": None},
        {"code": "traffic_fines", "name": "Traffic fines lookup", "state": "FAILED",
         "reason": ready["failures"]["traffic_fines"]}]
    # The field stays in the schema (no validation error) and answers a typed, per-field error.
    assert fines["data"] == {"me": {"trafficFines": None}}
    [error] = fines["errors"]
    assert error["path"] == ["me", "trafficFines"]
    assert {k: error["extensions"][k] for k in ("code", "service", "reason")} == {
        "code": "AGENCY_UNAVAILABLE", "service": "traffic_fines", "reason": "NOT_CONFIGURED"}


def _production(settings: Settings, tmp_path: Path) -> Settings:
    """Production mode with only the built-in services enabled (the contract's), dev tokens accepted."""
    public_pem = tmp_path / "eid-public.pem"
    public_pem.write_bytes(load_dev_private_key(settings.dev_key_path).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return Settings(env=Environment.PRODUCTION, data_dir=settings.data_dir, database_url=settings.database_url,
                    auth={"eid_public_key_file": public_pem, "eid_accept_dev_key": True},
                    signing={"keys": TEST_SIGNING_KEYS},
                    graphql={"persisted_only": False},
                    agencies={"services": ",".join(BUILT_IN_SERVICES), "forward_poll_seconds": 0.2})


async def test_production_with_one_agency_unconfigured_serves_the_released_schema(
        settings: Settings, db, sandboxes: dict[str, RunningSandbox], tmp_path: Path):
    """Residence has no settings at all; the others point at their loopback sandboxes over http, which
    production refuses too (https only, issue 11): each is FAILED with why, and the schema stays whole."""
    production = _production(settings, tmp_path)
    configured = {code: o for code, o in agency_overrides(sandboxes).items() if code != "residence"}
    app = create_app(production, agencies=configured)  # residence: no SUPERAPP_AGENCY_RESIDENCE_* at all
    served = sdl(app.state.schema)
    assert served == SNAPSHOT.read_text(encoding="utf-8")
    assert check(RELEASED.read_text(encoding="utf-8"), served).breaking == []
    who = citizen(settings)
    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            body = await gql(http, "{ me { idNumber populationRecord { fullName } healthInsuranceCard { number } } }",
                             who=who)
            ready = (await http.get("/readyz")).json()
    assert body["data"]["me"] == {"idNumber": who.id_number, "populationRecord": None, "healthInsuranceCard": None}
    errors = {tuple(e["path"]): e["extensions"] for e in body["errors"]}
    for path, service in ((("me", "populationRecord"), "residence"), (("me", "healthInsuranceCard"),
                                                                      "social_insurance")):
        assert {k: errors[path][k] for k in ("code", "service", "reason")} == {
            "code": "AGENCY_UNAVAILABLE", "service": service, "reason": "NOT_CONFIGURED"}
    assert ready["services"]["residence"] == "failed"
    assert ready["failures"]["residence"] == "ValueError: SUPERAPP_AGENCY_RESIDENCE_BASE_URL is not set"
    assert ready["failures"]["social_insurance"] == (
        "InsecureAgencyUrl: SUPERAPP_AGENCY_SOCIAL_INSURANCE_BASE_URL must be https in production "
        "(got http://127.0.0.1...)")


def _schema_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    return subprocess.run([sys.executable, "-m", "api.cli", "schema", "check"], capture_output=True, text=True,
                          check=False, env={**clean, **env}, timeout=120)


def test_schema_check_checks_the_served_schema_and_fails_loudly(tmp_path: Path):
    production = {"SUPERAPP_ENV": "production", "SUPERAPP_DATA_DIR": str(tmp_path),
                  "SUPERAPP_EID_JWKS_FILE": str(tmp_path / "jwks.json"), "SUPERAPP_SIGNING_KEYS": TEST_SIGNING_KEYS}
    for code in ("civil_status", "social_insurance", "traffic_fines"):  # residence is not configured
        production[f"SUPERAPP_AGENCY_{code.upper()}_BASE_URL"] = "https://agency.example.vn"
        production[f"SUPERAPP_AGENCY_{code.upper()}_SECRET"] = "s3cret"
    unconfigured = _schema_check(production)
    assert unconfigured.returncode == 0, unconfigured.stdout + unconfigured.stderr
    disabled = _schema_check({**production, "SUPERAPP_SERVICES": "civil_status,social_insurance,traffic_fines"})
    assert disabled.returncode == 1
    assert "FIELD_REMOVED: Field Me.populationRecord was removed." in disabled.stdout
    assert "SCHEMA CHECK FAILED: the schema this server would serve breaks the released contract" in disabled.stderr


@strawberry.type
class _MeClash:
    @strawberry.field
    def population_record(self) -> str:
        return "clash"


class _Clashing(ServicePlugin):
    code = "clashing"
    name_vi = name_en = "Clashing"
    me_fields = _MeClash
    calls_agency = False


@strawberry.type(name="HealthInsuranceCard")
class _CardClash:
    number: str


class _TypeClash(ServicePlugin):
    code = "type_clash"
    name_vi = name_en = "Type clash"
    types = (_CardClash,)
    calls_agency = False


@strawberry.type(name="Dossier")
class _CoreClash:
    code: str


@strawberry.type
class _MeCoreClash:
    @strawberry.field
    def other_dossier(self) -> _CoreClash:
        return _CoreClash(code="x")


class _CoreTypeClash(ServicePlugin):
    code = "core_clash"
    name_vi = name_en = "Core type clash"
    me_fields = _MeCoreClash
    types = (_CoreClash,)
    calls_agency = False


async def _serving(settings: Settings, registry: ServiceRegistry) -> tuple[dict[str, Any], dict[str, Any]]:
    app = create_app(settings, registry=registry)
    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            ready = (await http.get("/readyz")).json()
            body = await gql(http, "{ services { code state reason } me { populationRecord { fullName } "
                                   "healthInsuranceCard { number } libraryCard { number } } }",
                             who=citizen(settings))
    return ready, body


@pytest.mark.parametrize(("plugin", "reason"), [
    (_Clashing, "field Me.populationRecord is already defined by service 'residence'; rename it"),
    (_TypeClash, "type HealthInsuranceCard is already defined by service 'social_insurance'; rename it"),
    (_CoreTypeClash, "its types do not compose with the schema: "),
])
async def test_a_clashing_plugin_is_refused_and_the_others_serve(
        settings: Settings, db, sandboxes: dict[str, RunningSandbox], plugin: type[ServicePlugin], reason: str):
    registry = load_registry(settings, overrides=agency_overrides(sandboxes))
    registry = ServiceRegistry([*registry.plugins.values(), plugin(None)], [])
    ready, body = await _serving(settings, registry)
    assert ready["services"][plugin.code] == "failed"
    assert ready["failures"][plugin.code].startswith(reason)
    assert {code for code, state in ready["services"].items() if state != "ready"} == {plugin.code}
    assert {"code": plugin.code, "state": "FAILED", "reason": ready["failures"][plugin.code]} in \
        body["data"]["services"]
    assert "errors" not in body, body["errors"]
    me = body["data"]["me"]
    assert me["populationRecord"]["fullName"]
    assert me["healthInsuranceCard"]["number"]
    assert me["libraryCard"]["number"]


def test_two_services_forwarding_the_same_procedure_refuse_the_later_one(settings: Settings):
    class _Rival(ServicePlugin):
        code = "rival"
        name_vi = name_en = "Rival"
        procedure_codes = ("1.004194",)
        calls_agency = False

    entries = [*BUILT_INS, _entry("rival", f"{__name__}:_Rival")]
    globals()["_Rival"] = _Rival
    registry = load_registry(settings, entries=entries)
    assert sorted(registry.plugins) == ["residence", "traffic_fines"]
    assert registry.routes()["1.004194"] == "residence"
    [row] = [row for row in registry.report() if row.code == "rival"]
    assert (row.state, row.reason) == (ServiceState.FAILED, "procedure 1.004194 is already forwarded by service "
                                                            "'residence'")


async def test_the_example_plugin_package_answers_through_the_schema(client, settings: Settings):
    who = citizen(settings)
    body = await gql(client, "{ me { libraryCard { number branch } } }", who=who)
    assert body["data"]["me"]["libraryCard"] == {"number": f"TV-{who.id_number[-6:]}", "branch": "Thư viện Hà Nội"}
    catalogue = await gql(client, '{ procedure(code: "EX.000001") { name { en } } }')
    assert catalogue["data"]["procedure"] == {"name": {"en": "Library card (example)"}}


class _UnknownProfileField(ServicePlugin):
    code = "shoe_registry"
    name_vi = name_en = "Shoe registry"
    profile_fields = frozenset({"full_name", "shoe_size"})
    calls_agency = False


class _BuggyProfile(ServicePlugin):
    code = "buggy_profile"
    name_vi = name_en = "Buggy profile"
    profile_fields = frozenset({"hometown"})
    calls_agency = False

    async def profile_values(self, citizen: CitizenRow) -> Mapping[str, Any]:
        raise RuntimeError("a bug in third-party code")


def test_a_plugin_vouching_for_an_unknown_profile_field_is_left_out(settings: Settings, caplog):
    entries = [*BUILT_INS, _entry("shoe_registry", f"{__name__}:_UnknownProfileField")]
    with caplog.at_level(logging.ERROR, logger="superapp.services"):
        registry = load_registry(settings, entries=entries)
    assert sorted(registry.plugins) == ["residence", "traffic_fines"]
    assert "profile_fields ['shoe_size'] are not profile fields" in caplog.text
    assert [(s.name, s.fields) for s in registry.profile_sources()] == [("residence", ResidenceService.profile_fields)]


async def test_a_plugin_failing_in_profile_values_is_an_unavailable_agency_not_a_crash(settings: Settings, caplog):
    registry = ServiceRegistry([_BuggyProfile(None)], [])
    citizen_row = CitizenRow(id=1, id_number="001085012345", full_name="Nguyễn Văn An")
    with caplog.at_level(logging.ERROR, logger="superapp.services"):
        profile = await citizen_profile(citizen_row, registry.profile_sources(), wanted={"hometown"})
    assert profile.values["hometown"] is None
    failure = profile.unavailable["hometown"]
    assert (failure.code, failure.params["reason"], failure.params["service"]) == (
        ErrorCode.AGENCY_UNAVAILABLE, "PLUGIN_ERROR", "buggy_profile")
    assert "service buggy_profile failed in profile_values: RuntimeError" in caplog.text
    # A form that does not pre-fill the gap never asks.
    assert (await citizen_profile(citizen_row, registry.profile_sources(), wanted={"phone"})).unavailable == {}
