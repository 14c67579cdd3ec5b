"""An example agency service in its own package: the city library's card on `Me.libraryCard`.

It calls no agency API (its answer is computed), which keeps the example to the plug-in contract itself:
declare, add a field, register the entry point. docs/PLUGGING_IN_A_SERVICE.md walks through it.
"""

from __future__ import annotations

from typing import Any

import strawberry

from services.registry import ServiceContext, ServicePlugin


@strawberry.type(description="A public library card (example plug-in).")
class LibraryCard:
    number: str
    branch: str


@strawberry.type
class MeLibrary:
    @strawberry.field(description="The citizen's library card (example plug-in).")
    async def library_card(self, info: strawberry.Info[ServiceContext, None]) -> LibraryCard | None:
        citizen = await info.context.citizen()
        return LibraryCard(number=f"TV-{citizen.id_number[-6:]}", branch="Thư viện Hà Nội")


LIBRARY_CARD_PROCEDURE: dict[str, Any] = {
    "code": "EX.000001", "agency": "000.20.31.H26", "name_vi": "Cấp thẻ thư viện (ví dụ)",
    "name_en": "Library card (example)", "online_level": "full", "processing_days": 1, "fee_vnd": 0,
    "form_schema": {"type": "object", "properties": {}, "additionalProperties": True},
}


class LibraryService(ServicePlugin):
    code = "public_library"
    name_vi = "Thư viện công cộng (ví dụ)"
    name_en = "Public library (example)"
    agency_code = "000.20.31.H26"
    procedures = (LIBRARY_CARD_PROCEDURE,)
    me_fields = MeLibrary
    types = (LibraryCard,)
    calls_agency = False
