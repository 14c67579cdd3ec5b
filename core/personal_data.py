"""What kinds of personal data the schema exposes, with the labels a citizen reads in `myDataAccessLog`.

A field marked `@personal(data: [...])` names kinds from `KINDS`; a change recorded in the audit trail names
the coordinates it wrote (`CHANGED`). A kind nobody listed here is shown as "other personal data", so a
plug-in that invents one is still audited and still shown, only less precisely.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# kind -> (Vietnamese, English), in the order a log entry lists them.
KINDS: dict[str, tuple[str, str]] = {
    "id_number": ("Số định danh cá nhân", "Personal ID number"),
    "name": ("Họ và tên", "Full name"),
    "birth_date": ("Ngày sinh", "Date of birth"),
    "sex": ("Giới tính", "Sex"),
    "hometown": ("Quê quán", "Hometown"),
    "address": ("Địa chỉ thường trú", "Permanent address"),
    "phone": ("Số điện thoại", "Phone number"),
    "email": ("Thư điện tử", "Email"),
    "population_record": ("Thông tin trong Cơ sở dữ liệu quốc gia về dân cư", "National population record"),
    "health_insurance": ("Thẻ bảo hiểm y tế", "Health-insurance card"),
    "traffic_fines": ("Vi phạm giao thông (phạt nguội)", "Traffic fines"),
    "civil_status": ("Hồ sơ hộ tịch (đăng ký khai sinh)", "Civil status (birth registrations)"),
    "documents": ("Giấy tờ trong ví điện tử", "Documents in the wallet"),
    "dossier": ("Nội dung hồ sơ thủ tục", "Dossier form answers"),
    "dossiers": ("Danh sách hồ sơ và tình trạng xử lý", "Your dossiers and their statuses"),
    "drafts": ("Hồ sơ đang soạn (bản nháp)", "Draft dossiers"),
    "devices": ("Thiết bị nhận thông báo", "Devices receiving notifications"),
    "memberships": ("Thẻ thành viên (thư viện, ...)", "Membership cards (library, ...)"),
}
OTHER = ("Dữ liệu cá nhân khác", "Other personal data")

# Coordinates a change writes that are not fields of the schema, and their kinds.
CHANGED: dict[str, tuple[str, ...]] = {
    "Dossier.status": ("dossier",),
    "Draft.fields": ("drafts",),
    "Device.token": ("devices",),
}


def labels(fields: Iterable[str], kinds_of: Mapping[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    """The distinct (vi, en) labels of the kinds behind `fields`, in `KINDS` order, unknown ones last."""
    kinds: set[str] = set()
    for coordinate in fields:
        kinds.update(kinds_of.get(coordinate) or CHANGED.get(coordinate) or ("other",))
    known = [KINDS[k] for k in KINDS if k in kinds]
    return known + ([OTHER] if kinds - KINDS.keys() else [])

# Why the data was read or changed -> (Vietnamese, English).
PURPOSES: dict[str, tuple[str, str]] = {
    "self_service": ("Bạn xem hoặc sử dụng dữ liệu của mình trong ứng dụng", "You viewing or using your own data in "
                     "the app"),
    "dossier_processing": ("Giải quyết hồ sơ thủ tục hành chính", "Processing your dossier"),
}

# Who -> (Vietnamese, English); an agency's own name replaces its label when the trail names one.
ACTORS: dict[str, tuple[str, str]] = {
    "citizen": ("Bạn", "You"),
    "officer": ("Cán bộ", "Officer"),
    "agency": ("Cơ quan", "Agency"),
    "system": ("Hệ thống", "System"),
}
