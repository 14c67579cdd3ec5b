"""updateNotificationPreferences: push on/off, SMS fallback on/off, quiet hours; omitted fields stay."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.types.common import UserError
from api.graphql.types.notifications import NotificationPreferences
from core.clock import utc_now
from core.devices import set_preferences
from core.errors import DomainError


@strawberry.input
class UpdateNotificationPreferencesInput:
    push_enabled: bool | None = None
    sms_fallback: bool | None = None
    quiet_hours_start: str | None = strawberry.field(
        default=None, description="HH:MM, the service's local time (Vietnam time by default)")
    quiet_hours_end: str | None = strawberry.field(default=None, description="HH:MM; may be before the start")
    clear_quiet_hours: bool = False
    client_mutation_id: str | None = None


@strawberry.type
class UpdateNotificationPreferencesPayload:
    preferences: NotificationPreferences | None
    errors: list[UserError]
    client_mutation_id: str | None


async def update_notification_preferences_mutation(
    info: Info, input: UpdateNotificationPreferencesInput
) -> UpdateNotificationPreferencesPayload:
    ctx = info.context
    citizen_id = await ctx.citizen_id()
    try:
        row = await ctx.db.transaction(lambda session: set_preferences(
            session, citizen_id=citizen_id, now=utc_now(), push_enabled=input.push_enabled,
            sms_fallback=input.sms_fallback, quiet_start=input.quiet_hours_start, quiet_end=input.quiet_hours_end,
            clear_quiet_hours=input.clear_quiet_hours))
    except DomainError as error:
        return UpdateNotificationPreferencesPayload(
            preferences=None, client_mutation_id=input.client_mutation_id,
            errors=[UserError.from_field_error(e, ctx.locale) for e in error.errors])
    return UpdateNotificationPreferencesPayload(preferences=NotificationPreferences.from_row(row), errors=[],
                                                client_mutation_id=input.client_mutation_id)
