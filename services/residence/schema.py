"""What the residence service adds to the schema: `Me.populationRecord`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, cast

import strawberry

from services.registry import ServiceContext, personal
from services.residence import client

if TYPE_CHECKING:
    from services.residence import ResidenceService


@strawberry.type(description="An address with its administrative unit codes (province/district/ward).")
class PopulationAddress:
    text: str
    province_code: str
    district_code: str
    ward_code: str


@strawberry.type(description="The citizen's record in the national population database (pre-fills e-forms).")
class PopulationRecord:
    full_name: str
    birth_date: date
    sex: str
    hometown: str
    ethnicity: str
    permanent_address: PopulationAddress


@strawberry.type
class MeResidence:
    @strawberry.field(directives=[personal("population_record")],
                      description="From the national population database; null with AGENCY_* when it is down.")
    async def population_record(self, info: strawberry.Info[ServiceContext, None]) -> PopulationRecord | None:
        service = cast("ResidenceService", info.context.service("residence"))
        assert service.client is not None
        citizen = await info.context.citizen()
        data = await client.population_record(service.client, citizen.id_number)
        if data is None:
            return None
        address = data.permanent_address
        return PopulationRecord(full_name=data.full_name, birth_date=data.birth_date, sex=data.sex,
                                hometown=data.hometown, ethnicity=data.ethnicity,
                                permanent_address=PopulationAddress(text=address.text,
                                                                    province_code=address.province_code,
                                                                    district_code=address.district_code,
                                                                    ward_code=address.ward_code))
