"""E-forms: pre-fill from the citizen's profile, and typed per-field validation errors."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import DomainError, ErrorCode, FieldError
from core.forms import prefill, validate_form

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "applicant_name": {"type": "string", "title": "Họ và tên người nộp", "x-title-en": "Applicant's name",
                           "x-prefill": "full_name", "readOnly": True, "minLength": 1},
        "applicant_id_number": {"type": "string", "title": "Số định danh cá nhân", "x-title-en": "ID number",
                                "pattern": "^[0-9]{12}$", "x-prefill": "id_number", "readOnly": True},
        "phone": {"type": "string", "title": "Số điện thoại", "x-title-en": "Phone number",
                  "pattern": "^[0-9]{10}$", "x-prefill": "phone"},
        "email": {"type": "string", "title": "Thư điện tử", "x-title-en": "Email", "x-prefill": "email"},
        "copies": {"type": "integer", "minimum": 1, "maximum": 10, "title": "Số bản",
                   "x-title-en": "Number of copies"},
        "kind": {"type": "string", "enum": ["birth", "death"], "title": "Loại trích lục", "x-title-en": "Extract"},
        "note": {"type": "string", "minLength": 2, "maxLength": 5, "title": "Ghi chú", "x-title-en": "Note"},
        "visit_date": {"type": "string", "format": "date", "title": "Ngày hẹn", "x-title-en": "Visit date"},
        "nickname": {"type": "string"},
        "child": {
            "type": "object",
            "title": "Thông tin trẻ",
            "x-title-en": "Child",
            "properties": {
                "name": {"type": "string", "title": "Họ và tên trẻ", "x-title-en": "Child's name"},
                "birthDate": {"type": "string", "format": "date", "title": "Ngày sinh của trẻ",
                              "x-title-en": "Child's birth date"},
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["applicant_name", "applicant_id_number", "copies"],
    "additionalProperties": False,
}

VALID: dict[str, Any] = {
    "applicant_name": "Nguyễn Văn An",
    "applicant_id_number": "001085123456",
    "copies": 2,
}

PROFILE: dict[str, Any] = {
    "full_name": "Nguyễn Văn An",
    "id_number": "001085123456",
    "phone": "0912345678",
    "email": None,
}


# --- prefill ----------------------------------------------------------------------------------------------


def test_read_only_fields_are_always_taken_from_the_profile() -> None:
    form = {"applicant_name": "Kẻ Mạo Danh", "applicant_id_number": "079301123456", "copies": 1}
    filled = prefill(SCHEMA, form, PROFILE)
    assert filled["applicant_name"] == "Nguyễn Văn An"
    assert filled["applicant_id_number"] == "001085123456"


def test_editable_prefilled_fields_are_only_filled_when_missing() -> None:
    assert prefill(SCHEMA, {}, PROFILE)["phone"] == "0912345678"
    assert prefill(SCHEMA, {"phone": "0987654321"}, PROFILE)["phone"] == "0987654321"


def test_missing_profile_values_leave_the_form_alone() -> None:
    # email is None in the profile; "hometown" is not in it at all.
    schema = {"properties": {**SCHEMA["properties"],
                             "hometown": {"type": "string", "x-prefill": "hometown", "readOnly": True}}}
    assert "email" not in prefill(schema, {}, PROFILE)
    assert "hometown" not in prefill(schema, {}, PROFILE)
    assert prefill(schema, {"email": "an@example.vn"}, PROFILE)["email"] == "an@example.vn"
    # A read-only field whose profile value is unknown keeps what the citizen typed.
    assert prefill(schema, {"hometown": "Hà Nội"}, PROFILE)["hometown"] == "Hà Nội"


def test_prefill_touches_nothing_else_and_returns_a_copy() -> None:
    form = {"copies": 3, "nickname": "An", "kind": "birth"}
    filled = prefill(SCHEMA, form, {**PROFILE, "permanent_address": "Hà Nội"})
    assert filled == {"copies": 3, "nickname": "An", "kind": "birth", "applicant_name": "Nguyễn Văn An",
                      "applicant_id_number": "001085123456", "phone": "0912345678"}
    assert form == {"copies": 3, "nickname": "An", "kind": "birth"}


def test_prefill_with_a_schema_without_properties() -> None:
    assert prefill({"type": "object"}, {"a": 1}, PROFILE) == {"a": 1}


# --- validate_form ----------------------------------------------------------------------------------------


def _errors(form: dict[str, Any], schema: dict[str, Any] = SCHEMA) -> list[FieldError]:
    with pytest.raises(DomainError) as info:
        validate_form(schema, form)
    return list(info.value.errors)


def _codes(form: dict[str, Any]) -> list[tuple[ErrorCode, str | None]]:
    return [(e.code, e.field) for e in _errors(form)]


def test_a_valid_form_passes() -> None:
    validate_form(SCHEMA, VALID)
    validate_form(SCHEMA, {**VALID, "phone": "0912345678", "kind": "death", "note": "ok", "copies": 10,
                           "visit_date": "2026-02-28", "child": {"name": "Khôi", "birthDate": "2026-10-02"}})
    validate_form(SCHEMA, {**VALID, "copies": 1})


def test_required_fields() -> None:
    errors = _errors({"applicant_name": "An"})
    assert [(e.code, e.field) for e in errors] == [
        (ErrorCode.REQUIRED, "formData.applicant_id_number"),
        (ErrorCode.REQUIRED, "formData.copies"),
    ]
    copies = errors[1]
    assert "Số bản" in copies.message_vi
    assert "Number of copies" in copies.message_en
    assert "Số bản" not in copies.message_en


def test_invalid_type() -> None:
    errors = _errors({**VALID, "copies": "two"})
    assert [(e.code, e.field) for e in errors] == [(ErrorCode.INVALID_TYPE, "formData.copies")]
    assert "Số bản" in errors[0].message_vi
    assert "Number of copies" in errors[0].message_en


@pytest.mark.parametrize("copies", [2.5, True, None, [2]])
def test_non_integers_are_invalid_types(copies: object) -> None:
    assert _codes({**VALID, "copies": copies}) == [(ErrorCode.INVALID_TYPE, "formData.copies")]


@pytest.mark.parametrize("phone", ["12345", "091234567a", "+84912345678", "０９１２３４５６７８"])
def test_pattern_mismatch_is_invalid_format(phone: str) -> None:
    errors = _errors({**VALID, "phone": phone})
    assert [(e.code, e.field) for e in errors] == [(ErrorCode.INVALID_FORMAT, "formData.phone")]
    assert "Số điện thoại" in errors[0].message_vi
    assert "Phone number" in errors[0].message_en


@pytest.mark.parametrize("visit", ["2026-02-30", "02/10/2026", "2026-13-01", "20261002", "tomorrow"])
def test_date_format(visit: str) -> None:
    errors = _errors({**VALID, "visit_date": visit})
    assert [(e.code, e.field) for e in errors] == [(ErrorCode.INVALID_FORMAT, "formData.visit_date")]
    assert "Ngày hẹn" in errors[0].message_vi
    assert "Visit date" in errors[0].message_en


@pytest.mark.parametrize("copies", [0, -3, 11, 1000])
def test_out_of_range(copies: int) -> None:
    errors = _errors({**VALID, "copies": copies})
    assert [(e.code, e.field) for e in errors] == [(ErrorCode.OUT_OF_RANGE, "formData.copies")]
    assert "Số bản" in errors[0].message_vi
    assert "Number of copies" in errors[0].message_en


@pytest.mark.parametrize("kind", ["marriage", "Birth", ""])
def test_enum(kind: str) -> None:
    errors = _errors({**VALID, "kind": kind})
    assert [(e.code, e.field) for e in errors] == [(ErrorCode.NOT_ALLOWED_VALUE, "formData.kind")]
    assert "Loại trích lục" in errors[0].message_vi
    assert "Extract" in errors[0].message_en


def test_unknown_field() -> None:
    errors = _errors({**VALID, "favourite_colour": "blue"})
    assert [(e.code, e.field) for e in errors] == [(ErrorCode.UNKNOWN_FIELD, "formData.favourite_colour")]
    assert "favourite_colour" in errors[0].message_vi
    assert "favourite_colour" in errors[0].message_en


@pytest.mark.parametrize("note", ["a", "sáu ký"])
def test_length(note: str) -> None:
    errors = _errors({**VALID, "note": note})
    assert [(e.code, e.field) for e in errors] == [(ErrorCode.INVALID_LENGTH, "formData.note")]
    assert "Ghi chú" in errors[0].message_vi
    assert "Note" in errors[0].message_en


def test_empty_read_only_name_is_invalid_length() -> None:
    assert _codes({**VALID, "applicant_name": ""}) == [(ErrorCode.INVALID_LENGTH, "formData.applicant_name")]


def test_nested_paths_and_labels() -> None:
    errors = _errors({**VALID, "child": {"name": "Khôi", "birthDate": "2026-02-30"}})
    assert [(e.code, e.field) for e in errors] == [(ErrorCode.INVALID_FORMAT, "formData.child.birthDate")]
    assert "Ngày sinh của trẻ" in errors[0].message_vi
    assert "Child's birth date" in errors[0].message_en


def test_every_unknown_field_is_reported() -> None:
    errors = _errors({**VALID, "zeta": 1, "alpha": 2})
    assert [(e.code, e.field) for e in errors] == [(ErrorCode.UNKNOWN_FIELD, "formData.alpha"),
                                                  (ErrorCode.UNKNOWN_FIELD, "formData.zeta")]


def test_fields_inside_a_list_keep_their_labels() -> None:
    name = {"type": "string", "title": "Họ tên con", "x-title-en": "Child's name"}
    schema = {"type": "object", "properties": {"children": {"type": "array", "items": {
        "type": "object", "properties": {"name": name}}}}}
    with pytest.raises(DomainError) as caught:
        validate_form(schema, {"children": [{"name": "An"}, {"name": 7}]})
    [error] = caught.value.errors
    assert (error.code, error.field) == (ErrorCode.INVALID_TYPE, "formData.children.1.name")
    assert "Họ tên con" in error.message_vi
    assert "Child's name" in error.message_en


def test_nested_required_and_unknown_fields() -> None:
    assert _codes({**VALID, "child": {"birthDate": "2026-10-02"}}) == [
        (ErrorCode.REQUIRED, "formData.child.name")]
    assert _codes({**VALID, "child": {"name": "Khôi", "twin": True}}) == [
        (ErrorCode.UNKNOWN_FIELD, "formData.child.twin")]
    assert _codes({**VALID, "child": "Khôi"}) == [(ErrorCode.INVALID_TYPE, "formData.child")]


def test_a_field_without_a_title_is_named_by_its_key() -> None:
    errors = _errors({**VALID, "nickname": 5})
    assert [(e.code, e.field) for e in errors] == [(ErrorCode.INVALID_TYPE, "formData.nickname")]
    assert "nickname" in errors[0].message_vi
    assert "nickname" in errors[0].message_en


def test_a_title_without_an_english_title_is_used_in_both_languages() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "integer", "title": "Số lượng"}}}
    (error,) = _errors({"x": "many"}, schema)
    assert "Số lượng" in error.message_vi
    assert "Số lượng" in error.message_en


def test_several_errors_at_once_are_sorted_by_field() -> None:
    form = {
        "phone": "abc",
        "copies": 0,
        "kind": "marriage",
        "note": "far too long",
        "visit_date": "yesterday",
        "child": {"birthDate": "2026-02-30"},
        "zzz": 1,
    }
    with pytest.raises(DomainError) as info:
        validate_form(SCHEMA, form)
    error = info.value
    pairs = [(e.code, e.field) for e in error.errors]
    assert sorted(pairs, key=lambda p: p[1] or "") == pairs
    assert set(pairs) == {
        (ErrorCode.REQUIRED, "formData.applicant_id_number"),
        (ErrorCode.REQUIRED, "formData.applicant_name"),
        (ErrorCode.INVALID_FORMAT, "formData.child.birthDate"),
        (ErrorCode.REQUIRED, "formData.child.name"),
        (ErrorCode.OUT_OF_RANGE, "formData.copies"),
        (ErrorCode.NOT_ALLOWED_VALUE, "formData.kind"),
        (ErrorCode.INVALID_LENGTH, "formData.note"),
        (ErrorCode.INVALID_FORMAT, "formData.phone"),
        (ErrorCode.INVALID_FORMAT, "formData.visit_date"),
        (ErrorCode.UNKNOWN_FIELD, "formData.zzz"),
    }
    assert len(pairs) == 10
    # The error as a whole is named after its first field error.
    assert (error.code, error.field) == pairs[0]
    assert (error.message_vi, error.message_en) == (error.errors[0].message_vi, error.errors[0].message_en)
    for field_error in error.errors:
        assert field_error.message_vi
        assert field_error.message_en
        assert field_error.message_vi != field_error.message_en
