"""An example agency service in its own package: the city library's card on `Me.libraryCard`.

It declares its own agency (the city library, which the national catalogue does not list) and a procedure
whose dossiers are forwarded to that agency, ships the agency's sandbox (`sandbox.py`, run by
`superapp sandbox`) and the operations the app sends for its field and procedure (`operations/`, trusted by
the server in production). The card field itself is computed, which keeps the example to the plug-in contract:
declare, add a field, register the entry point. docs/PLUGGING_IN_A_SERVICE.md walks through it.
"""

from __future__ import annotations

from typing import Any

import strawberry

from services.registry import ScreenKind, ServiceContext, ServicePlugin, Tile, personal


@strawberry.type(description="A public library card (example plug-in).")
class LibraryCard:
    number: str
    branch: str


@strawberry.type
class MeLibrary:
    @strawberry.field(directives=[personal("memberships")],
                      description="The citizen's library card (example plug-in).")
    async def library_card(self, info: strawberry.Info[ServiceContext, None]) -> LibraryCard | None:
        citizen = await info.context.citizen()
        return LibraryCard(number=f"TV-{citizen.id_number[-6:]}", branch="Thư viện Hà Nội")


LIBRARY_AGENCY: dict[str, str] = {
    "code": "000.00.31.H26", "name_vi": "Thư viện Hà Nội", "name_en": "Hanoi Library", "level": "province",
}

LIBRARY_CARD_PROCEDURE: dict[str, Any] = {
    "code": "EX.000001", "agency": LIBRARY_AGENCY["code"], "name_vi": "Cấp thẻ thư viện (ví dụ)",
    "name_en": "Library card (example)", "online_level": "full", "processing_days": 1, "fee_vnd": 0,
    "form_schema": {"type": "object", "properties": {}, "additionalProperties": True},
}


class LibraryService(ServicePlugin):
    code = "public_library"
    name_vi = "Thư viện công cộng (ví dụ)"
    name_en = "Public library (example)"
    agency = LIBRARY_AGENCY
    agency_code = LIBRARY_AGENCY["code"]
    procedures = (LIBRARY_CARD_PROCEDURE,)
    procedure_codes = (LIBRARY_CARD_PROCEDURE["code"],)
    me_fields = MeLibrary
    types = (LibraryCard,)
    # What the field adds to an operation's cost: computed here, it asks no agency (the default is 25).
    field_costs = {"libraryCard": 1}
    default_base_url = "http://127.0.0.1:8105"  # the sandbox's port outside production
    # Its entries on the app's home screen: the city library serves Hà Nội only (province 001).
    tiles = (
        Tile("public_library.card_request", "Cấp thẻ thư viện", "Library card", "local_library", "culture",
             ScreenKind.FORM, LIBRARY_CARD_PROCEDURE["code"], provinces=("001",), keywords=("thu vien",)),
        Tile("public_library.card", "Thẻ thư viện của tôi", "My library card", "menu_book", "culture",
             ScreenKind.RECORD_LIST, "libraryCard", provinces=("001",)),
    )
    # `sandbox` (ServicePlugin's default) builds the agency's stand-in with `create_sandbox` in sandbox.py.
