"""The app schema versions the server serves (current and the two before), projections and upcasters.

v3 (current): drafts carry their answers as `fields`; dossiers carry `parentCode`; the notification inbox.
v2: drafts carry their answers as `data`; no notification inbox.
v1: as v2, and no `document` records (the wallet came with v2) and no `parentCode`.

A record is projected *down* to the client's version when pulled; a mutation from an older app is
upcast to the current shape when pushed. What cannot be upcast is quarantined, never dropped.
"""

from __future__ import annotations

from typing import Any

CURRENT = 3
SUPPORTED = (CURRENT - 2, CURRENT - 1, CURRENT)

# Record types a version knows; records of other types are not sent to it.
_TYPES = {1: {"dossier", "draft", "procedure"}, 2: {"dossier", "document", "draft", "procedure"}}
_ALL = {"dossier", "document", "draft", "procedure", "notification"}


def supported(version: int) -> bool:
    return version in SUPPORTED


def knows(version: int, record_type: str) -> bool:
    return record_type in _TYPES.get(version, _ALL)


def project(version: int, record_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The current record as an app of `version` expects it."""
    if version >= CURRENT:
        return data
    out = dict(data)
    if record_type == "draft":
        out["data"] = out.pop("fields")
    if record_type == "dossier" and version < 2:
        out.pop("parentCode", None)
    return out


class Unreadable(ValueError):
    """A mutation the server cannot interpret: it goes to quarantine."""


def upcast(version: int, intent: str, args: Any) -> dict[str, Any]:
    """A mutation's arguments in the current shape (older apps sent draft answers as `data`)."""
    if not isinstance(args, dict):
        raise Unreadable("arguments are not an object")
    out = dict(args)
    if version < CURRENT and intent.startswith("draft.") and "data" in out:
        if "fields" in out:
            raise Unreadable("both 'data' and 'fields'")
        out["fields"] = out.pop("data")
    return out
