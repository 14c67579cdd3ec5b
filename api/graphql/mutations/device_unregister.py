"""unregisterDevice: stop pushes to this install (sign-out). Idempotent; another citizen's token is untouched."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.personal import by_citizen
from core import audit
from core.devices import unregister_device


@strawberry.input
class UnregisterDeviceInput:
    token: str
    client_mutation_id: str | None = None


@strawberry.type
class UnregisterDevicePayload:
    removed: bool = strawberry.field(description="False when this citizen had no such token (already removed).")
    client_mutation_id: str | None


async def unregister_device_mutation(info: Info, input: UnregisterDeviceInput) -> UnregisterDevicePayload:
    ctx = info.context
    citizen_id = await ctx.citizen_id()
    removed = await ctx.db.transaction(audit.recorded(
        lambda session: unregister_device(session, citizen_id=citizen_id, token=input.token),
        by_citizen(ctx, citizen_id, ("Device.token",), "unregisterDevice")))
    return UnregisterDevicePayload(removed=removed, client_mutation_id=input.client_mutation_id)
