"""What a service shows on the app's home screen: its tiles, and the screen each tile opens.

A super-app reaches citizens with a new service without an app release only if the app learns from the
server that the service exists, where to show it, for whom, and how to draw what it opens. A plug-in says
so as data (`ServicePlugin.tiles`), checked at load like the rest of the plug-in; the app knows a small,
versioned set of screen kinds (`ScreenKind`) and a fixed icon set (`ICONS`), so a tile never needs code in
the app.

Provinces are the three-digit codes of `core.id_numbers.PROVINCE_CODES` (001 Hà Nội, 079 Hồ Chí Minh, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ScreenKind(StrEnum):
    """The screens the app knows how to draw; `target` of a tile means something per kind."""

    FORM = "form"  # target: a procedure code; the app draws its e-form (JSON Schema + UI schema)
    RECORD_LIST = "record_list"  # target: a field of `Me` the service adds (e.g. "trafficFines")
    DOCUMENT_VIEWER = "document_viewer"  # target: a wallet document kind (e.g. "birth_certificate")
    HELP_PAGE = "help_page"  # target: a help page id the service declares


# The icon names the app ships (Material Symbols names); a tile naming another is refused at load.
ICONS: frozenset[str] = frozenset({
    "badge", "child_care", "family_restroom", "favorite", "home", "health_and_safety", "local_hospital",
    "directions_car", "receipt_long", "gavel", "school", "work", "account_balance", "description",
    "menu_book", "local_library", "help", "info", "payments", "verified", "elderly", "agriculture",
    "storefront", "apartment", "local_police", "volunteer_activism",
})

# Categories of the directory, in display order, with their vi/en titles.
CATEGORIES: dict[str, tuple[str, str]] = {
    "civil_status": ("Hộ tịch", "Civil status"),
    "residence": ("Cư trú", "Residence"),
    "health": ("Y tế và bảo hiểm", "Health and insurance"),
    "transport": ("Giao thông", "Transport"),
    "education": ("Giáo dục", "Education"),
    "culture": ("Văn hóa", "Culture"),
    "land": ("Đất đai và nhà ở", "Land and housing"),
    "business": ("Doanh nghiệp", "Business"),
    "other": ("Dịch vụ khác", "Other services"),
}


@dataclass(frozen=True)
class Tile:
    """One entry of the service directory.

    `id` is unique across all services ("<service code>.<name>"); `provinces` empty means nationwide;
    `min_age`/`max_age` (whole years, inclusive) narrow it to citizens of that age (a tile with an age
    condition is hidden from anonymous callers); `flag` names a feature flag that must be on for the
    caller's province and app version; `keywords` add search words beyond the titles.
    """

    id: str
    title_vi: str
    title_en: str
    icon: str
    category: str
    screen: ScreenKind
    target: str
    provinces: tuple[str, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    flag: str | None = None
    keywords: tuple[str, ...] = ()
    order: int = 100
