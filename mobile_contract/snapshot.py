"""The schema snapshot: the SDL the app is built against, committed and checked for drift."""

from __future__ import annotations

import difflib
from pathlib import Path

import strawberry

CONTRACT_DIR = Path(__file__).resolve().parent
SNAPSHOT = CONTRACT_DIR / "schema.graphql"
RELEASED = CONTRACT_DIR / "released" / "schema.graphql"
EXPORT_COMMAND = "superapp schema export"


def sdl(schema: strawberry.Schema) -> str:
    return schema.as_str().rstrip() + "\n"


def drift(schema: strawberry.Schema, snapshot: Path = SNAPSHOT) -> str:
    """A unified diff from the committed snapshot to the code's schema; empty when they agree."""
    current = sdl(schema)
    committed = snapshot.read_text(encoding="utf-8") if snapshot.exists() else ""
    lines = difflib.unified_diff(committed.splitlines(keepends=True), current.splitlines(keepends=True),
                                 fromfile=str(snapshot.name) + " (committed)", tofile="schema (code)")
    return "".join(lines)
