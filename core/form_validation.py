"""Validating an e-form against its procedure's JSON Schema, as typed per-field errors.

Three keywords are the schema's meaning rather than the `jsonschema` library's defaults:
- `pattern` is ECMA-262, as JSON Schema says: `$` ends the input (Python's `$` also matches before a
  trailing newline, which let `"001190002233\\n"` through) and `\\d` is 0-9 (Python's also takes other
  scripts' digits);
- `required`: a blank (empty or whitespace-only) string is as missing as an absent one;
- `format: "id-number"` applies the ID-number rules of `core/id_numbers.py`, not just a shape.
Every violation becomes one `FieldError` whose `field` is the dotted path under `formData`; the list is
cut at `MAX_ERRORS` so a hostile form cannot make a huge answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

from core.clock import utc_now
from core.errors import DomainError, ErrorCode, FieldError
from core.id_numbers import check_id_number
from core.text import ascii_digits

MAX_ERRORS = 50

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


@lru_cache(maxsize=256)
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """Compile a JSON Schema (ECMA-262) pattern with ECMA's meaning of `$` and `\\d` in Python's `re`."""
    out: list[str] = []
    in_class, i = False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            if escaped == "d":
                out.append("0-9" if in_class else "[0-9]")
            elif escaped == "D" and not in_class:
                out.append("[^0-9]")
            else:
                out.append(char + escaped)
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
        i += 1
    return re.compile("".join(out))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Mapping[str, Any], instance: Any,
                        schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if ecma_regex(pattern).search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _required(validator: Any, required: list[str], instance: Any,
              schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for name in required:
        value = instance.get(name)
        if name not in instance or (isinstance(value, str) and not value.strip()):
            error = ValidationError(f"{name!r} is a required property")
            error.relative_path.append(name)  # the missing field itself, not its parent
            yield error


_FORMATS = FormatChecker()


@_FORMATS.checks("id-number", raises=DomainError)
def _id_number(instance: object) -> bool:
    if isinstance(instance, str):
        check_id_number(instance, this_year=utc_now().year)
    return True


_Validator = validators.extend(  # type: ignore[no-untyped-call]  # jsonschema's stubs leave extend untyped
    Draft202012Validator, {"pattern": _pattern, "patternProperties": _pattern_properties, "required": _required})


def _label(schema: Mapping[str, Any], path: list[str]) -> tuple[str, str]:
    node: Mapping[str, Any] = schema
    for part in path:
        items = node.get("items")
        node = items if ascii_digits(part) and isinstance(items, Mapping) else node.get("properties", {}).get(part, {})
    name = path[-1] if path else "formData"
    return str(node.get("title", name)), str(node.get("x-title-en", node.get("title", name)))


def _field_errors(schema: Mapping[str, Any], error: ValidationError) -> list[FieldError]:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        declared = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        return [_field_error(schema, error, [*path, str(name)]) for name in sorted(set(instance) - set(declared))]
    return [_field_error(schema, error, path)]


def _field_error(schema: Mapping[str, Any], error: ValidationError, path: list[str]) -> FieldError:
    field = ".".join(["formData", *path])
    if error.validator == "format" and isinstance(error.cause, DomainError):
        return FieldError.of(error.cause.code, field, **error.cause.params)
    code = _CODES.get(str(error.validator), ErrorCode.INVALID_VALUE)
    label, label_en = _label(schema, path)
    params: dict[str, Any] = {"label": label, "label_en": label_en}
    if code is ErrorCode.INVALID_TYPE:
        expected = error.validator_value if isinstance(error.validator_value, str) else "string"
        params["expected"], params["expected_en"] = _TYPE_NAMES.get(expected, (expected, expected))
    return FieldError.of(code, field, **params)


# When one field breaks several rules, the one message the citizen most needs (the others follow from it).
_FIRST = (ErrorCode.REQUIRED, ErrorCode.INVALID_TYPE, ErrorCode.INVALID_ID_NUMBER)


def _rank(error: FieldError) -> tuple[int, str]:
    return (_FIRST.index(error.code) if error.code in _FIRST else len(_FIRST), error.code.value)


def validate_form(schema: Mapping[str, Any], form: Mapping[str, Any]) -> None:
    """Raise one DomainError carrying at most one error per field (a blank required field is REQUIRED,
    not also too short), in a stable order (by field path), at most `MAX_ERRORS` of them and then one
    MORE_ERRORS saying how many were left out."""
    per_field: dict[str, FieldError] = {}
    for problem in _Validator(schema, format_checker=_FORMATS).iter_errors(form):
        for error in _field_errors(schema, problem):
            known = per_field.get(error.field or "")
            if known is None or _rank(error) < _rank(known):
                per_field[error.field or ""] = error
    errors = [per_field[field] for field in sorted(per_field)]
    if not errors:
        return
    if len(errors) > MAX_ERRORS:
        more = FieldError.of(ErrorCode.MORE_ERRORS, "formData", more=len(errors) - MAX_ERRORS)
        errors = [*errors[:MAX_ERRORS], more]
    raise DomainError.from_fields(errors)
