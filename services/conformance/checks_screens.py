"""The plug-in's tiles open screens the app can draw: its screen declarations pass the load checks, and the
server answers `screen(tileId)` for each tile with a descriptor valid against its kind's JSON Schema
(`mobile_contract/screens/`), as the app would ask for it (signed out: descriptors are public)."""

from __future__ import annotations

from services.conformance.checks_load import plugin_of
from services.conformance.harness import Harness, Subject
from services.conformance.report import CheckFailed, CheckSkipped
from services.screens import descriptor_problems, screen_problems

SCREEN = "query($t: String!) { screen(tileId: $t) { tileId kind schemaVersion descriptor } }"


async def screens(h: Harness, subject: Subject) -> str:
    plugin = plugin_of(subject)
    if not plugin.tiles:
        raise CheckSkipped("the plug-in has no tiles (`tiles`), so it adds nothing to the service directory")
    problems = screen_problems(plugin)
    for tile in plugin.tiles:
        _, body = await h.gql(SCREEN, {"t": tile.id}, signed_in=False)
        screen = (body.get("data") or {}).get("screen")
        if screen is None:
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
            problems.append(f"tile {tile.id!r}: screen(tileId) answered {codes or body}")
            continue
        problems += [f"tile {tile.id!r}: descriptor {p}" for p in descriptor_problems(screen["descriptor"])]
    if problems:
        raise CheckFailed("; ".join(problems))
    kinds = sorted({tile.screen.value for tile in plugin.tiles})
    return f"{len(plugin.tiles)} tile(s) open valid screens ({', '.join(kinds)})"
