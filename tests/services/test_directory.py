"""The directory's rules as plain functions: where a flagged tile shows, what a failed service shows, ages on
birthdays, and cursors that name no tile."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import DomainError, ErrorCode
from core.feature_flags import FlagRule
from core.pagination import PageRequest
from core.settings import Settings
from services import directory
from services.directory import Caller, Shown, effective_provinces
from services.registry import ScreenKind, Tile, load_registry

FLAGGED = Tile("svc.new", "Mới", "New", "info", "other", ScreenKind.HELP_PAGE, "about", flag="pilot")
HANOI_ONLY = Tile("svc.hanoi", "Hà Nội", "Hanoi", "info", "other", ScreenKind.HELP_PAGE, "about",
                  provinces=("001",), flag="pilot")


@pytest.mark.parametrize(("tile", "provinces", "expected"), [
    (FLAGGED, {"079", "001"}, ("001", "079")),  # a nationwide tile shows where the flag is on
    (FLAGGED, {"*"}, ()),  # on everywhere: everywhere
    (HANOI_ONLY, {"*"}, ("001",)),  # the tile's own restriction still holds
    (HANOI_ONLY, {"001", "079"}, ("001",)),
    (HANOI_ONLY, {"079"}, None),  # on only where the tile does not apply: nowhere
    (FLAGGED, set(), None),  # a flag turned off in every province
])
def test_a_flagged_tile_shows_where_its_flag_and_its_provinces_meet(tile: Tile, provinces: set[str],
                                                                    expected: tuple[str, ...] | None) -> None:
    rules = {"pilot": FlagRule("pilot", frozenset(provinces))}
    assert effective_provinces(tile, rules, Caller()) == expected
    assert effective_provinces(tile, {}, Caller()) is None  # a flag nobody set is off


def test_ages_count_whole_years_on_the_birthday() -> None:
    assert directory.age_on(date(2010, 12, 6), date(2026, 12, 5)) == 15
    assert directory.age_on(date(2010, 12, 6), date(2026, 12, 6)) == 16
    assert directory.age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert directory.age_on(None, date(2026, 1, 1)) is None


def test_a_failed_service_shows_no_tiles(settings: Settings) -> None:
    registry = load_registry(settings)
    registry.refuse("social_insurance", "test: taken out", keeps_fields=True)
    ids = [tile.id for tile in directory.all_tiles(registry)]
    assert "social_insurance.card" not in ids
    assert "social_insurance.child_card" not in ids
    assert "civil_status.birth" in ids
    assert "core.1.001612" not in ids  # its procedure gets no core tile either: the service still owns it


def test_a_cursor_naming_no_tile_starts_after_its_key() -> None:
    shown = [Shown(FLAGGED, ()), Shown(HANOI_ONLY, ("001",))]
    page = directory.page_of(shown, PageRequest(first=5, after=[8, 100, "svc.m"]))  # between the two ids
    assert [s.tile.id for s in page.items] == ["svc.new"]
    with pytest.raises(DomainError) as refused:
        directory.page_of(shown, PageRequest(first=5, after=[True, 100, "svc.m"]))
    assert refused.value.code is ErrorCode.INVALID_CURSOR
