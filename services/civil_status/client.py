"""Birth registrations the civil-status registry holds for an applicant."""

from __future__ import annotations

from pydantic import BaseModel

from services.client import AgencyClient


class RegistrationData(BaseModel):
    reference: str
    dossier_code: str
    child_name: str
    status: str


async def registrations_of(client: AgencyClient, id_number: str) -> list[RegistrationData]:
    data = await client.lookup("/registrations/search", {"id_number": id_number})
    return client.parse(list[RegistrationData], data)
