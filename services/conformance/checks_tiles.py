"""The plug-in's tiles: they pass the load checks (services/tile_checks.py) and the served directory shows
each one to the kit's citizen in a province where it applies."""

from __future__ import annotations

from services.conformance.checks_load import plugin_of
from services.conformance.harness import Harness, Subject
from services.conformance.report import CheckFailed, CheckSkipped
from services.tile_checks import TileError, check_plugin_tiles

DIRECTORY = """query($province: String) {
  serviceDirectory(province: $province, first: 100) { tiles { edges { node { id screen target } } } }
}"""
ANYWHERE = "001"


async def tiles(h: Harness, subject: Subject) -> str:
    """Every tile is valid, and each one that no feature flag or age condition holds back is served, signed in,
    in its first province (Hà Nội, 001, for a nationwide tile) with its screen and target."""
    plugin = plugin_of(subject)
    if not plugin.tiles:
        raise CheckSkipped("the plug-in declares no tiles: the app's home screen does not show it (declare `tiles`)")
    try:
        check_plugin_tiles(plugin)
    except TileError as error:
        raise CheckFailed(str(error)) from error
    held = [t for t in plugin.tiles if t.flag is not None or t.min_age is not None or t.max_age is not None]
    problems = []
    served: dict[str, dict[str, dict[str, str]]] = {}
    for tile in plugin.tiles:
        if tile in held:
            continue
        province = tile.provinces[0] if tile.provinces else ANYWHERE
        if province not in served:
            status, body = await h.gql(DIRECTORY, {"province": province})
            edges = ((body.get("data") or {}).get("serviceDirectory") or {}).get("tiles", {}).get("edges", [])
            if status != 200 or not edges:
                raise CheckFailed(f"serviceDirectory(province: {province!r}) answered {status}: {body}")
            served[province] = {e["node"]["id"]: e["node"] for e in edges}
        node = served[province].get(tile.id)
        if node is None:
            problems.append(f"tile {tile.id!r} is not in the directory of province {province}")
        elif (node["screen"], node["target"]) != (tile.screen.name, tile.target):
            problems.append(f"tile {tile.id!r} is served as {node['screen']} {node['target']!r}")
    if problems:
        raise CheckFailed("; ".join(problems))
    return (f"{len(plugin.tiles)} tile(s) valid; {len(plugin.tiles) - len(held)} served, {len(held)} behind a "
            "flag or an age condition")
