"""How big a form the app may send, checked before anything else looks at it.

A form is validated field by field and stored as JSON on both databases. Without a bound, 40,000 unknown
keys cost seconds of validation and megabytes of errors, and a string PostgreSQL cannot store (NUL, a
lone surrogate) passes on SQLite and fails on PostgreSQL. The limits are constants, the same everywhere;
the walk is iterative, so depth costs no recursion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import DomainError, ErrorCode

MAX_VALUES = 1_000  # every key and every list item, at any depth
MAX_DEPTH = 8  # objects and lists inside the form
MAX_STRING = 10_000  # characters of one value
MAX_KEY = 100  # characters of one field name


def _too_large(field: str, limit: str, limit_en: str) -> DomainError:
    return DomainError(ErrorCode.FORM_TOO_LARGE, field=field, limit=limit, limit_en=limit_en)


def _storable(text: str) -> bool:
    """No NUL and valid Unicode (a lone surrogate cannot be encoded): what PostgreSQL stores."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_key(name: str, path: str) -> None:
    """A field name; problems are reported at its parent's path, never echoing the name back."""
    if len(name) > MAX_KEY:
        raise _too_large(path, f"tên trường dài quá {MAX_KEY} ký tự", f"a field name longer than {MAX_KEY} characters")
    if not _storable(name):
        raise DomainError(ErrorCode.INVALID_VALUE, field=path, label="tên trường", label_en="field name")


def _check_value(text: str, path: str) -> None:
    if len(text) > MAX_STRING:
        raise _too_large(path, f"giá trị dài quá {MAX_STRING} ký tự", f"a value longer than {MAX_STRING} characters")
    if not _storable(text):
        name = path.rsplit(".", 1)[-1]
        raise DomainError(ErrorCode.INVALID_VALUE, field=path, label=name)


def check_form_size(form: Mapping[str, Any], *, field: str = "formData") -> None:
    """Raise FORM_TOO_LARGE (or INVALID_VALUE for an unstorable string) naming the first offending path."""
    count = 0
    stack: list[tuple[Any, str, int]] = [(form, field, 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, Mapping | list):
            if depth > MAX_DEPTH:
                raise _too_large(path, f"lồng quá {MAX_DEPTH} cấp", f"nested more than {MAX_DEPTH} levels")
            count += len(value)
            if count > MAX_VALUES:
                raise _too_large(field, f"quá {MAX_VALUES} giá trị", f"more than {MAX_VALUES} values")
            items = value.items() if isinstance(value, Mapping) else enumerate(value)
            for key, item in items:
                name = str(key)
                _check_key(name, path)
                stack.append((item, f"{path}.{name}", depth + 1))
        elif isinstance(value, str):
            _check_value(value, path)
