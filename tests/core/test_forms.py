"""E-forms: pre-fill from the citizen's profile, and typed per-field validation errors."""

from __future__ import annotations

from typing import Any

import pytest

from core.citizens import Profile
from core.errors import DomainError, ErrorCode, FieldError
from core.form_validation import MAX_ERRORS
from core.forms import complete_form, prefill, validate_form

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


@pytest.mark.parametrize("blank", ["", " ", "\t\n ", "\u3000"])
def test_a_blank_required_string_is_missing_and_only_that(blank: str) -> None:
    assert _codes({**VALID, "applicant_name": blank}) == [(ErrorCode.REQUIRED, "formData.applicant_name")]
    assert _codes({**VALID, "child": {"name": blank}}) == [(ErrorCode.REQUIRED, "formData.child.name")]


def test_a_blank_optional_string_is_still_checked_as_given() -> None:
    assert _codes({**VALID, "note": " "}) == [(ErrorCode.INVALID_LENGTH, "formData.note")]


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


# --- patterns are ECMA-262, as JSON Schema says --------------------------------------------------------------


ARABIC_INDIC_DIGITS = "".join(chr(0x0660 + i) for i in (0, 9, 1, 2, 3, 4, 5, 6, 7, 8))


@pytest.mark.parametrize("value", ["0912345678\n", "0912345678\r\n", ARABIC_INDIC_DIGITS])
def test_a_pattern_matches_the_whole_value(value: str) -> None:
    # Python's `$` matches before a trailing newline and `\d` takes other scripts' digits; ECMA's do not.
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "^[0-9]{10}$"},
                                               "b": {"type": "string", "pattern": "^\\d{10}$"}}}
    with pytest.raises(DomainError) as caught:
        validate_form(schema, {"a": value, "b": value})
    assert [(e.code, e.field) for e in caught.value.errors] == [(ErrorCode.INVALID_FORMAT, "formData.a"),
                                                               (ErrorCode.INVALID_FORMAT, "formData.b")]
    validate_form(schema, {"a": "0912345678", "b": "0912345678"})


def test_pattern_properties_use_the_same_rules() -> None:
    schema = {"type": "object", "patternProperties": {"^x$": {"type": "integer"}}}
    validate_form(schema, {"x\n": "not checked: the key is not x"})
    assert [(e.code, e.field) for e in _errors({"x": "a"}, schema)] == [(ErrorCode.INVALID_TYPE, "formData.x")]


# --- ID-number fields --------------------------------------------------------------------------------------

ID_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "partner_id_number": {"type": "string", "format": "id-number", "pattern": "^[0-9]{12}$",
                          "title": "Số định danh", "x-title-en": "ID number"}}}


@pytest.mark.parametrize(("value", "reason"), [
    ("001190002233\n", "12"),
    ("00119000223\n", "digits"),
    ("003190002233", "province"),
    ("001190000000", "serial"),
    ("001299002233", "future"),  # G = 2, YY = 99: born in 2099
    ("001490002233", "future"),  # G = 4: born in the 2100s
])
def test_id_number_fields_follow_the_id_number_rules(value: str, reason: str) -> None:
    [error] = _errors({"partner_id_number": value}, ID_SCHEMA)
    assert (error.code, error.field) == (ErrorCode.INVALID_ID_NUMBER, "formData.partner_id_number")
    assert reason in error.message_en
    assert error.message_vi != error.message_en


def test_a_valid_id_number_field_passes() -> None:
    validate_form(ID_SCHEMA, {"partner_id_number": "001190002233"})
    validate_form(ID_SCHEMA, {"partner_id_number": "079301123456"})


def test_seeded_id_number_fields_use_the_id_number_rules() -> None:
    from core.seed_data import PROCEDURES

    fields = {name: prop for p in PROCEDURES for name, prop in p["form_schema"]["properties"].items()
              if "id_number" in name}
    assert set(fields) == {"applicant_id_number", "partner_id_number"}
    assert all(prop["format"] == "id-number" for prop in fields.values())


# --- a hostile form cannot make a huge answer --------------------------------------------------------------


def test_the_error_list_is_capped_and_says_how_many_more() -> None:
    errors = _errors({**VALID, **{f"k{i:05d}": i for i in range(5_000)}})
    assert len(errors) == MAX_ERRORS + 1
    assert all(e.code is ErrorCode.UNKNOWN_FIELD for e in errors[:MAX_ERRORS])
    assert (errors[-1].code, errors[-1].field) == (ErrorCode.MORE_ERRORS, "formData")
    assert str(5_000 - MAX_ERRORS) in errors[-1].message_en
    assert str(5_000 - MAX_ERRORS) in errors[-1].message_vi


# --- complete_form: the one merge, pre-fill re-applied ----------------------------------------------------

STORED = {**VALID, "phone": "0912345678"}
IMPOSTOR = {"applicant_name": "Kẻ Mạo Danh", "applicant_id_number": "079301123456"}


def test_a_merge_cannot_change_read_only_fields() -> None:
    form = complete_form(SCHEMA, stored=STORED, changes={**IMPOSTOR, "copies": 3}, profile=Profile(PROFILE))
    assert form == {**STORED, "copies": 3}


def test_read_only_fields_the_profile_does_not_know_keep_the_stored_value_not_the_sent_one() -> None:
    form = complete_form(SCHEMA, stored=STORED, changes=IMPOSTOR, profile=Profile({}))
    assert form == STORED
    # On a new submission nothing is stored: the field is missing, whatever the app sent.
    with pytest.raises(DomainError) as caught:
        complete_form(SCHEMA, stored={}, changes={**IMPOSTOR, "copies": 1}, profile=Profile({"full_name": " "}))
    assert [(e.code, e.field) for e in caught.value.errors] == [
        (ErrorCode.REQUIRED, "formData.applicant_id_number"), (ErrorCode.REQUIRED, "formData.applicant_name")]


def test_a_read_only_field_an_unavailable_agency_would_fill_says_so() -> None:
    down = DomainError(ErrorCode.AGENCY_UNAVAILABLE, agency="Bộ Công an", agency_en="Ministry of Public Security")
    profile = Profile({"id_number": "001085123456", "full_name": ""}, unavailable={"full_name": down})
    with pytest.raises(DomainError) as caught:
        complete_form(SCHEMA, stored={}, changes={"copies": 1, "applicant_name": "Kẻ Mạo Danh"}, profile=profile)
    [error] = caught.value.errors
    assert (error.code, error.field) == (ErrorCode.AGENCY_UNAVAILABLE, "formData.applicant_name")
    assert "Ministry of Public Security" in error.message_en
    # A stored value needs no agency.
    assert complete_form(SCHEMA, stored=STORED, changes={"copies": 4}, profile=profile)["applicant_name"] == \
        STORED["applicant_name"]


def test_a_read_only_field_without_pre_fill_is_not_the_citizens_to_set_either() -> None:
    schema = {"type": "object", "properties": {**SCHEMA["properties"],
                                               "registered_at": {"type": "string", "readOnly": True}}}
    stored = {**STORED, "registered_at": "2026-01-01"}
    form = complete_form(schema, stored=stored, changes={"registered_at": "1999-01-01"}, profile=Profile(PROFILE))
    assert form["registered_at"] == "2026-01-01"
