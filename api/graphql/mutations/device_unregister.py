"""unregisterDevice: stop pushes to this install (sign-out). Idempotent; another citizen's token is untouched."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
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
    citizen_id = await info.context.citizen_id()
    removed = await info.context.db.transaction(
        lambda session: unregister_device(session, citizen_id=citizen_id, token=input.token))
    return UnregisterDevicePayload(removed=removed, client_mutation_id=input.client_mutation_id)
