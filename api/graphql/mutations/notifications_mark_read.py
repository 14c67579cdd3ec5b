"""markNotificationsRead: mark inbox entries read; ids of other citizens are ignored like unknown ids."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from api.graphql.context import Info
from api.graphql.types.common import UserError
from core import inbox
from core.clock import utc_now
from core.errors import DomainError, FieldError
from core.row_ids import row_id


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[strawberry.ID]
    client_mutation_id: str | None = None


@strawberry.type
class MarkNotificationsReadPayload:
    marked_ids: list[strawberry.ID] = strawberry.field(description="The caller's notifications among `ids`.")
    unread_count: int
    errors: list[UserError]
    client_mutation_id: str | None


async def mark_notifications_read_mutation(info: Info,
                                           input: MarkNotificationsReadInput) -> MarkNotificationsReadPayload:
    ctx = info.context
    citizen_id = await ctx.citizen_id()
    # An id no notification can have (not digits, beyond int4) is ignored like an unknown one.
    numbers = [n for n in (row_id(str(i)) for i in input.ids) if n is not None]
    try:
        async def mark(session: AsyncSession) -> tuple[list[int], int]:
            marked = await inbox.mark_read(session, citizen_id=citizen_id, ids=numbers, now=utc_now())
            return marked, await inbox.unread_count(session, citizen_id=citizen_id)

        marked, unread = await ctx.db.transaction(mark)
    except DomainError as error:
        errors: tuple[FieldError, ...] = error.errors
        return MarkNotificationsReadPayload(marked_ids=[], unread_count=0, client_mutation_id=input.client_mutation_id,
                                            errors=[UserError.from_field_error(e, ctx.locale) for e in errors])
    return MarkNotificationsReadPayload(marked_ids=[strawberry.ID(str(i)) for i in marked], unread_count=unread,
                                        errors=[], client_mutation_id=input.client_mutation_id)
