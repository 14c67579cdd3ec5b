"""Query field of server-driven screens: what a tile of the service directory opens."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.queries_directory import ScreenKind
from core import catalogue
from core.errors import DomainError, ErrorCode
from services.screens import descriptor
from services.tiles import ScreenKind as DomainScreenKind
from services.tiles import Tile

MAX_TILE_ID = 100


@strawberry.type(description="A screen the app draws from data: `descriptor` follows the JSON Schema "
                             "`mobile_contract/screens/<kind>.v<schemaVersion>.schema.json`.")
class Screen:
    tile_id: str
    kind: ScreenKind  # type: ignore[valid-type]
    schema_version: int = strawberry.field(description="The descriptor's version for its kind.")
    descriptor: JSON = strawberry.field(description="What to draw; carries no personal data.")


def _tile_not_found() -> DomainError:
    return DomainError(ErrorCode.TILE_NOT_FOUND, field="tileId")


@strawberry.type
class ScreenQuery:
    @strawberry.field(description="The screen a service-directory tile opens (public: descriptors are the same "
                                  "for everyone). TILE_NOT_FOUND when no enabled service has that tile.")
    async def screen(self, info: Info, tile_id: str) -> Screen | None:
        if len(tile_id) > MAX_TILE_ID:
            raise _tile_not_found()
        found = [(type(p), t) for p in info.context.services.plugins.values() for t in type(p).tiles
                 if t.id == tile_id]
        if not found:
            raise _tile_not_found()
        plugin_class, tile = found[0]
        form_schema = None
        if tile.screen is DomainScreenKind.FORM:
            form_schema = await _live_form(info, tile)
        built = descriptor(plugin_class, tile, form_schema=form_schema)
        return Screen(tile_id=tile.id, kind=tile.screen, schema_version=built["schemaVersion"],
                      descriptor=cast(JSON, built))


async def _live_form(info: Info, tile: Tile) -> dict[str, object]:
    """The form of the tile's procedure as the catalogue holds it now; a procedure gone from the catalogue (or
    no longer online) makes its tile open nothing, as an unknown tile."""
    async with info.context.db.read() as session:
        procedure = await catalogue.procedure_by_code(session, tile.target)
    if procedure is None or not procedure.active:
        raise _tile_not_found()
    return dict(procedure.form_schema)
