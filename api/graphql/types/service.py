"""An agency service plugged into the schema, as the `services` query reports it."""

from __future__ import annotations

import strawberry

from services.registry import ServiceState as CoreServiceState

ServiceState = strawberry.enum(
    CoreServiceState, name="ServiceState",
    description="READY serves; FAILED did not load (its fields are absent); CIRCUIT_OPEN is failing fast.",
)


@strawberry.type(description="An agency service (plug-in).")
class Service:
    code: str
    name: str = strawberry.field(description="In the request's language.")
    state: ServiceState  # type: ignore[valid-type]
