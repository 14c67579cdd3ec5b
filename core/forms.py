"""E-forms: pre-fill from the citizen's profile, then validate against the procedure's JSON Schema.

A property may carry `x-prefill` naming a profile field. Identity fields marked `readOnly` are always
taken from the profile (a citizen cannot file in someone else's name); other pre-filled fields are only
filled when the citizen left them out. Every schema violation becomes one typed `FieldError` whose
`field` is the dotted path under `formData`, so the app can put the message under the right input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from core.errors import DomainError, ErrorCode, FieldError
from core.text import ascii_digits

_CODES: dict[str, ErrorCode] = {
    "required": ErrorCode.REQUIRED,
    "type": ErrorCode.INVALID_TYPE,
    "format": ErrorCode.INVALID_FORMAT,
    "pattern": ErrorCode.INVALID_FORMAT,
    "minLength": ErrorCode.INVALID_LENGTH,
    "maxLength": ErrorCode.INVALID_LENGTH,
    "minItems": ErrorCode.INVALID_LENGTH,
    "maxItems": ErrorCode.INVALID_LENGTH,
    "minimum": ErrorCode.OUT_OF_RANGE,
    "maximum": ErrorCode.OUT_OF_RANGE,
    "exclusiveMinimum": ErrorCode.OUT_OF_RANGE,
    "exclusiveMaximum": ErrorCode.OUT_OF_RANGE,
    "enum": ErrorCode.NOT_ALLOWED_VALUE,
    "const": ErrorCode.NOT_ALLOWED_VALUE,
    "additionalProperties": ErrorCode.UNKNOWN_FIELD,
}

_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "string": ("chuỗi ký tự", "text"),
    "integer": ("số nguyên", "a whole number"),
    "number": ("số", "a number"),
    "boolean": ("đúng/sai", "true or false"),
    "object": ("một nhóm trường", "a group of fields"),
    "array": ("một danh sách", "a list"),
}


def prefill(schema: Mapping[str, Any], form: Mapping[str, Any], profile: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of `form` with profile values put where the schema asks for them."""
    result = dict(form)
    for name, prop in schema.get("properties", {}).items():
        source = prop.get("x-prefill")
        if source is None:
            continue
        value = profile.get(source)
        if value is None:
            continue
        if prop.get("readOnly") or name not in result:
            result[name] = value
    return result


def _label(schema: Mapping[str, Any], path: list[str]) -> tuple[str, str]:
    node: Mapping[str, Any] = schema
    for part in path:
        items = node.get("items")
        node = items if ascii_digits(part) and isinstance(items, Mapping) else node.get("properties", {}).get(part, {})
    name = path[-1] if path else "formData"
    return str(node.get("title", name)), str(node.get("x-title-en", node.get("title", name)))


def _field_errors(schema: Mapping[str, Any], error: ValidationError) -> list[FieldError]:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        return [_field_error(schema, error, [*path, str(error.message.split("'")[1])])]
    if error.validator == "additionalProperties":
        declared = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        return [_field_error(schema, error, [*path, str(name)]) for name in sorted(set(instance) - set(declared))]
    return [_field_error(schema, error, path)]


def _field_error(schema: Mapping[str, Any], error: ValidationError, path: list[str]) -> FieldError:
    code = _CODES.get(str(error.validator), ErrorCode.INVALID_VALUE)
    label, label_en = _label(schema, path)
    params: dict[str, Any] = {"label": label, "label_en": label_en}
    if code is ErrorCode.INVALID_TYPE:
        expected = error.validator_value if isinstance(error.validator_value, str) else "string"
        params["expected"], params["expected_en"] = _TYPE_NAMES.get(expected, (expected, expected))
    return FieldError.of(code, ".".join(["formData", *path]), **params)


def validate_form(schema: Mapping[str, Any], form: Mapping[str, Any]) -> None:
    """Raise one DomainError carrying every field error, in a stable order (by field path)."""
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = [f for e in validator.iter_errors(form) for f in _field_errors(schema, e)]
    if errors:
        errors.sort(key=lambda e: (e.field or "", e.code))
        raise DomainError.from_fields(errors)
