"""What the traffic-fines lookup adds to the schema: `Me.trafficFines`."""

from __future__ import annotations

from datetime import datetime

import strawberry

from services.registry import ServiceContext, personal
from services.traffic_fines import client


@strawberry.type(description="A fine detected by camera and not yet paid (phạt nguội).")
class TrafficFine:
    plate: str
    violation: str
    amount_vnd: int
    place: str
    detected_at: datetime


@strawberry.type
class MeTrafficFines:
    @strawberry.field(directives=[personal("traffic_fines")],
                      description="Fines pending against the citizen's vehicles; null with AGENCY_* when the "
                                  "lookup cannot answer.")
    async def traffic_fines(self, info: strawberry.Info[ServiceContext, None]) -> list[TrafficFine] | None:
        service = info.context.service("traffic_fines")
        assert service.client is not None
        citizen = await info.context.citizen()
        rows = await client.pending_fines(service.client, citizen.id_number)
        return [TrafficFine(plate=r.plate, violation=r.violation, amount_vnd=r.amount_vnd, place=r.place,
                            detected_at=r.detected_at) for r in rows]
