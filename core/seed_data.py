"""Demo data: agencies, a procedure catalogue and citizens. Real-looking, entirely fictitious people."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

AGENCIES: list[dict[str, str]] = [
    {"code": "000.00.00.G12", "name_vi": "Bộ Tư pháp", "name_en": "Ministry of Justice"},
    {"code": "000.00.00.G09", "name_vi": "Bộ Công an", "name_en": "Ministry of Public Security"},
    {"code": "000.00.00.G22", "name_vi": "Bảo hiểm xã hội Việt Nam", "name_en": "Vietnam Social Security"},
    {"code": "000.00.15.H29", "name_vi": "Sở Tư pháp TP. Hồ Chí Minh",
     "name_en": "Ho Chi Minh City Department of Justice"},
    {"code": "000.00.13.H26", "name_vi": "Sở Xây dựng Hà Nội", "name_en": "Hanoi Department of Construction"},
    {"code": "000.20.31.H26", "name_vi": "UBND phường Phúc Xá, Hà Nội",
     "name_en": "Phuc Xa Ward People's Committee, Hanoi"},
]

_APPLICANT: dict[str, Any] = {
    "applicant_name": {"type": "string", "title": "Họ và tên người nộp", "x-title-en": "Applicant's full name",
                       "x-prefill": "full_name", "readOnly": True, "minLength": 1},
    "applicant_id_number": {"type": "string", "title": "Số định danh cá nhân",
                            "x-title-en": "Personal identification number", "pattern": "^[0-9]{12}$",
                            "format": "id-number", "x-prefill": "id_number", "readOnly": True},
    "phone": {"type": "string", "title": "Số điện thoại", "x-title-en": "Phone number",
              "pattern": "^\\+?[0-9]{9,12}$", "x-prefill": "phone"},
}


def _form(fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {**_APPLICANT, **fields},
        "required": ["applicant_name", "applicant_id_number", *required],
        "additionalProperties": False,
    }


def _text(title: str, title_en: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "title": title, "x-title-en": title_en, "minLength": 1, "maxLength": 200, **extra}


def _date(title: str, title_en: str) -> dict[str, Any]:
    return {"type": "string", "format": "date", "title": title, "x-title-en": title_en}


def _fee(kind: str, amount_vnd: int, description_vi: str, description_en: str) -> dict[str, Any]:
    """One fee (lệ phí, `fee`) or charge (phí, `charge`) of a procedure; a procedure's add up to its fee_vnd."""
    return {"kind": kind, "amount_vnd": amount_vnd, "description_vi": description_vi,
            "description_en": description_en}


_SEX = {"type": "string", "enum": ["male", "female"], "title": "Giới tính", "x-title-en": "Sex"}

PROCEDURES: list[dict[str, Any]] = [
    {"code": "1.001193", "agency": "000.20.31.H26", "name_vi": "Đăng ký khai sinh",
     "name_en": "Birth registration", "online_level": "full", "processing_days": 1, "fee_vnd": 0,
     "form_schema": _form({"child_name": _text("Họ và tên trẻ", "Child's full name"),
                           "child_birth_date": _date("Ngày sinh của trẻ", "Child's birth date"),
                           "child_sex": _SEX,
                           "place_of_birth": _text("Nơi sinh", "Place of birth"),
                           "mother_name": _text("Họ và tên mẹ", "Mother's full name"),
                           "father_name": _text("Họ và tên cha", "Father's full name")},
                          ["child_name", "child_birth_date", "child_sex", "place_of_birth", "mother_name"]),
     "sample": {"child_name": "Nguyễn Minh Khôi", "child_birth_date": "2026-10-02", "child_sex": "male",
                "place_of_birth": "Bệnh viện Phụ sản Hà Nội", "mother_name": "Phạm Thị Hoa"}},
    # Interconnected (liên thông): the ward receives one dossier and the parts go to three agencies.
    {"code": "LT.KS-TT-BHYT", "agency": "000.20.31.H26",
     "name_vi": "Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ BHYT cho trẻ em dưới 6 tuổi",
     "name_en": "Interconnected: birth registration, permanent residence and health-insurance card for a "
                "child under 6",
     "online_level": "full", "processing_days": 5, "fee_vnd": 0,
     "form_schema": {**_form({"child_name": _text("Họ và tên trẻ", "Child's full name"),
                              "child_birth_date": _date("Ngày sinh của trẻ", "Child's birth date"),
                              "child_sex": _SEX,
                              "place_of_birth": _text("Nơi sinh", "Place of birth"),
                              "mother_name": _text("Họ và tên mẹ", "Mother's full name"),
                              "father_name": _text("Họ và tên cha", "Father's full name"),
                              "new_address": {**_text("Địa chỉ đăng ký thường trú của trẻ",
                                                      "Child's permanent address"),
                                              "x-prefill": "permanent_address"},
                              "clinic": _text("Nơi đăng ký khám chữa bệnh ban đầu", "Registered clinic")},
                             ["child_name", "child_birth_date", "child_sex", "place_of_birth", "mother_name",
                              "new_address", "clinic"]),
                     "x-parts": ["1.001193", "1.004194", "1.001612"]},
     "sample": {"child_name": "Nguyễn Minh Khôi", "child_birth_date": "2026-10-02", "child_sex": "male",
                "place_of_birth": "Bệnh viện Phụ sản Hà Nội", "mother_name": "Phạm Thị Hoa",
                "clinic": "Bệnh viện Nhi Trung ương"}},
    {"code": "1.000894", "agency": "000.20.31.H26", "name_vi": "Đăng ký kết hôn",
     "name_en": "Marriage registration", "online_level": "partial", "processing_days": 5, "fee_vnd": 0,
     "form_schema": _form({"partner_name": _text("Họ và tên người kết hôn", "Partner's full name"),
                           "partner_id_number": _text("Số định danh của người kết hôn",
                                                      "Partner's identification number",
                                                      pattern="^[0-9]{12}$", format="id-number"),
                           "partner_birth_date": _date("Ngày sinh người kết hôn", "Partner's birth date")},
                          ["partner_name", "partner_id_number", "partner_birth_date"]),
     "sample": {"partner_name": "Phạm Thị Hoa", "partner_id_number": "001190002233",
                "partner_birth_date": "1990-05-20"}},
    {"code": "1.001022", "agency": "000.20.31.H26", "name_vi": "Đăng ký khai tử",
     "name_en": "Death registration", "online_level": "full", "processing_days": 1, "fee_vnd": 0,
     "form_schema": _form({"deceased_name": _text("Họ và tên người chết", "Deceased's full name"),
                           "date_of_death": _date("Ngày chết", "Date of death"),
                           "relationship": _text("Quan hệ với người chết", "Relationship to the deceased")},
                          ["deceased_name", "date_of_death", "relationship"]),
     "sample": {"deceased_name": "Nguyễn Văn Tư", "date_of_death": "2026-09-01", "relationship": "con"}},
    {"code": "1.004222", "agency": "000.00.15.H29", "name_vi": "Cấp Phiếu lý lịch tư pháp",
     "name_en": "Criminal record certificate", "online_level": "full", "processing_days": 10,
     "fee_vnd": 200000,
     "fees": [_fee("charge", 200000, "Phí cung cấp thông tin lý lịch tư pháp",
                   "Charge for criminal record information")],
     "form_schema": _form({"purpose": _text("Mục đích sử dụng", "Purpose"),
                           "copies": {"type": "integer", "minimum": 1, "maximum": 10, "title": "Số bản",
                                      "x-title-en": "Number of copies"}},
                          ["purpose", "copies"]),
     "sample": {"purpose": "Bổ sung hồ sơ xin việc", "copies": 2}},
    {"code": "1.004194", "agency": "000.00.00.G09", "name_vi": "Đăng ký thường trú",
     "name_en": "Permanent residence registration", "online_level": "full", "processing_days": 7,
     "fee_vnd": 20000,
     "fees": [_fee("fee", 20000, "Lệ phí đăng ký thường trú",
                   "Permanent residence registration fee")],
     "form_schema": _form({"new_address": _text("Địa chỉ đăng ký thường trú", "Address to register"),
                           "reason": _text("Lý do", "Reason")}, ["new_address"]),
     "sample": {"new_address": "Số 12 ngõ 34 phố Phúc Xá, Ba Đình, Hà Nội", "reason": "Chuyển nơi ở"}},
    {"code": "1.004206", "agency": "000.00.00.G09", "name_vi": "Đăng ký tạm trú",
     "name_en": "Temporary residence registration", "online_level": "full", "processing_days": 3,
     "fee_vnd": 15000,
     "fees": [_fee("fee", 15000, "Lệ phí đăng ký tạm trú",
                   "Temporary residence registration fee")],
     "form_schema": _form({"address": _text("Địa chỉ tạm trú", "Temporary address"),
                           "until": _date("Tạm trú đến ngày", "Staying until")}, ["address", "until"]),
     "sample": {"address": "Phòng 302, 5 Lê Lợi, Quận 1, TP. Hồ Chí Minh", "until": "2027-06-30"}},
    {"code": "2.000986", "agency": "000.00.00.G09", "name_vi": "Cấp hộ chiếu phổ thông",
     "name_en": "Ordinary passport issuance", "online_level": "full", "processing_days": 8,
     "fee_vnd": 200000,
     "fees": [_fee("fee", 160000, "Lệ phí cấp hộ chiếu",
                   "Passport issuance fee"),
              _fee("charge", 40000, "Phí chuyển phát hộ chiếu qua bưu điện",
                   "Charge for delivering the passport by post")],
     "form_schema": _form({"delivery": {"type": "string", "enum": ["post", "counter"],
                                        "title": "Hình thức nhận", "x-title-en": "Delivery"}}, ["delivery"]),
     "sample": {"delivery": "post"}},
    {"code": "1.001612", "agency": "000.00.00.G22", "name_vi": "Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
     "name_en": "Health-insurance card for a child under 6", "online_level": "full", "processing_days": 5,
     "fee_vnd": 0,
     "form_schema": _form({"child_name": _text("Họ và tên trẻ", "Child's full name"),
                           "child_birth_date": _date("Ngày sinh của trẻ", "Child's birth date"),
                           "clinic": _text("Nơi đăng ký khám chữa bệnh ban đầu", "Registered clinic"),
                           # Reuse instead of a certified copy: the child's birth certificate from the wallet.
                           "birth_certificate": {"type": "string", "minLength": 1, "maxLength": 64,
                                                 "title": "Giấy khai sinh của trẻ (từ ví giấy tờ)",
                                                 "x-title-en": "Child's birth certificate (from the wallet)",
                                                 "x-document-kind": "birth_certificate"}},
                          ["child_name", "child_birth_date", "clinic"]),
     "sample": {"child_name": "Nguyễn Minh Khôi", "child_birth_date": "2026-10-02",
                "clinic": "Bệnh viện Nhi Trung ương"}},
    {"code": "1.000045", "agency": "000.00.00.G22", "name_vi": "Cấp lại thẻ bảo hiểm y tế do bị mất, hỏng",
     "name_en": "Reissue of a lost or damaged health-insurance card", "online_level": "full",
     "processing_days": 3, "fee_vnd": 0,
     "form_schema": _form({"card_number": _text("Mã số BHXH", "Social-insurance number",
                                                pattern="^[0-9]{10}$")}, ["card_number"]),
     "sample": {"card_number": "0123456789"}},
    {"code": "1.002809", "agency": "000.00.13.H26", "name_vi": "Cấp đổi giấy phép lái xe",
     "name_en": "Driving licence renewal", "online_level": "partial", "processing_days": 5, "fee_vnd": 135000,
     "fees": [_fee("fee", 135000, "Lệ phí cấp đổi giấy phép lái xe",
                   "Driving licence renewal fee")],
     "form_schema": _form({"licence_number": _text("Số giấy phép lái xe", "Licence number",
                                                   pattern="^[0-9]{12}$"),
                           "licence_class": {"type": "string", "enum": ["A1", "A", "B", "C1", "C", "D"],
                                             "title": "Hạng", "x-title-en": "Class"}},
                          ["licence_number", "licence_class"]),
     "sample": {"licence_number": "010123456789", "licence_class": "B"}},
    {"code": "1.003583", "agency": "000.20.31.H26", "name_vi": "Chứng thực bản sao từ bản chính",
     "name_en": "Certified copy from the original", "online_level": "partial", "processing_days": 1,
     "fee_vnd": 2000,
     "fees": [_fee("charge", 2000, "Phí chứng thực bản sao (mỗi trang)",
                   "Certification charge (per page)")],
     "form_schema": _form({"document_name": _text("Tên giấy tờ", "Document"),
                           "pages": {"type": "integer", "minimum": 1, "maximum": 200, "title": "Số trang",
                                     "x-title-en": "Pages"}}, ["document_name", "pages"]),
     "sample": {"document_name": "Bằng tốt nghiệp đại học", "pages": 1}},
    {"code": "1.010729", "agency": "000.00.00.G12", "name_vi": "Cấp bản sao trích lục hộ tịch",
     "name_en": "Copy of a civil-status extract", "online_level": "full", "processing_days": 2,
     "fee_vnd": 8000,
     "fees": [_fee("charge", 8000, "Phí cấp bản sao trích lục hộ tịch",
                   "Charge for a civil-status extract copy")],
     "form_schema": _form({"extract_kind": {"type": "string", "enum": ["birth", "marriage", "death"],
                                            "title": "Loại trích lục", "x-title-en": "Extract"},
                           "copies": {"type": "integer", "minimum": 1, "maximum": 10, "title": "Số bản",
                                      "x-title-en": "Number of copies"}}, ["extract_kind", "copies"]),
     "sample": {"extract_kind": "birth", "copies": 1}},
]

CITIZENS: list[dict[str, Any]] = [
    {"id_number": "001085012345", "full_name": "Nguyễn Văn An", "birth_date": "1985-03-12", "sex": "male",
     "hometown": "Xã Đông Ngạc, Từ Liêm, Hà Nội",
     "permanent_address": "Số 12 ngõ 34 phố Phúc Xá, Ba Đình, Hà Nội", "phone": "0912345678",
     "email": "an.nguyen@example.vn"},
    {"id_number": "040192004567", "full_name": "Trần Thị Bình", "birth_date": "1992-07-01", "sex": "female",
     "hometown": "Xã Nghi Lộc, Nghệ An", "permanent_address": "Xóm 3, xã Nghi Lộc, Nghệ An",
     "phone": "0987654321", "email": None},
    {"id_number": "079301123456", "full_name": "Lê Minh Châu", "birth_date": "2001-11-20", "sex": "female",
     "hometown": "Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
     "permanent_address": "5 Lê Lợi, Quận 1, TP. Hồ Chí Minh", "phone": None, "email": "chau.le@example.vn"},
    {"id_number": "002078000321", "full_name": "Giàng A Páo", "birth_date": "1978-02-14", "sex": "male",
     "hometown": "Xã Lũng Cú, Đồng Văn, Hà Giang", "permanent_address": "Thôn Lô Lô Chải, xã Lũng Cú, Hà Giang",
     "phone": "0211000111", "email": None},
]

# The returned demo dossier is received at a fixed time, so its code is the same in every demo database:
# `mobile_contract/operations/DossierDetail.variables.json` names it, and pasting that file works.
RETURNED_DEMO_RECEIVED_AT = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
RETURNED_DEMO_DOSSIER_CODE = "000.20.31.H26-261001-0001"

# How the demo citizen's dossiers reach every national status: (procedure code, statuses after submission,
# days ago submitted; a returned dossier is received at RETURNED_DEMO_RECEIVED_AT instead).
DEMO_DOSSIERS: list[tuple[str, list[str], int]] = [
    ("1.004206", [], 0),
    ("1.004194", ["accepted"], 2),
    ("1.002809", ["not_accepted"], 9),
    ("1.004222", ["accepted", "processing"], 30),
    ("1.000894", ["accepted", "processing", "supplement_requested"], 6),
    ("2.000986", ["accepted", "processing", "payment_requested"], 4),
    ("1.003583", ["accepted", "withdrawal_requested"], 12),
    ("1.010729", ["accepted", "processing", "processing_stopped"], 20),
    ("1.000045", ["accepted", "processing", "processed"], 5),
    ("1.001193", ["accepted", "processing", "processed", "returned"], 40),
]

# The home screen (core/home_layout.py): the demo layout and the frequent services of new or anonymous callers.
HOME_SECTION_ORDER = ["ACTION_NEEDED", "WALLET", "ANNOUNCEMENTS", "FREQUENT_SERVICES"]
HOME_DEFAULT_SERVICES = ["1.001193", "1.004206", "2.000986", "1.004222"]
# Demo announcements, valid from a day before the seed for `days` days; `key` makes re-seeding idempotent.
DEMO_ANNOUNCEMENTS: list[dict[str, Any]] = [
    {"key": "nationwide-passport", "agency_code": "000.00.00.G09", "provinces": [], "priority": 50, "days": 60,
     "title_vi": "Cấp hộ chiếu gắn chip trực tuyến",
     "title_en": "Chip passports can be applied for online",
     "body_vi": "Công dân có thể nộp hồ sơ cấp hộ chiếu phổ thông gắn chip trên ứng dụng và nhận kết quả qua "
                "bưu điện.",
     "body_en": "Citizens can apply for an ordinary chip passport in the app and receive it by post."},
    {"key": "hanoi-residence", "agency_code": "000.00.13.H26", "provinces": ["001"], "priority": 20, "days": 30,
     "title_vi": "Hà Nội: tạm dừng tiếp nhận trực tiếp ngày 20/12",
     "title_en": "Hà Nội: no counter service on 20 December",
     "body_vi": "Bộ phận một cửa tạm dừng tiếp nhận trực tiếp để bảo trì hệ thống; hồ sơ trực tuyến vẫn được "
                "tiếp nhận bình thường.",
     "body_en": "The one-stop counter is closed for system maintenance; online dossiers are received as usual."},
    {"key": "hcmc-judicial-record", "agency_code": "000.00.15.H29", "provinces": ["079"], "priority": 10, "days": 30,
     "title_vi": "TP. Hồ Chí Minh: phiếu lý lịch tư pháp trên ứng dụng",
     "title_en": "Ho Chi Minh City: judicial records in the app",
     "body_vi": "Sở Tư pháp nhận hồ sơ cấp Phiếu lý lịch tư pháp trực tuyến, không cần bản sao giấy tờ.",
     "body_en": "The Department of Justice takes judicial record applications online, with no certified copies."},
]
# Feature flags of the service directory as the demo starts (core/feature_flags.py): flag -> provinces.
DEMO_FLAGS: dict[str, tuple[str, ...]] = {"interconnected_birth": ("001",)}
