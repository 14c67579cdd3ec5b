"""A plug-in's tiles are checked at load: one bad tile makes the service FAILED with a reason naming the tile
and the problem; the others serve. The built-in services' and the core's own tiles pass the same checks."""

from __future__ import annotations

import dataclasses
import sys
from importlib.metadata import EntryPoint
from typing import Any, ClassVar

import pytest
import strawberry

from core.settings import Settings
from services.directory import core_tiles
from services.registry import GROUP, HelpPage, ScreenKind, ServicePlugin, ServiceState, Tile, load_registry
from services.tile_checks import CATALOGUE_PROCEDURES, tile_problems

GOOD = Tile("museum.ticket", "Vé bảo tàng", "Museum ticket", "account_balance", "culture", ScreenKind.FORM,
            "MU.000001", provinces=("001",), min_age=6, max_age=80)


@strawberry.type
class MeMuseum:
    museum_visits: int | None = None


class _Museum(ServicePlugin):
    code = "museum"
    name_vi = name_en = "Museum"
    calls_agency = False
    procedures = ({"code": "MU.000001", "agency": "000.00.00.G12", "name_vi": "Vé", "name_en": "Ticket",
                   "online_level": "full", "processing_days": 1, "fee_vnd": 0, "form_schema": {}},)
    procedure_codes = ("MU.000001",)
    me_fields = MeMuseum
    not_personal = frozenset({"museumVisits"})
    tiles: ClassVar[tuple[Tile, ...]] = (
        GOOD, Tile("museum.hours", "Giờ mở cửa", "Opening hours", "info", "culture", ScreenKind.HELP_PAGE, "hours"))
    help_pages = (HelpPage(id="hours", title_vi="Giờ mở cửa", title_en="Opening hours",
                           markdown_vi="Mở cửa **8:00-17:00**.", markdown_en="Open **8:00-17:00**."),)


def _with(**changes: Any) -> type[ServicePlugin]:
    bad = dataclasses.replace(GOOD, **changes)
    return type("_BadMuseum", (_Museum,), {"tiles": (bad,), "__module__": __name__})


CASES: dict[str, tuple[dict[str, Any], str]] = {
    "unknown icon": ({"icon": "rocket"}, "icon 'rocket' is not in the app's icon set"),
    "unknown category": ({"category": "sports"}, "category 'sports' is not a directory category"),
    "unknown province": ({"provinces": ("001", "999")}, "provinces ['999'] are not province codes"),
    "empty title": ({"title_vi": "  "}, "title_vi is empty"),
    "oversized title": ({"title_en": "x" * 61}, "title_en is longer than 60 characters"),
    "ages upside down": ({"min_age": 60, "max_age": 18}, "min_age 60 is above max_age 18"),
    "negative age": ({"min_age": -1}, "min_age must be a whole number of years"),
    "id without the service code": ({"id": "library.ticket"}, "its id must start with the service code 'museum.'"),
    "malformed id": ({"id": "Museum Ticket"}, "its id must be '<service code>.<name>'"),
    "form of no procedure": ({"target": "9.999999"}, "FORM target '9.999999' is not a procedure"),
    "record list of no Me field": ({"screen": ScreenKind.RECORD_LIST, "target": "tickets"},
                                   "RECORD_LIST target 'tickets' is not a field the service adds to Me"),
    "empty help page": ({"screen": ScreenKind.HELP_PAGE, "target": ""}, "its target must be a non-empty text"),
    "bad flag name": ({"flag": "New Flag!"}, "its flag must be a name"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_plugin_with_a_bad_tile_is_failed_with_the_reason(settings: Settings, case: str, monkeypatch) -> None:
    changes, reason = CASES[case]
    monkeypatch.setattr(sys.modules[__name__], "_BadMuseum", _with(**changes), raising=False)
    fines = EntryPoint("traffic_fines", "services.traffic_fines:TrafficFinesService", GROUP)
    registry = load_registry(settings, entries=[EntryPoint("museum", f"{__name__}:_BadMuseum", GROUP), fines])
    assert "museum" not in registry.plugins
    assert "traffic_fines" in registry.plugins
    status = next(s for s in registry.report() if s.code == "museum")
    assert status.state is ServiceState.FAILED
    assert status.reason is not None
    assert f"tile '{changes.get('id', GOOD.id)}'" in status.reason
    assert reason in status.reason, status.reason


def test_good_tiles_load(settings: Settings) -> None:
    registry = load_registry(settings, entries=[EntryPoint("museum", f"{__name__}:_Museum", GROUP)])
    assert list(registry.plugins) == ["museum"], registry.failures


class _Twice(_Museum):
    tiles = (GOOD, GOOD)


class _Core(_Museum):
    code = "core"
    tiles = (dataclasses.replace(GOOD, id="core.ticket"),)


def test_a_tile_id_declared_twice_or_the_core_prefix_is_refused(settings: Settings) -> None:
    registry = load_registry(settings, entries=[EntryPoint("museum", f"{__name__}:_Twice", GROUP),
                                                EntryPoint("core", f"{__name__}:_Core", GROUP)])
    assert registry.plugins == {}
    assert "declares this id twice" in registry.failures["museum"].error
    assert "the tile prefix 'core' is reserved" in registry.failures["core"].error


def test_built_in_and_core_tiles_pass_the_checks(settings: Settings) -> None:
    registry = load_registry(settings)
    assert registry.failures == {}
    assert all(type(p).tiles for p in registry.plugins.values()), "every installed service declares tiles"
    for tile in core_tiles(owned=[c for p in registry.plugins.values() for c in p.procedure_codes]):
        assert tile_problems(tile, code="core", procedures=CATALOGUE_PROCEDURES, me_fields=()) == [], tile.id
