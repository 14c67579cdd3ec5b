"""Public catalogue types: agencies and the procedures they offer."""

from __future__ import annotations

from enum import Enum
from typing import Any, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.types.common import LocalizedText
from api.graphql.types.payment import FeeItem
from core import models
from core.payments import fee_items


@strawberry.enum(description="Decree 42/2022: the whole procedure online, or only part of it.")
class OnlineLevel(Enum):
    FULL = "full"
    PARTIAL = "partial"


@strawberry.type
class Agency(relay.Node):
    key: relay.NodeID[str]
    code: str = strawberry.field(description="Agency identifier code V1V2V3.Z1Z2.Y1Y2.MX1X2.")
    name: LocalizedText

    @classmethod
    def from_row(cls, row: models.Agency) -> Agency:
        return cls(key=row.code, code=row.code, name=LocalizedText(vi=row.name_vi, en=row.name_en))


@strawberry.type
class Procedure(relay.Node):
    key: relay.NodeID[str]
    code: str = strawberry.field(description="National procedure code, e.g. `1.001193`.")
    name: LocalizedText
    online_level: OnlineLevel
    processing_days: int = strawberry.field(description="Processing time in working days.")
    fee_vnd: int = strawberry.field(description="The total of `fees`, in Vietnamese đồng.")
    form_schema: JSON = strawberry.field(
        description="JSON Schema of the e-form; `x-prefill` marks fields filled from the citizen's profile."
    )
    agency_id: strawberry.Private[int]
    fee_items: strawberry.Private[list[dict[str, Any]]]

    @strawberry.field
    async def agency(self, info: Info) -> Agency:
        return Agency.from_row(await info.context.loaders.agency.load(self.agency_id))

    @strawberry.field(description="The fees (lệ phí) and charges (phí) the procedure costs; `feeVnd` is their total.")
    def fees(self) -> list[FeeItem]:
        return [FeeItem.from_item(item) for item in self.fee_items]

    @classmethod
    def from_row(cls, row: models.Procedure) -> Procedure:
        return cls(key=row.code, code=row.code, name=LocalizedText(vi=row.name_vi, en=row.name_en),
                   online_level=OnlineLevel(row.online_level), processing_days=row.processing_days,
                   fee_vnd=row.fee_vnd, form_schema=cast(JSON, row.form_schema), agency_id=row.agency_id,
                   fee_items=fee_items(row))
