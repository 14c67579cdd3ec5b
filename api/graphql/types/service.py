"""An agency service plugged into the schema, as the `services` query reports it."""

from __future__ import annotations

import strawberry

from services.registry import ServiceState as CoreServiceState

ServiceState = strawberry.enum(
    CoreServiceState, name="ServiceState",
    description="READY serves; FAILED is not serving (see `reason`: its fields answer AGENCY_UNAVAILABLE, or are "
                "absent for a plug-in that was refused); CIRCUIT_OPEN is failing fast.",
)


@strawberry.type(description="An agency service (plug-in).")
class Service:
    code: str
    name: str = strawberry.field(description="In the request's language.")
    state: ServiceState  # type: ignore[valid-type]
    reason: str | None = strawberry.field(default=None, description="Why a FAILED service is not serving, for "
                                                                  "operators (English); null otherwise.")
