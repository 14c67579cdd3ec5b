"""Row ids that come from outside (ID arguments, keys inside cursors): a number an id column can hold, or none.

Every id column is int4 on PostgreSQL, while SQLite stores any integer: a bigger number bound to an id makes
asyncpg refuse the whole query (an INTERNAL_ERROR where SQLite answered "not found"). So a number from outside
is checked here first, and one out of range is treated like an id that does not exist.
"""

from __future__ import annotations

from core.text import ascii_digits

MAX_ROW_ID = 2**31 - 1


def row_id(value: object) -> int | None:
    """`value` as an id that could exist (an int, or a string of ASCII digits, in 1..MAX_ROW_ID); else None."""
    if isinstance(value, str):
        if not ascii_digits(value) or len(value) > len(str(MAX_ROW_ID)):
            return None
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_ROW_ID else None
