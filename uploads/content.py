"""What a file is, from its first bytes, never from its name or the type the app declared.

**Decision:** the `filetype` library (pure Python, no dependencies, MIT) reads the magic bytes: its table
already knows JPEG, PNG, PDF, HEIC and WebP, including the ISO-BMFF brands HEIC needs, which a hand-written
table would have to get right itself. It is pinned, because its table is the rule: a new version is read
before it is taken. An unknown content is refused like a wrong one.
"""

from __future__ import annotations

import filetype  # type: ignore[import-untyped]

# What `filetype` reads at most; a file shorter than this is judged on all of it.
HEAD_BYTES = 8192


def detect(head: bytes) -> str | None:
    """The media type the content's first bytes say, or None when they say nothing known."""
    kind = filetype.guess(bytes(head[:HEAD_BYTES]))
    return None if kind is None else str(kind.mime)
