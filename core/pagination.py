"""Keyset pagination: opaque cursors that carry the sort key of the last row seen.

Offsets skip or repeat rows when dossiers arrive between two pages; a keyset does not.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from core import json_body
from core.errors import DomainError, ErrorCode

T = TypeVar("T")
_PREFIX = "c1:"


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: list[Any] | None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    keys: list[list[Any]]
    has_next: bool


def encode_cursor(kind: str, key: list[Any]) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode((_PREFIX + raw).encode()).decode().rstrip("=")


MAX_CURSOR_LENGTH = 512


def decode_cursor(kind: str, cursor: str, arity: int) -> list[Any]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise DomainError(ErrorCode.INVALID_CURSOR, field="after")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        if not raw.startswith(_PREFIX):
            raise ValueError("prefix")
        value = json_body.loads(raw[len(_PREFIX):])
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise DomainError(ErrorCode.INVALID_CURSOR, field="after") from exc
    if not isinstance(value, list) or len(value) != arity + 1 or value[0] != kind:
        raise DomainError(ErrorCode.INVALID_CURSOR, field="after")
    return value[1:]


def page_request(
    *, kind: str, first: int | None, after: str | None, arity: int, default: int, maximum: int
) -> PageRequest:
    size = default if first is None else first
    if not 1 <= size <= maximum:
        raise DomainError(ErrorCode.PAGE_SIZE_TOO_LARGE, field="first", maximum=maximum)
    return PageRequest(first=size, after=decode_cursor(kind, after, arity) if after else None)


def cut(rows: list[T], first: int, key: Any) -> Page[T]:
    """Rows were fetched with `limit first + 1`: the extra one only says whether there is a next page."""
    items = rows[:first]
    return Page(items=items, keys=[key(item) for item in items], has_next=len(rows) > first)
