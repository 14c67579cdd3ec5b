"""The population-database lookup, parsed into a checked shape (anything else is BAD_RESPONSE)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from services.client import AgencyClient


class AddressData(BaseModel):
    text: str
    province_code: str
    district_code: str
    ward_code: str


class PopulationRecordData(BaseModel):
    id_number: str
    full_name: str
    birth_date: date
    sex: str
    hometown: str
    ethnicity: str
    permanent_address: AddressData


async def population_record(client: AgencyClient, id_number: str) -> PopulationRecordData | None:
    data = await client.lookup("/citizens/lookup", {"id_number": id_number}, missing_ok=True)
    return None if data is None else client.parse(PopulationRecordData, data)
