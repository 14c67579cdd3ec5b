"""An example agency service in its own package: the city library's card on `Me.libraryCard`.

It declares its own agency (the city library, which the national catalogue does not list) and a procedure
whose dossiers are forwarded to that agency, its tiles in the app's service directory with the screens they open
(the card request's e-form, the list of borrowed books, a help page), ships the agency's sandbox (`sandbox.py`, run by
`superapp sandbox`) and the operations the app sends for its field and procedure (`operations/`, trusted by
the server in production). The card field itself is computed, which keeps the example to the plug-in contract:
declare, add a field, register the entry point. docs/PLUGGING_IN_A_SERVICE.md walks through it.
"""

from __future__ import annotations

from typing import Any

import strawberry

from services.registry import (
    Column,
    HelpPage,
    RecordList,
    ScreenKind,
    ServiceContext,
    ServicePlugin,
    Tile,
    personal,
)


@strawberry.type(description="A public library card (example plug-in).")
class LibraryCard:
    number: str
    branch: str


@strawberry.type(description="A book the citizen has borrowed (example plug-in).")
class LibraryLoan:
    title: str
    due_date: str = strawberry.field(description="ISO date the book is due back.")
    renewed: bool


@strawberry.type
class MeLibrary:
    @strawberry.field(directives=[personal("memberships")],
                      description="The citizen's library card (example plug-in).")
    async def library_card(self, info: strawberry.Info[ServiceContext, None]) -> LibraryCard | None:
        citizen = await info.context.citizen()
        return LibraryCard(number=f"TV-{citizen.id_number[-6:]}", branch="Thư viện Hà Nội")

    @strawberry.field(directives=[personal("memberships")],
                      description="The books the citizen has borrowed, due first (example plug-in).")
    async def library_loans(self, info: strawberry.Info[ServiceContext, None]) -> list[LibraryLoan] | None:
        await info.context.citizen()  # signed in, or UNAUTHENTICATED
        return [LibraryLoan(title="Số đỏ", due_date="2026-12-20", renewed=False),
                LibraryLoan(title="Dế Mèn phiêu lưu ký", due_date="2027-01-05", renewed=True)]


LIBRARY_AGENCY: dict[str, str] = {
    "code": "000.00.31.H26", "name_vi": "Thư viện Hà Nội", "name_en": "Hanoi Library", "level": "province",
}

LIBRARY_CARD_PROCEDURE: dict[str, Any] = {
    "code": "EX.000001", "agency": LIBRARY_AGENCY["code"], "name_vi": "Cấp thẻ thư viện (ví dụ)",
    "name_en": "Library card (example)", "online_level": "full", "processing_days": 1, "fee_vnd": 0,
    "form_schema": {"type": "object", "additionalProperties": True, "properties": {
        "branch": {"type": "string", "enum": ["hoan_kiem", "ba_dinh", "cau_giay", "dong_da"],
                   "title": "Chi nhánh nhận thẻ", "x-title-en": "Branch to collect the card"},
        "note": {"type": "string", "maxLength": 200, "title": "Ghi chú", "x-title-en": "Note"}}},
}

# How the app lays out the card request's e-form (services/screens.py; checked against the form at load).
LIBRARY_CARD_UI: dict[str, Any] = {
    "sections": [{"id": "card", "title": {"vi": "Thẻ thư viện", "en": "Library card"}, "fields": ["branch", "note"]}],
    "fields": {
        "branch": {"widget": "select", "help": {"vi": "Nơi bạn nhận thẻ.", "en": "Where you collect the card."}},
        "note": {"widget": "textarea"},
    },
}

HELP_MARKDOWN_VI = """# Thẻ thư viện

Thẻ được cấp **miễn phí** trong một ngày làm việc. Mượn tối đa 5 cuốn, mỗi cuốn 14 ngày.

Hỏi đáp: [thuvien.example.vn](https://thuvien.example.vn) hoặc gọi [1900 0000](tel:19000000).
"""
HELP_MARKDOWN_EN = """# Library card

The card is issued **free of charge** within one working day. Borrow up to 5 books, 14 days each.

Questions: [thuvien.example.vn](https://thuvien.example.vn) or call [1900 0000](tel:19000000).
"""


class LibraryService(ServicePlugin):
    code = "public_library"
    name_vi = "Thư viện công cộng (ví dụ)"
    name_en = "Public library (example)"
    agency = LIBRARY_AGENCY
    agency_code = LIBRARY_AGENCY["code"]
    procedures = (LIBRARY_CARD_PROCEDURE,)
    procedure_codes = (LIBRARY_CARD_PROCEDURE["code"],)
    me_fields = MeLibrary
    types = (LibraryCard, LibraryLoan)
    # Its tiles in the app's service directory, and what each opens (no app release needed).
    tiles = (
        Tile(id="public_library.card", title_vi="Làm thẻ thư viện", title_en="Get a library card",
             icon="local_library", category="culture", screen=ScreenKind.FORM, target=LIBRARY_CARD_PROCEDURE["code"],
             keywords=("thư viện", "library")),
        Tile(id="public_library.loans", title_vi="Sách đang mượn", title_en="Borrowed books", icon="menu_book",
             category="culture", screen=ScreenKind.RECORD_LIST, target="libraryLoans"),
        Tile(id="public_library.help", title_vi="Hướng dẫn thư viện", title_en="Library help", icon="help",
             category="culture", screen=ScreenKind.HELP_PAGE, target="library_card_help"),
    )
    ui_schemas = {LIBRARY_CARD_PROCEDURE["code"]: LIBRARY_CARD_UI}
    record_lists = (RecordList(field="libraryLoans", operation="LibraryLoans", columns=(
        Column(field="title", label_vi="Tên sách", label_en="Title"),
        Column(field="dueDate", label_vi="Hạn trả", label_en="Due", format="date"),
        Column(field="renewed", label_vi="Đã gia hạn", label_en="Renewed", format="boolean"),
    ), empty_vi="Bạn không mượn cuốn sách nào.", empty_en="You have no borrowed books."),)
    help_pages = (HelpPage(id="library_card_help", title_vi="Thẻ thư viện", title_en="Library card",
                           markdown_vi=HELP_MARKDOWN_VI, markdown_en=HELP_MARKDOWN_EN),)
    # What the field adds to an operation's cost: computed here, it asks no agency (the default is 25).
    field_costs = {"libraryCard": 1, "libraryLoans": 1}
    default_base_url = "http://127.0.0.1:8105"  # the sandbox's port outside production
    # `sandbox` (ServicePlugin's default) builds the agency's stand-in with `create_sandbox` in sandbox.py.
