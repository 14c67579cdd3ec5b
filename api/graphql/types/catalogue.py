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
from core.figures import Figures, figures, shared_cache
from core.payments import fee_items


@strawberry.type(description="Public figures of a procedure or agency (no personal data): ratings after results "
                             "were returned, and delivery against due dates over the latest 5,000 finished "
                             "dossiers. Refreshed at most every minute.")
class PublicFigures:
    rating_count: int
    average_rating: float | None = strawberry.field(description="1-5, two decimals; null without ratings.")
    finished_count: int = strawberry.field(description="Dossiers whose result was returned (of the window).")
    on_time_share: float | None = strawberry.field(
        description="Share (0-1) of finished dossiers returned on or before their due date; null if none.")
    median_processing_days: float | None = strawberry.field(
        description="Median calendar days from reception to return; null if none finished.")

    @classmethod
    def of(cls, value: Figures) -> PublicFigures:
        return cls(rating_count=value.rating_count, average_rating=value.average_rating,
                   finished_count=value.finished_count, on_time_share=value.on_time_share,
                   median_processing_days=value.median_processing_days)


async def _figures(info: Info, kind: str, row_id: int) -> PublicFigures:
    ctx = info.context
    cache = shared_cache(ctx.settings.graphql.figures_cache_seconds)
    value = cache.get((kind, row_id))
    if value is None:
        async with ctx.db.read() as session:
            value = await figures(session, tz_name=ctx.settings.timezone,
                                  procedure_id=row_id if kind == "procedure" else None,
                                  agency_id=row_id if kind == "agency" else None)
        cache.put((kind, row_id), value)
    return PublicFigures.of(value)


@strawberry.enum(description="Decree 42/2022: the whole procedure online, or only part of it.")
class OnlineLevel(Enum):
    FULL = "full"
    PARTIAL = "partial"


@strawberry.type
class Agency(relay.Node):
    key: relay.NodeID[str]
    code: str = strawberry.field(description="Agency identifier code V1V2V3.Z1Z2.Y1Y2.MX1X2.")
    name: LocalizedText
    row_id: strawberry.Private[int]

    @strawberry.field(description="Public ratings and delivery figures of all the agency's procedures.")
    async def figures(self, info: Info) -> PublicFigures:
        return await _figures(info, "agency", self.row_id)

    @classmethod
    def from_row(cls, row: models.Agency) -> Agency:
        assert row.id is not None
        return cls(key=row.code, code=row.code, name=LocalizedText(vi=row.name_vi, en=row.name_en), row_id=row.id)


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
    row_id: strawberry.Private[int]

    @strawberry.field(description="Public ratings and delivery figures of this procedure.")
    async def figures(self, info: Info) -> PublicFigures:
        return await _figures(info, "procedure", self.row_id)
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
                   row_id=row.id or 0, fee_items=fee_items(row))
