"""What the social-insurance service adds to the schema: `Me.healthInsuranceCard`."""

from __future__ import annotations

from datetime import date

import strawberry

from services.registry import ServiceContext, personal
from services.social_insurance import client


@strawberry.type(description="A health-insurance card (thẻ BHYT).")
class HealthInsuranceCard:
    number: str
    valid_from: date
    valid_until: date
    clinic: str = strawberry.field(description="Registered clinic for first-line care.")


@strawberry.type
class MeSocialInsurance:
    @strawberry.field(directives=[personal("health_insurance")],
                      description="The citizen's health-insurance card; null when there is none, or with "
                                  "AGENCY_* when the agency cannot answer.")
    async def health_insurance_card(self, info: strawberry.Info[ServiceContext, None]) -> HealthInsuranceCard | None:
        service = info.context.service("social_insurance")
        assert service.client is not None
        citizen = await info.context.citizen()
        card = await client.card_of(service.client, citizen.id_number)
        if card is None:
            return None
        return HealthInsuranceCard(number=card.number, valid_from=card.valid_from, valid_until=card.valid_until,
                                   clinic=card.clinic)
