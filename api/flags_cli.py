"""`superapp flags list|enable|disable`: operators roll a tile's service or screen out province by province,
and from an app version on, without a deploy (core/feature_flags.py).

`enable NAME --provinces 001,079 [--min-version 2.4.0] [--platform android]` adds provinces to those the flag
is on in (`*`: every province) and sets the app condition when given (`--min-version ""` clears it);
`disable NAME [--provinces 079]` takes provinces out, or the whole flag without `--provinces`. Servers see a
change within SUPERAPP_FLAG_CACHE_SECONDS. `list` also names the tiles each flag rolls out, and the flags
tiles name that are on nowhere.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

from core.db import Database
from core.feature_flags import FlagInputError, FlagStore
from core.settings import Settings

Print = Callable[[str], None]


def _provinces(text: str | None) -> list[str] | None:
    return [p for p in text.split(",")] if text else None


def _flagged_tiles(settings: Settings) -> dict[str, list[str]]:
    """Flag name -> the tiles that name it, among the services this server would load."""
    from services.directory import all_tiles
    from services.registry import load_registry

    tiles: dict[str, list[str]] = {}
    for tile in all_tiles(load_registry(settings)):
        if tile.flag:
            tiles.setdefault(tile.flag, []).append(tile.id)
    return tiles


async def _list(store: FlagStore, settings: Settings, out: Print) -> int:
    rows = await store.listing()
    tiles = _flagged_tiles(settings)
    for row in rows:
        app = f"{row.platform or 'any app'} from {row.min_version}" if row.min_version else row.platform or "any app"
        out(f"{row.name}: provinces {','.join(row.provinces) or '(none)'}; {app}; "
            f"tiles {','.join(tiles.get(row.name, [])) or '(none)'}")
    for name in sorted(set(tiles) - {row.name for row in rows}):
        out(f"{name}: off everywhere; tiles {','.join(tiles[name])}")
    return 0


def run(settings: Settings, args: argparse.Namespace, out: Print, err: Print) -> int:
    async def main() -> int:
        db = Database.from_url(settings.database_url)
        store = FlagStore(db, ttl_seconds=0)
        try:
            if args.flags_command == "list":
                return await _list(store, settings, out)
            if args.flags_command == "enable":
                rule = await store.enable(args.name, _provinces(args.provinces) or [],
                                          min_version=args.min_version, platform=args.platform)
                out(f"{rule.name} is on in {','.join(sorted(rule.provinces))}")
                return 0
            if not await store.disable(args.name, _provinces(args.provinces)):
                err(f"no flag {args.name!r}")
                return 1
            out(f"{args.name} is off {'in ' + args.provinces if args.provinces else 'everywhere'}")
            return 0
        except FlagInputError as error:
            err(str(error))
            return 2
        finally:
            await db.dispose()

    return asyncio.run(main())


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
               handler: Callable[[Settings, argparse.Namespace], int]) -> None:
    flags = sub.add_parser("flags", help="feature flags of the service directory (per province and app version)")
    flags_sub = flags.add_subparsers(dest="flags_command", required=True)
    flags_sub.add_parser("list", help="every flag, where it is on, for which apps, and the tiles it rolls out")
    enable = flags_sub.add_parser("enable", help="turn a flag on in more provinces")
    enable.add_argument("name")
    enable.add_argument("--provinces", required=True, help="comma-separated province codes (001,079) or *")
    enable.add_argument("--min-version", help="only apps from this version (MAJOR.MINOR.PATCH; \"\" clears)")
    enable.add_argument("--platform", help="only this platform: android | ios | web (\"\" clears)")
    disable = flags_sub.add_parser("disable", help="turn a flag off in provinces, or everywhere")
    disable.add_argument("name")
    disable.add_argument("--provinces", help="comma-separated province codes; none: off everywhere")
    flags.set_defaults(handler=handler)
