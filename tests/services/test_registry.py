"""Discovery through entry points, SUPERAPP_SERVICES, broken plug-ins left out, conflicts stop start-up."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint

import httpx
import pytest
import strawberry

from api.app import create_app
from core.settings import Settings
from services.registry import GROUP, ServiceConflict, ServicePlugin, ServiceRegistry, load_registry
from tests.support import citizen, gql


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


async def test_a_broken_plugin_is_left_out_logged_and_reported(settings: Settings, db, caplog):
    entries = [*BUILT_INS, _entry("broken", "no_such_module_anywhere:Service")]
    with caplog.at_level(logging.ERROR, logger="superapp.services"):
        registry = load_registry(settings, entries=entries,
                                 overrides={"traffic_fines": {"timeout": -1}})  # invalid settings
    assert sorted(registry.plugins) == ["residence"]
    assert "service broken failed to load and is left out: ModuleNotFoundError" in caplog.text
    assert "service traffic_fines failed to load and is left out: ValidationError" in caplog.text
    app = create_app(settings, registry=registry)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as http:
        ready = (await http.get("/readyz")).json()
        listed = await gql(http, "{ services { code name state } }", headers={"Accept-Language": "en"})
        schema_has_fines = await gql(http, "{ me { trafficFines { plate } } }", who=citizen(settings),
                                     expect_status=200)
    assert ready["status"] == "degraded"
    assert ready["services"] == {"broken": "failed", "residence": "ready", "traffic_fines": "failed"}
    assert listed["data"]["services"] == [
        {"code": "broken", "name": "broken", "state": "FAILED"},
        {"code": "residence", "name": "Residence and population data", "state": "READY"},
        {"code": "traffic_fines", "name": "traffic_fines", "state": "FAILED"}]
    assert schema_has_fines["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


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


def test_two_services_defining_the_same_field_stop_start_up(settings: Settings):
    registry = load_registry(settings)
    plugins = [*registry.plugins.values(), _Clashing(None)]
    with pytest.raises(ServiceConflict, match=r"field Me\.populationRecord is defined by both service "
                                              r"'residence' and service 'clashing'"):
        create_app(settings, registry=ServiceRegistry(plugins, []))


def test_two_services_defining_the_same_type_stop_start_up(settings: Settings):
    registry = load_registry(settings)
    plugins = [*registry.plugins.values(), _TypeClash(None)]
    with pytest.raises(ServiceConflict, match=r"type HealthInsuranceCard is defined by both service "
                                              r"'social_insurance' and service 'type_clash'"):
        create_app(settings, registry=ServiceRegistry(plugins, []))


def test_two_services_forwarding_the_same_procedure_stop_start_up(settings: Settings):
    class _Rival(ServicePlugin):
        code = "rival"
        name_vi = name_en = "Rival"
        procedure_codes = ("1.004194",)
        calls_agency = False

    entries = [*BUILT_INS, _entry("rival", f"{__name__}:_Rival")]
    globals()["_Rival"] = _Rival
    with pytest.raises(ServiceConflict, match="procedure 1.004194 is forwarded by both services"):
        load_registry(settings, entries=entries)


async def test_the_example_plugin_package_answers_through_the_schema(client, settings: Settings):
    who = citizen(settings)
    body = await gql(client, "{ me { libraryCard { number branch } } }", who=who)
    assert body["data"]["me"]["libraryCard"] == {"number": f"TV-{who.id_number[-6:]}", "branch": "Thư viện Hà Nội"}
    catalogue = await gql(client, '{ procedure(code: "EX.000001") { name { en } } }')
    assert catalogue["data"]["procedure"] == {"name": {"en": "Library card (example)"}}
