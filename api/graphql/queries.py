"""Query root: thin resolvers that check who asks, call one core function and map the result."""

from __future__ import annotations

import strawberry
from strawberry import relay

from api.graphql import node_lookup
from api.graphql.context import Info
from api.graphql.types.catalogue import Procedure
from api.graphql.types.common import Connection, DossierStatus
from api.graphql.types.dossier import Dossier
from api.graphql.types.service import Service
from core import catalogue, dossiers
from core.errors import not_found
from core.pagination import page_request


@strawberry.type
class Query:
    @strawberry.field(description="The agency services plugged in, and whether each can serve now.")
    def services(self, info: Info) -> list[Service]:
        registry = info.context.services
        return [Service(code=row.code, name=row.name_en if info.context.locale == "en" else row.name_vi,
                        state=row.state, reason=row.reason)
                for row in registry.report()]

    @strawberry.field(description="The public procedure catalogue; `search` ignores Vietnamese diacritics.")
    async def procedures(
        self, info: Info, search: str | None = None, agency: str | None = None,
        first: int | None = None, after: str | None = None,
    ) -> Connection[Procedure] | None:
        settings = info.context.settings
        page = page_request(kind=catalogue.CURSOR_KIND, first=first, after=after, arity=1,
                            default=settings.graphql.default_page_size, maximum=settings.graphql.max_page_size)
        async with info.context.db.read() as session:
            result = await catalogue.search_procedures(session, page=page, search=search, agency_code=agency)
        return Connection[Procedure].from_page(result, kind=catalogue.CURSOR_KIND,
                                               has_previous=after is not None, convert=Procedure.from_row)

    @strawberry.field(description="One procedure by its national code.")
    async def procedure(self, info: Info, code: str) -> Procedure | None:
        async with info.context.db.read() as session:
            row = await catalogue.procedure_by_code(session, code)
        if row is None or not row.active:
            raise not_found("thủ tục", "Procedure")
        return Procedure.from_row(row)

    @strawberry.field(description="The signed-in citizen's dossiers, newest first. Needs a token.")
    async def my_dossiers(
        self, info: Info, status: list[DossierStatus] | None = None,  # type: ignore[valid-type]
        first: int | None = None, after: str | None = None,
    ) -> Connection[Dossier] | None:
        citizen_id = await info.context.citizen_id()
        settings = info.context.settings
        page = page_request(kind=dossiers.CURSOR_KIND, first=first, after=after, arity=2,
                            default=settings.graphql.default_page_size, maximum=settings.graphql.max_page_size)
        async with info.context.db.read() as session:
            result = await dossiers.list_citizen_dossiers(session, citizen_id=citizen_id, page=page,
                                                          statuses=status)
        return Connection[Dossier].from_page(result, kind=dossiers.CURSOR_KIND,
                                             has_previous=after is not None, convert=Dossier.from_row)

    @strawberry.field(description="One of the signed-in citizen's dossiers by code. Needs a token.")
    async def dossier(self, info: Info, code: str) -> Dossier | None:
        citizen_id = await info.context.citizen_id()
        async with info.context.db.read() as session:
            row = await dossiers.citizen_dossier(session, citizen_id=citizen_id, code=code)
        return Dossier.from_row(row)

    @strawberry.field(description="Any object by its global id (Relay).")
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        return await node_lookup.resolve(info, id)
