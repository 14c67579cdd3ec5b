"""Vietnamese text folding, so "khai sinh" finds "Đăng ký khai sinh" and "dang ky" finds "Đăng ký"."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d included, which Unicode does not decompose), squash spaces."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).strip().lower()


def unstorable(text: str) -> bool:
    """NUL or a lone surrogate: SQLite keeps them, PostgreSQL refuses them (and UTF-8 cannot encode the
    latter), so they are refused at the boundary on every database."""
    return "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text)
def ascii_digits(text: str) -> bool:
    """Only 0-9: `str.isdigit()` also accepts "²" and other scripts' digits, which `int()` then refuses."""
    return text.isascii() and text.isdigit()


def unstorable_path(value: Any, path: str) -> str | None:
    """The path of the first string (key or value) holding U+0000 or a lone surrogate, without recursion
    (depth is untrusted)."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if unstorable(item):
                return where
        elif isinstance(item, dict):
            for key, child in item.items():
                if unstorable(str(key)):
                    return where
                stack.append((child, f"{where}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
    return None
