"""The service directory: every tile the loaded services and the core declare, and what one caller sees.

Plain functions over plain data, so the GraphQL field, the offline-sync snapshot and the tests share one
answer. What a caller sees depends on:
- the province the app is set to (a tile restricted to other provinces is hidden; without a province, only
  tiles that show everywhere);
- the signed-in citizen's age on today's date (a tile with an age condition is hidden from anonymous callers
  and from citizens whose birth date is unknown);
- feature flags for the caller's app (platform, version): a flagged tile shows only where its flag is on.
Tiles are ordered by category (the display order of `services.tiles.CATEGORIES`), then `order`, then id, and
paged by that key; search folds diacritics like the catalogue's (`core.text.fold`) and needs every word.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.catalogue import search_words
from core.errors import DomainError, ErrorCode
from core.feature_flags import EVERYWHERE, FlagRule, Version
from core.id_numbers import PROVINCE_CODES
from core.pagination import Page, PageRequest
from core.seed_data import AGENCIES, PROCEDURES
from core.text import fold
from services.registry import ServiceRegistry
from services.tile_checks import CORE_PREFIX
from services.tiles import CATEGORIES, ScreenKind, Tile

CURSOR_KIND = "tile"
_CATEGORY_RANK = {code: rank for rank, code in enumerate(CATEGORIES)}


@dataclass(frozen=True)
class CoreTile:
    """How a catalogue procedure that no service owns appears: its icon, category and conditions."""

    icon: str
    category: str
    title_vi: str | None = None  # None: the procedure's own name
    title_en: str | None = None
    provinces: tuple[str, ...] = ()
    flag: str | None = None
    keywords: tuple[str, ...] = ()


# The core's procedures that no built-in service forwards. The interconnected birth procedure is rolled out
# province by province (flag `interconnected_birth`); the two province agencies' procedures show only there.
CORE_TILES: dict[str, CoreTile] = {
    "LT.KS-TT-BHYT": CoreTile("family_restroom", "civil_status", "Liên thông khai sinh, thường trú, BHYT",
                              "Birth, residence and health card in one", flag="interconnected_birth",
                              keywords=("lien thong", "tre em", "newborn")),
    "1.004222": CoreTile("gavel", "other", provinces=("079",), keywords=("ly lich", "criminal")),
    "2.000986": CoreTile("badge", "other", keywords=("passport", "xuat canh")),
    "1.002809": CoreTile("directions_car", "transport", provinces=("001",), keywords=("bang lai", "licence")),
    "1.003583": CoreTile("verified", "civil_status", keywords=("sao y", "copy")),
    "1.010729": CoreTile("description", "civil_status", keywords=("trich luc", "extract")),
}
_AGENCY_NAMES = {a["code"]: a["name_vi"] for a in AGENCIES}


def core_tile_id(procedure_code: str) -> str:
    return f"{CORE_PREFIX}.{procedure_code.lower()}"


def core_tiles(owned: Iterable[str]) -> list[Tile]:
    """A FORM tile for each procedure of the national catalogue that no service forwards (`owned`); one
    missing from `CORE_TILES` gets the generic icon and category."""
    taken = set(owned)
    tiles = []
    for rank, procedure in enumerate(PROCEDURES):
        code = str(procedure["code"])
        if code in taken:
            continue
        look = CORE_TILES.get(code) or CoreTile("description", "other")
        tiles.append(Tile(id=core_tile_id(code), title_vi=look.title_vi or str(procedure["name_vi"])[:60],
                          title_en=look.title_en or str(procedure["name_en"])[:60], icon=look.icon,
                          category=look.category, screen=ScreenKind.FORM, target=code, provinces=look.provinces,
                          flag=look.flag, keywords=(*look.keywords, code, fold(_AGENCY_NAMES.get(
                              str(procedure["agency"]), ""))), order=500 + rank))
    return tiles


def all_tiles(registry: ServiceRegistry) -> list[Tile]:
    """Every tile: the loaded services' (a FAILED service shows none) and the core's, in directory order."""
    owned = [code for plugin in registry.contributions() for code in plugin.procedure_codes]
    tiles = [tile for plugin in registry.plugins.values() for tile in type(plugin).tiles]
    return sorted([*tiles, *core_tiles(owned)], key=sort_key)


def sort_key(tile: Tile) -> tuple[int, int, str]:
    return (_CATEGORY_RANK.get(tile.category, len(_CATEGORY_RANK)), tile.order, tile.id)


@dataclass(frozen=True)
class Caller:
    """Who asks: `province` the app is set to (None: unknown), age (None: anonymous or unknown), the app."""

    province: str | None = None
    age: int | None = None
    platform: str | None = None
    version: Version | None = None


def age_on(birth_date: date | None, today: date) -> int | None:
    if birth_date is None:
        return None
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def check_province(province: str | None) -> str | None:
    if province is None:
        return None
    if province not in PROVINCE_CODES:
        raise DomainError(ErrorCode.UNKNOWN_PROVINCE, field="province")
    return province


@dataclass(frozen=True)
class Shown:
    """A tile as this caller gets it: `provinces` is where it shows for this caller's app (empty: everywhere,
    flags applied), `flagged` whether a feature flag decided that."""

    tile: Tile
    provinces: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return self.tile.flag is not None


def _ages_fit(tile: Tile, age: int | None) -> bool:
    if tile.min_age is None and tile.max_age is None:
        return True
    if age is None:
        return False
    return (tile.min_age is None or age >= tile.min_age) and (tile.max_age is None or age <= tile.max_age)


def effective_provinces(tile: Tile, rules: Mapping[str, FlagRule], caller: Caller) -> tuple[str, ...] | None:
    """Where the tile shows for the caller's app (empty: everywhere); None: nowhere."""
    if tile.flag is None:
        return tile.provinces
    rule = rules.get(tile.flag)
    on = rule.provinces_for(caller.platform, caller.version) if rule is not None else None
    if on is None:
        return None
    if EVERYWHERE in on:
        return tile.provinces
    places = tuple(p for p in tile.provinces if p in on) if tile.provinces else tuple(sorted(on))
    return places or None


def visible(tiles: Sequence[Tile], rules: Mapping[str, FlagRule], caller: Caller, *,
            any_province: bool = False) -> list[Shown]:
    """The tiles this caller sees, in directory order. `any_province`: keep province-restricted tiles (with
    where they show) instead of filtering by `caller.province`; the offline snapshot does, so the app can
    switch province without a signal."""
    shown = []
    for tile in tiles:
        if not _ages_fit(tile, caller.age):
            continue
        places = effective_provinces(tile, rules, caller)
        if places is None:
            continue
        if not any_province and places and caller.province not in places:
            continue
        shown.append(Shown(tile, places))
    return shown


def matching(shown: Sequence[Shown], search: str | None) -> list[Shown]:
    """Tiles holding every folded word of `search` in their titles, keywords, id or target (SEARCH_TOO_LONG
    beyond the catalogue's limits)."""
    words = search_words(search)
    if not words:
        return list(shown)
    return [s for s in shown if all(word in _search_text(s.tile) for word in words)]


def _search_text(tile: Tile) -> str:
    return fold(" ".join((tile.id, tile.target, tile.title_vi, tile.title_en, *tile.keywords)))


@dataclass(frozen=True)
class CategoryCount:
    code: str
    title_vi: str
    title_en: str
    tiles: int


def categories(shown: Sequence[Shown]) -> list[CategoryCount]:
    """The categories that hold at least one of the tiles, in display order, with how many."""
    counts: dict[str, int] = {}
    for s in shown:
        counts[s.tile.category] = counts.get(s.tile.category, 0) + 1
    return [CategoryCount(code, *CATEGORIES[code], counts[code]) for code in CATEGORIES if code in counts]


def page_of(shown: Sequence[Shown], page: PageRequest) -> Page[Shown]:
    """Keyset page by (category rank, order, id): a tile added between two pages never shifts the next one."""
    after: tuple[int, int, str] | None = None
    if page.after:
        rank, order, tile_id = page.after
        if not (isinstance(rank, int) and isinstance(order, int) and isinstance(tile_id, str)) \
                or isinstance(rank, bool) or isinstance(order, bool):
            raise DomainError(ErrorCode.INVALID_CURSOR, field="after")
        after = (rank, order, tile_id)
    rest = [s for s in shown if after is None or sort_key(s.tile) > after]
    items = rest[:page.first]
    return Page(items=items, keys=[list(sort_key(s.tile)) for s in items], has_next=len(rest) > page.first)


def tile_record(shown: Shown) -> dict[str, Any]:
    """A tile as the offline snapshot carries it (camelCase, like the sync records)."""
    tile = shown.tile
    return {"id": tile.id, "titleVi": tile.title_vi, "titleEn": tile.title_en, "icon": tile.icon,
            "category": tile.category, "screen": tile.screen.name, "target": tile.target,
            "provinces": list(shown.provinces), "flagged": shown.flagged, "minAge": tile.min_age,
            "maxAge": tile.max_age}


def version_of(content: Any) -> str:
    """A short digest of what the caller gets: equal answers, equal versions; any change, a new one."""
    raw = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()[:20]


def snapshot(shown: Sequence[Shown]) -> dict[str, Any]:
    """The whole directory for the offline app: every category and tile, with where each shows."""
    content = {
        "categories": [{"code": c.code, "titleVi": c.title_vi, "titleEn": c.title_en, "tileCount": c.tiles}
                       for c in categories(shown)],
        "tiles": [tile_record(s) for s in shown],
    }
    return {"version": version_of(content), **content}
