"""The one way to read JSON from outside: strict UTF-8, bounded depth, bounded numbers, no lone surrogates.

`json.loads` alone turns hostile input into crashes instead of refusals: 1,000 nested brackets (2 KB) raise
RecursionError, a 5,000-digit number raises ValueError past Python's int-conversion limit (and a 4,000-digit
one costs quadratic time), bytes are guessed as UTF-16/32, `NaN` and `Infinity` are accepted although they
are not JSON (PostgreSQL refuses them later), and an escaped lone surrogate (`"\\ud800"`) becomes a string
that cannot be encoded back to UTF-8. Every body we parse goes through `loads`, which refuses all of these
with one exception type carrying a stable reason.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
"""Nesting of objects and arrays; a GraphQL request with a form inside is about 8 deep."""
MAX_NUMBER_CHARS = 40
"""Characters of one number literal: a 64-bit integer has 20, a double printed in full about 25."""

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONRefused(json.JSONDecodeError):
    """Input we do not read. A JSONDecodeError, so code that already catches that (or ValueError) refuses it
    too; `reason` is one of INVALID_UTF8, INVALID_JSON, TOO_DEEP, NUMBER_TOO_LONG, NOT_A_NUMBER,
    LONE_SURROGATE."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason, "", 0)
        self.reason = reason


def _number(text: str) -> int | float:
    if len(text) > MAX_NUMBER_CHARS:
        raise JSONRefused("NUMBER_TOO_LONG", f"a number longer than {MAX_NUMBER_CHARS} characters")
    value = float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise JSONRefused("NOT_A_NUMBER", f"{text} is outside the range of a number")
    return value


def _constant(name: str) -> Any:
    raise JSONRefused("NOT_A_NUMBER", f"{name} is not JSON")


def _check_shape(value: Any, *, max_depth: int, strings: bool) -> None:
    """Depth of nested containers, without recursion; lone surrogates in keys and strings when asked."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
            if strings:
                _no_surrogate(item.keys())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            raise JSONRefused("TOO_DEEP", f"nested more than {max_depth} levels")
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
            elif strings and isinstance(child, str):
                _no_surrogate((child,))
    if strings and isinstance(value, str):
        _no_surrogate((value,))


def _no_surrogate(texts: Any) -> None:
    for text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise JSONRefused("LONE_SURROGATE", "a string with a lone surrogate (not Unicode text)") from error


def loads(raw: str | bytes, *, max_depth: int = MAX_DEPTH, lone_surrogates: bool = False) -> Any:
    """Parse `raw` (UTF-8 bytes or text) or raise JSONRefused. `lone_surrogates=True` lets escaped ones
    through for a caller that refuses them where they stand (a GraphQL request: one queued sync mutation is
    rejected, not the whole push, see `api/graphql/request_checks.py`)."""
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as error:
            raise JSONRefused("INVALID_UTF8", "the body is not UTF-8 text") from error
    else:
        text = raw
        _no_surrogate((text,))
    try:
        value = json.loads(text, parse_int=_number, parse_float=_number, parse_constant=_constant)
    except JSONRefused:
        raise
    except RecursionError as error:
        raise JSONRefused("TOO_DEEP", f"nested more than {max_depth} levels") from error
    except ValueError as error:  # JSONDecodeError, and a BOM or other text that is not JSON
        raise JSONRefused("INVALID_JSON", f"not JSON ({error})") from error
    # Strict UTF-8 text holds no surrogates: only an escape can make one, so most bodies skip the string walk.
    _check_shape(value, max_depth=max_depth,
                 strings=not lone_surrogates and bool(_SURROGATE_ESCAPE.search(text)))
    return value
