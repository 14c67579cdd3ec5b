"""Form size limits: checked before validation, the same on SQLite and PostgreSQL (pure code, no database)."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import DomainError, ErrorCode
from core.form_limits import MAX_DEPTH, MAX_KEY, MAX_STRING, MAX_VALUES, check_form_size


def _problem(form: dict[str, Any]) -> tuple[ErrorCode, str | None, str]:
    with pytest.raises(DomainError) as caught:
        check_form_size(form)
    [error] = caught.value.errors
    return error.code, error.field, error.message_en


def _nested(depth: int) -> dict[str, Any]:
    form: dict[str, Any] = {"leaf": "x"}
    for _ in range(depth):
        form = {"a": form}
    return form


def test_forms_within_the_limits_pass() -> None:
    check_form_size({f"k{i}": "v" * MAX_STRING for i in range(MAX_VALUES)})
    check_form_size(_nested(MAX_DEPTH))
    check_form_size({"k" * MAX_KEY: [1, 2.5, True, None, {"ok": "Nguyễn"}]})


def test_too_many_values() -> None:
    code, field, message = _problem({f"k{i}": i for i in range(40_000)})
    assert (code, field) == (ErrorCode.FORM_TOO_LARGE, "formData")
    assert str(MAX_VALUES) in message
    # Keys and list items count at every depth.
    assert _problem({"list": list(range(MAX_VALUES))})[:2] == (ErrorCode.FORM_TOO_LARGE, "formData")


def test_too_deep() -> None:
    code, field, message = _problem(_nested(MAX_DEPTH + 1))
    assert code is ErrorCode.FORM_TOO_LARGE
    assert field == "formData" + ".a" * (MAX_DEPTH + 1)
    assert str(MAX_DEPTH) in message
    assert _problem({"x": [[[[[[[[[["deep"]]]]]]]]]]})[0] is ErrorCode.FORM_TOO_LARGE


def test_too_long_a_value_or_a_name() -> None:
    assert _problem({"note": "x" * (MAX_STRING + 1)})[:2] == (ErrorCode.FORM_TOO_LARGE, "formData.note")
    assert _problem({"child": {"k" * (MAX_KEY + 1): 1}})[:2] == (ErrorCode.FORM_TOO_LARGE, "formData.child")


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfffy"])
def test_strings_postgresql_cannot_store_are_refused_without_echoing_them(text: str) -> None:
    code, field, message = _problem({"note": text})
    assert (code, field) == (ErrorCode.INVALID_VALUE, "formData.note")
    code, field, message = _problem({"child": {text: 1}})
    assert (code, field) == (ErrorCode.INVALID_VALUE, "formData.child")
    assert text not in message
