"""`myDataAccessLog`: who read or changed the signed-in citizen's personal data, newest first, in vi/en."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import cast

import strawberry
from sqlalchemy import select
from sqlmodel import col

from api.graphql.context import Info
from api.graphql.types.common import Connection, LocalizedText
from core import audit
from core.models import Agency, AuditEntry
from core.pagination import Page, page_request
from core.personal_data import ACTORS, PURPOSES, labels

CURSOR_KIND = "audit"


@strawberry.enum(description="Who read or changed the data.")
class DataAccessActor(StrEnum):
    CITIZEN = "citizen"
    OFFICER = "officer"
    AGENCY = "agency"
    SYSTEM = "system"


@strawberry.type(description="One read or change of the citizen's personal data (privacy audit trail).")
class DataAccess:
    at: datetime
    actor_kind: DataAccessActor
    actor: LocalizedText = strawberry.field(description="\"Bạn\" / \"You\", the agency's name, \"Cán bộ\" / "
                                                        "\"Officer\" or \"Hệ thống\" / \"System\".")
    data: list[LocalizedText] = strawberry.field(description="Which personal data, one label per kind.")
    fields: list[str] = strawberry.field(description="The schema coordinates read or written, e.g. `Me.phone`.")
    purpose: LocalizedText
    operation: str = strawberry.field(description="The operation (or mutation) that read or wrote it.")


def _entry(row: AuditEntry, *, kinds_of: dict[str, tuple[str, ...]], agencies: dict[str, Agency]) -> DataAccess:
    fields = [f for f in row.fields.split(",") if f]
    vi, en = ACTORS.get(row.actor_kind, ACTORS["system"])
    agency = agencies.get(row.actor_id) if row.actor_kind == "agency" else None
    if agency is not None:
        vi, en = agency.name_vi, agency.name_en
    purpose_vi, purpose_en = PURPOSES.get(row.purpose, (row.purpose, row.purpose))
    return DataAccess(at=row.at, actor_kind=DataAccessActor(row.actor_kind), actor=LocalizedText(vi=vi, en=en),
                      data=[LocalizedText(vi=v, en=e) for v, e in labels(fields, kinds_of)], fields=fields,
                      purpose=LocalizedText(vi=purpose_vi, en=purpose_en), operation=row.operation)


@strawberry.type
class AuditQuery:
    @strawberry.field(description="Who read or changed your personal data, newest first. Needs a token.")
    async def my_data_access_log(self, info: Info, first: int | None = None,
                                 after: str | None = None) -> Connection[DataAccess] | None:
        citizen_id = await info.context.citizen_id()
        settings = info.context.settings
        page = page_request(kind=CURSOR_KIND, first=first, after=after, arity=1,
                            default=settings.graphql.default_page_size, maximum=settings.graphql.max_page_size)
        before = int(page.after[0]) if page.after and isinstance(page.after[0], int) else None
        async with info.context.db.read() as session:
            rows = await audit.citizen_entries(session, citizen_id=citizen_id, first=page.first, before_seq=before)
            codes = {r.actor_id for r in rows if r.actor_kind == "agency"}
            agencies = {a.code: a for a in (await session.execute(
                select(Agency).where(col(Agency.code).in_(codes)))).scalars()} if codes else {}
        kinds_of = cast(dict[str, tuple[str, ...]], getattr(info.schema, "personal_fields", {}))
        items = rows[:page.first]
        result = Page(items=items, keys=[[r.seq] for r in items], has_next=len(rows) > page.first)
        return Connection[DataAccess].from_page(
            result, kind=CURSOR_KIND, has_previous=after is not None,
            convert=lambda row: _entry(row, kinds_of=kinds_of, agencies=agencies))
