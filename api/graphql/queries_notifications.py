"""Query fields of the notifications feature: inbox, unread count, preferences, devices."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.types.common import Connection
from api.graphql.types.notifications import Device, InboxNotification, NotificationPreferences
from core import devices, inbox
from core.outbox import preferences_of
from core.pagination import page_request
from services.registry import personal


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="The signed-in citizen's inbox, newest first. Needs a token.")
    async def my_notifications(self, info: Info, first: int | None = None, after: str | None = None,
                               unread_only: bool = False) -> Connection[InboxNotification] | None:
        citizen_id = await info.context.citizen_id()
        settings = info.context.settings
        page = page_request(kind=inbox.CURSOR_KIND, first=first, after=after, arity=1,
                            default=settings.graphql.default_page_size, maximum=settings.graphql.max_page_size)
        async with info.context.db.read() as session:
            result = await inbox.list_notifications(session, citizen_id=citizen_id, page=page,
                                                    unread_only=unread_only)
        return Connection[InboxNotification].from_page(result, kind=inbox.CURSOR_KIND,
                                                       has_previous=after is not None,
                                                       convert=InboxNotification.from_row)

    @strawberry.field(description="How many inbox entries are unread. Needs a token.")
    async def unread_notification_count(self, info: Info) -> int | None:
        citizen_id = await info.context.citizen_id()
        async with info.context.db.read() as session:
            return await inbox.unread_count(session, citizen_id=citizen_id)

    @strawberry.field(description="The signed-in citizen's notification preferences. Needs a token.")
    async def notification_preferences(self, info: Info) -> NotificationPreferences | None:
        citizen_id = await info.context.citizen_id()
        async with info.context.db.read() as session:
            return NotificationPreferences.from_row(await preferences_of(session, citizen_id))

    @strawberry.field(description="The devices registered for pushes. Needs a token.",
                      directives=[personal("devices")])
    async def my_devices(self, info: Info) -> list[Device] | None:
        citizen_id = await info.context.citizen_id()
        async with info.context.db.read() as session:
            return [Device.from_row(d) for d in await devices.devices_of(session, citizen_id)]
