"""Draft conflict rules: per-field three-way merge against the base version; the later push wins.

"Later" means received later by the server (the order of the per-client row lock and of commits), never
a device clock. Only another install's changes conflict: each field remembers the install that last
changed it, so a device's queue of edits to its own draft is applied without merging against itself.
The value a push overwrites is kept in the draft's history (`draft_revision`), which every device receives
with the draft, and is named in the pushing device's answer as a field conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.drafts import keep_revision
from core.models import Draft


@dataclass(frozen=True)
class FieldConflict:
    field: str
    server_value: Any
    your_value: Any

    def wire(self) -> dict[str, Any]:
        return {"field": self.field, "serverValue": self.server_value, "yourValue": self.your_value}


@dataclass
class Merge:
    merged: bool = False  # another install changed the draft since the base: its changes were kept
    changed: bool = False
    conflicts: list[FieldConflict] = field(default_factory=list)


def effective_base(draft: Draft, base_version: int | None) -> int:
    """The version a push was made on. None: the current one (no conflict is looked for). A base above the
    draft's version was received before the server was restored from a backup: it says nothing about what
    the device saw of this draft, so it counts as 0 (every other install's change is news to it)."""
    if base_version is None:
        return draft.version
    return 0 if base_version > draft.version else base_version


def changed_by_others(draft: Draft, *, base: int, client_id: str) -> list[str]:
    """Fields another install (or the server) changed after `base`; this install's own changes never count,
    whether the device had seen their answers yet or not."""
    authors = draft.field_authors or {}
    return sorted(name for name, version in draft.field_versions.items()
                  if version > base and authors.get(name) != client_id)


async def merge_fields(session: AsyncSession, draft: Draft, patch: dict[str, Any], *, base_version: int | None,
                       client_id: str, now: datetime) -> Merge:
    """Apply `patch` (changed fields only; null clears a field) to the draft. The caller saves it."""
    base = effective_base(draft, base_version)
    theirs = set(changed_by_others(draft, base=base, client_id=client_id))
    outcome = Merge(merged=bool(theirs))
    fields, versions = dict(draft.fields), dict(draft.field_versions)
    authors = dict(draft.field_authors or {})
    new_version = draft.version + 1
    for name, value in sorted(patch.items()):
        current = fields.get(name)
        if current == value:
            continue
        if name in theirs:
            # Changed by another install since this device's base: this later push wins, the loser is kept.
            outcome.conflicts.append(FieldConflict(name, current, value))
            await keep_revision(session, draft=draft, field=name, value=current, reason="overwritten",
                                client_id=client_id, now=now)
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
        versions[name], authors[name] = new_version, client_id
        outcome.changed = True
    if outcome.changed:
        draft.fields, draft.field_versions, draft.version = fields, versions, new_version
        draft.field_authors = authors
    return outcome
