"""Draft conflict rules: per-field three-way merge against the base version; the later push wins.

"Later" means received later by the server (the order of the per-client row lock and of commits), never
a device clock. The value a push overwrites is kept in the draft's history (`draft_revision`), which every
device receives with the draft, and is named in the pushing device's answer as a field conflict.
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
    merged: bool = False  # the base was older than the draft: other changes were kept
    changed: bool = False
    conflicts: list[FieldConflict] = field(default_factory=list)


async def merge_fields(session: AsyncSession, draft: Draft, patch: dict[str, Any], *, base_version: int | None,
                       client_id: str, now: datetime) -> Merge:
    """Apply `patch` (changed fields only; null clears a field) to the draft. The caller saves it."""
    base = draft.version if base_version is None else base_version
    outcome = Merge(merged=base < draft.version)
    fields, versions = dict(draft.fields), dict(draft.field_versions)
    new_version = draft.version + 1
    for name, value in sorted(patch.items()):
        current = fields.get(name)
        if current == value:
            continue
        if versions.get(name, 0) > base:
            # Changed on the server since this device's base: this later push wins, the loser is kept.
            outcome.conflicts.append(FieldConflict(name, current, value))
            await keep_revision(session, draft=draft, field=name, value=current, reason="overwritten",
                                client_id=client_id, now=now)
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
        versions[name] = new_version
        outcome.changed = True
    if outcome.changed:
        draft.fields, draft.field_versions, draft.version = fields, versions, new_version
    return outcome
