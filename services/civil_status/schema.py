"""What the civil-status service adds to the schema: `Me.birthRegistrations`, live from the registry."""

from __future__ import annotations

import strawberry

from core.dossier_status import DossierStatus
from services.civil_status import client
from services.registry import ServiceContext, personal


@strawberry.type(description="A birth registration as the civil-status registry sees it.")
class BirthRegistration:
    agency_reference: str
    dossier_code: str
    child_name: str
    agency_status: str = strawberry.field(description="The registry's own status word.")
    status_code: int | None = strawberry.field(description="The national status code it maps to (1-10).")


@strawberry.type
class MeCivilStatus:
    @strawberry.field(directives=[personal("civil_status")],
                      description="Birth registrations filed by the citizen; null with AGENCY_* when the "
                                  "registry cannot answer.")
    async def birth_registrations(self, info: strawberry.Info[ServiceContext, None]) -> list[BirthRegistration] | None:
        from services.civil_status import VOCABULARY

        service = info.context.service("civil_status")
        assert service.client is not None
        citizen = await info.context.citizen()
        rows = await client.registrations_of(service.client, citizen.id_number)
        return [BirthRegistration(agency_reference=r.reference, dossier_code=r.dossier_code, child_name=r.child_name,
                                  agency_status=r.status,
                                  status_code=_code(VOCABULARY.get(r.status)))
                for r in rows]


def _code(status: DossierStatus | None) -> int | None:
    return status.national_code if status else None
