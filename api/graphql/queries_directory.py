"""`serviceDirectory`: the home screen's categories and tiles for the caller (services/directory.py), and the
offline snapshot the sync page carries (`SyncPage.directory`).

Public: an anonymous caller gets the tiles without conditions; a signed-in citizen also gets the tiles of
their age. An invalid or expired token is served as anonymous (the home screen must open), the app learns
of the token from the fields that need one. The calling app's headers (api/client_app.py) decide the flags.
"""

from __future__ import annotations

from typing import Any

import strawberry

from api.graphql.context import Info
from api.graphql.types.common import Connection
from core.errors import DomainError, ErrorCode
from core.feature_flags import FlagRule
from core.pagination import page_request
from services import directory
from services.tiles import ScreenKind as CoreScreenKind

LOCALES = ("vi", "en")


# The domain enum itself joins the schema, under its GraphQL name (members by name: FORM, RECORD_LIST, ...).
ScreenKind = strawberry.enum(CoreScreenKind, name="ScreenKind",
                             description="The screen a tile opens; `target` means something per kind.")


@strawberry.type(description="A category of the service directory, with how many of the caller's tiles it "
                             "holds (search applied).")
class DirectoryCategory:
    code: str
    title: str = strawberry.field(description="In the directory's locale.")
    title_vi: str
    title_en: str
    tile_count: int


@strawberry.type(description="One entry of the home screen's service directory and the screen it opens.")
class DirectoryTile:
    id: str = strawberry.field(description="Stable, unique across services: `<service code>.<name>`.")
    title: str = strawberry.field(description="In the directory's locale.")
    title_vi: str
    title_en: str
    icon: str = strawberry.field(description="A name of the app's fixed icon set (Material Symbols).")
    category: str
    screen: ScreenKind  # type: ignore[valid-type]
    target: str = strawberry.field(description="FORM: a procedure code; RECORD_LIST: a field of `Me`; "
                                               "DOCUMENT_VIEWER: a wallet document kind; HELP_PAGE: a page id.")
    provinces: list[str] = strawberry.field(description="Where it shows for this app (empty: every province).")
    flagged: bool = strawberry.field(description="A feature flag rolls it out (per province and app version).")

    @classmethod
    def of(cls, shown: directory.Shown, locale: str) -> DirectoryTile:
        tile = shown.tile
        return cls(id=tile.id, title=tile.title_en if locale == "en" else tile.title_vi, title_vi=tile.title_vi,
                   title_en=tile.title_en, icon=tile.icon, category=tile.category,
                   screen=tile.screen, target=tile.target, provinces=list(shown.provinces),
                   flagged=shown.flagged)


@strawberry.type(description="The service directory as this caller sees it.")
class ServiceDirectory:
    version: str = strawberry.field(description="Changes whenever what this caller sees changes (tiles, flags, "
                                                "search): compare it instead of the whole answer.")
    province: str | None
    locale: str
    categories: list[DirectoryCategory]
    tiles: Connection[DirectoryTile]


async def _rules(info: Info) -> dict[str, FlagRule]:
    flags = info.context.flags
    return dict(await flags.rules()) if flags is not None else {}


async def caller_of(info: Info, province: str | None) -> directory.Caller:
    """The caller's province (checked), age (signed in) and app (client headers)."""
    ctx = info.context
    age = None
    if ctx.principal is not None:
        citizen = await ctx.citizen()
        age = directory.age_on(citizen.birth_date, ctx.today)
    app = ctx.client_app  # from the client-awareness headers, or the socket's connection_init payload
    return directory.Caller(province=directory.check_province(province), age=age,
                            platform=app.platform if app else None, version=app.version if app else None)


async def offline_snapshot(info: Info) -> dict[str, Any]:
    """Every tile the caller may see in any province, with where each shows (SyncPage.directory)."""
    caller = await caller_of(info, None)
    shown = directory.visible(directory.all_tiles(info.context.services), await _rules(info), caller,
                              any_province=True)
    return directory.snapshot(shown)


@strawberry.type
class DirectoryQuery:
    @strawberry.field(description="The home screen's service directory for the caller: categories and a page of "
                                  "tiles. `province`: the three-digit code the app is set to (none: only tiles "
                                  "shown everywhere); `locale`: vi | en (default: Accept-Language); `search` "
                                  "ignores Vietnamese diacritics. Public; a signed-in citizen also gets the tiles "
                                  "for their age.")
    async def service_directory(self, info: Info, province: str | None = None, locale: str | None = None,
                                search: str | None = None, first: int | None = None,
                                after: str | None = None) -> ServiceDirectory | None:
        if locale is not None and locale not in LOCALES:
            raise DomainError(ErrorCode.UNSUPPORTED_LOCALE, field="locale")
        language = locale or info.context.locale
        settings = info.context.settings
        page = page_request(kind=directory.CURSOR_KIND, first=first, after=after, arity=3,
                            default=settings.graphql.default_page_size, maximum=settings.graphql.max_page_size)
        caller = await caller_of(info, province)
        shown = directory.matching(directory.visible(directory.all_tiles(info.context.services),
                                                     await _rules(info), caller), search)
        result = directory.page_of(shown, page)
        categories = [DirectoryCategory(code=c.code, title=c.title_en if language == "en" else c.title_vi,
                                        title_vi=c.title_vi, title_en=c.title_en, tile_count=c.tiles)
                      for c in directory.categories(shown)]
        version = directory.version_of([caller.province, language, search or "", after or "", page.first,
                                        [directory.tile_record(s) for s in shown]])
        return ServiceDirectory(
            version=version, province=caller.province, locale=language, categories=categories,
            tiles=Connection[DirectoryTile].from_page(result, kind=directory.CURSOR_KIND,
                                                      has_previous=after is not None,
                                                      convert=lambda s: DirectoryTile.of(s, language)))
