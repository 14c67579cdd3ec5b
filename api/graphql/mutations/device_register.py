"""registerDevice: start pushes to this install; a token another citizen held moves to the caller."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.personal import by_citizen
from api.graphql.types.common import UserError
from api.graphql.types.notifications import Device
from core import audit
from core.clock import utc_now
from core.devices import register_device
from core.errors import DomainError


@strawberry.input
class RegisterDeviceInput:
    token: str = strawberry.field(description="The FCM registration token of this install.")
    platform: str = strawberry.field(description="android | ios | web")
    locale: str = strawberry.field(default="vi", description="vi | en: the language of pushes")
    client_mutation_id: str | None = None


@strawberry.type
class RegisterDevicePayload:
    device: Device | None
    errors: list[UserError]
    client_mutation_id: str | None


async def register_device_mutation(info: Info, input: RegisterDeviceInput) -> RegisterDevicePayload:
    ctx = info.context
    citizen_id = await ctx.citizen_id()
    try:
        row = await ctx.db.transaction(audit.recorded(lambda session: register_device(
            session, citizen_id=citizen_id, token=input.token, platform=input.platform, locale=input.locale,
            now=utc_now()), by_citizen(ctx, citizen_id, ("Device.token",), "registerDevice")))
    except DomainError as error:
        return RegisterDevicePayload(device=None, client_mutation_id=input.client_mutation_id,
                                     errors=[UserError.from_field_error(e, ctx.locale) for e in error.errors])
    return RegisterDevicePayload(device=Device.from_row(row), errors=[], client_mutation_id=input.client_mutation_id)
