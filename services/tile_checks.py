"""The checks a plug-in's tiles pass at load: a tile the app cannot draw, or one that opens nothing, makes the
service FAILED with the first problem named, like any other load failure, instead of reaching every phone.

What a tile names is checked against what exists when the registry loads: its icon against the app's fixed
icon set, its category and provinces against the fixed lists, a FORM target against the procedures of the
national catalogue (the seeded one, `core.seed_data.PROCEDURES`) and of the plug-in itself, a RECORD_LIST
target against the fields the plug-in adds to `Me`. DOCUMENT_VIEWER and HELP_PAGE targets are only required to
be non-empty here (the screens they open are checked where they are declared).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from core.id_numbers import PROVINCE_CODES
from core.seed_data import PROCEDURES
from core.text import unstorable
from services.tiles import CATEGORIES, ICONS, ScreenKind, Tile

if TYPE_CHECKING:
    from services.registry import ServicePlugin

TITLE_MAX_CHARS = 60
KEYWORD_MAX_CHARS = 40
MAX_KEYWORDS = 20
MAX_TILES_PER_SERVICE = 50
TARGET_MAX_CHARS = 64
# "<service code>.<name>": lower case, so ids compare the same on every database and in cursors.
_TILE_ID = re.compile(r"[a-z][a-z0-9_]{0,39}\.[a-z0-9][a-z0-9_.-]{0,62}")
CATALOGUE_PROCEDURES: frozenset[str] = frozenset(str(p["code"]) for p in PROCEDURES)
MAX_AGE = 150
# The prefix of the tiles the core generates for catalogue procedures no service owns (services/directory.py).
CORE_PREFIX = "core"


class TileError(ValueError):
    """A tile that cannot be shown; the message names the tile and the problem."""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _title_problem(name: str, value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"{name} is empty"
    if len(value) > TITLE_MAX_CHARS:
        return f"{name} is longer than {TITLE_MAX_CHARS} characters"
    if unstorable(value) or "\n" in value:
        return f"{name} holds a control character"
    return None


def tile_problems(tile: Tile, *, code: str, procedures: Collection[str], me_fields: Collection[str]) -> list[str]:
    """Everything wrong with one tile of service `code` (empty: it can be shown)."""
    if not isinstance(tile, Tile):
        return [f"{tile!r} is not a Tile"]
    problems: list[str] = []
    if not isinstance(tile.id, str) or not _TILE_ID.fullmatch(tile.id):
        problems.append("its id must be '<service code>.<name>' in lower case (letters, digits, _ . -)")
    elif not tile.id.startswith(f"{code}."):
        problems.append(f"its id must start with the service code '{code}.'")
    problems += [p for p in (_title_problem("title_vi", tile.title_vi), _title_problem("title_en", tile.title_en))
                 if p]
    if tile.icon not in ICONS:
        problems.append(f"icon {tile.icon!r} is not in the app's icon set (services.tiles.ICONS)")
    if tile.category not in CATEGORIES:
        problems.append(f"category {tile.category!r} is not a directory category (services.tiles.CATEGORIES)")
    problems += _target_problems(tile, procedures=procedures, me_fields=me_fields)
    unknown = [p for p in tile.provinces if p not in PROVINCE_CODES]
    if not isinstance(tile.provinces, tuple) or unknown:
        problems.append(f"provinces {unknown or tile.provinces!r} are not province codes "
                        "(core.id_numbers.PROVINCE_CODES, e.g. '001', '079')")
    problems += _age_problems(tile)
    if tile.flag is not None and (not isinstance(tile.flag, str) or not FLAG_NAME.fullmatch(tile.flag)):
        problems.append("its flag must be a name of lower-case letters, digits, '_' and '-' (at most 64)")
    if not isinstance(tile.keywords, tuple) or len(tile.keywords) > MAX_KEYWORDS or not all(
            isinstance(k, str) and k.strip() and len(k) <= KEYWORD_MAX_CHARS and not unstorable(k)
            for k in tile.keywords):
        problems.append(f"keywords must be at most {MAX_KEYWORDS} non-empty words of at most "
                        f"{KEYWORD_MAX_CHARS} characters")
    if not _is_int(tile.order) or not 0 <= tile.order <= 10_000:
        problems.append("order must be an integer from 0 to 10000")
    return problems


FLAG_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _target_problems(tile: Tile, *, procedures: Collection[str], me_fields: Collection[str]) -> list[str]:
    if not isinstance(tile.screen, ScreenKind):
        return [f"screen {tile.screen!r} is not a ScreenKind"]
    if not isinstance(tile.target, str) or not tile.target.strip() or len(tile.target) > TARGET_MAX_CHARS \
            or unstorable(tile.target):
        return [f"its target must be a non-empty text of at most {TARGET_MAX_CHARS} characters"]
    if tile.screen is ScreenKind.FORM and tile.target not in procedures:
        return [f"FORM target {tile.target!r} is not a procedure of the catalogue or of the service"]
    if tile.screen is ScreenKind.RECORD_LIST and tile.target not in me_fields:
        return [f"RECORD_LIST target {tile.target!r} is not a field the service adds to Me "
                f"({', '.join(sorted(me_fields)) or 'it adds none'})"]
    return []


def _age_problems(tile: Tile) -> list[str]:
    problems = []
    for name, value in (("min_age", tile.min_age), ("max_age", tile.max_age)):
        if value is not None and (not _is_int(value) or not 0 <= value <= MAX_AGE):
            problems.append(f"{name} must be a whole number of years from 0 to {MAX_AGE}")
    if not problems and tile.min_age is not None and tile.max_age is not None and tile.min_age > tile.max_age:
        problems.append(f"min_age {tile.min_age} is above max_age {tile.max_age}")
    return problems


def check_plugin_tiles(plugin_class: type[ServicePlugin]) -> None:
    """Raise TileError naming the first bad tile of the plug-in (called by the registry at load)."""
    from services.registry import graphql_field_names

    tiles = plugin_class.tiles
    if plugin_class.code == CORE_PREFIX and tiles:
        raise TileError(f"the tile prefix {CORE_PREFIX!r} is reserved for the core's own tiles")
    if not isinstance(tiles, tuple):
        raise TileError("tiles must be a tuple of Tile")
    if len(tiles) > MAX_TILES_PER_SERVICE:
        raise TileError(f"a service declares at most {MAX_TILES_PER_SERVICE} tiles")
    own = {str(p.get("code")) for p in plugin_class.procedures} | set(plugin_class.procedure_codes)
    me_fields = graphql_field_names(plugin_class.me_fields) if plugin_class.me_fields is not None else []
    seen: set[str] = set()
    for tile in tiles:
        problems = tile_problems(tile, code=plugin_class.code, procedures=CATALOGUE_PROCEDURES | own,
                                 me_fields=me_fields)
        name = getattr(tile, "id", "?")
        if not problems and name in seen:
            problems = ["the service declares this id twice"]
        if problems:
            raise TileError(f"tile {name!r}: {'; '.join(problems)}")
        seen.add(name)


def duplicate_tile_ids(services: Iterable[tuple[str, Iterable[Tile]]]) -> list[tuple[str, str]]:
    """(service, reason) for each service that declares a tile id an earlier service (in the order given:
    precedence) already declared. Ids carry the service code, so this only happens with a forged prefix."""
    owner: dict[str, str] = {}
    clashes: list[tuple[str, str]] = []
    for code, tiles in services:
        ids = [t.id for t in tiles]
        taken = [i for i in ids if i in owner]
        if taken:
            clashes.append((code, f"tile {taken[0]!r} is already declared by service {owner[taken[0]]!r}"))
            continue
        owner.update(dict.fromkeys(ids, code))
    return clashes
