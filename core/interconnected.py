"""Interconnected procedures (liên thông): one submission, one parent dossier, one part per agency.

A procedure whose e-form schema lists `x-parts` (procedure codes) is a bundle. Each part is a dossier of
its own procedure, with its own code from its own agency, holding the parent's answers its form asks for.
The parent's status is derived from the parts', so the citizen follows one dossier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.catalogue import procedure_by_code
from core.dossier_status import DossierStatus, can_transition
from core.dossiers import change_status
from core.locks import Lock, take
from core.models import Dossier, Procedure

S = DossierStatus
# The main road of a dossier; the parent sits where its slowest part is.
_ROAD = (S.SUBMITTED, S.ACCEPTED, S.PROCESSING, S.PROCESSED, S.RETURNED)
_NEEDS_CITIZEN = (S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED)
_REFUSED = (S.NOT_ACCEPTED, S.PROCESSING_STOPPED)


def part_codes(procedure: Procedure) -> list[str]:
    parts = procedure.form_schema.get("x-parts", [])
    return [str(code) for code in parts] if isinstance(parts, list) else []


def part_form(part: Procedure, parent_form: dict[str, Any]) -> dict[str, Any]:
    """The parent's answers that the part's own form asks for."""
    wanted = part.form_schema.get("properties", {})
    return {name: value for name, value in parent_form.items() if name in wanted}


async def part_procedures(session: AsyncSession, procedure: Procedure) -> list[Procedure]:
    found = [await procedure_by_code(session, code) for code in part_codes(procedure)]
    return [p for p in found if p is not None]


def derive_status(current: DossierStatus, parts: Sequence[DossierStatus]) -> DossierStatus:
    """Citizen action first, then refusal, otherwise the slowest part on the main road."""
    for status in _NEEDS_CITIZEN:
        if status in parts:
            return status
    if any(p in _REFUSED for p in parts):
        return S.NOT_ACCEPTED if current is S.SUBMITTED else S.PROCESSING_STOPPED
    on_road = [_ROAD.index(p) for p in parts if p in _ROAD]
    return _ROAD[min(on_road)] if on_road else current


async def parts_of(session: AsyncSession, parent_ids: Sequence[int]) -> dict[int, list[Dossier]]:
    query = select(Dossier).where(col(Dossier.parent_id).in_(parent_ids)).order_by(col(Dossier.id))
    grouped: dict[int, list[Dossier]] = {i: [] for i in parent_ids}
    for row in (await session.execute(query)).scalars():
        assert row.parent_id is not None
        grouped[row.parent_id].append(row)
    return grouped


async def lock_parent(session: AsyncSession, *, parent_id: int) -> Dossier:
    """The parent's row lock. Take it right after the part's and before the part changes: a change stamps
    the citizen's sync scope, and no dossier may be locked after that (`core.locks`), else a part's event and
    the citizen's withdrawal of the parent deadlock."""
    take(session, Lock.DOSSIER, [f"id:{parent_id}"])
    query = select(Dossier).where(Dossier.id == parent_id).with_for_update()
    return (await session.execute(query)).scalars().one()


async def refresh_parent(session: AsyncSession, *, parent_id: int, now: datetime, cause: str,
                         detail_vi: str | None = None, detail_en: str | None = None) -> None:
    """Move the parent to what its parts say, one legal step at a time; an illegal jump is left alone.

    Supplement and payment requests come back to processing before the road resumes, so the parent may
    take two steps (e.g. supplement requested -> processing -> processed): the citizen sees one change, so
    only the last step notifies. A part's own events never notify (see `change_status`): the citizen
    follows the parent, and hears of a part only when the parent moves. `detail_*` (why the part moved,
    e.g. the agency's reason for refusing it) joins the parent's note.
    The caller took `lock_parent` before changing the part.
    """
    parent = await lock_parent(session, parent_id=parent_id)
    parts = [DossierStatus(p.status) for p in (await parts_of(session, [parent_id]))[parent_id]]
    steps = plan_steps(DossierStatus(parent.status), parts)
    note_vi = f"Cập nhật theo hồ sơ thành phần {cause}" + (f": {detail_vi}" if detail_vi else "")
    note_en = f"Updated from part dossier {cause}" + (f": {detail_en}" if detail_en else "")
    for index, step in enumerate(steps):
        await change_status(session, dossier=parent, target=step, source="system", occurred_at=now,
                            note_vi=note_vi[:2000], note_en=note_en[:2000], notify=index == len(steps) - 1)


def plan_steps(current: DossierStatus, parts: Sequence[DossierStatus]) -> list[DossierStatus]:
    """The legal steps (at most four) that take a parent from `current` towards what its parts say."""
    steps: list[DossierStatus] = []
    for _ in range(4):
        target = derive_status(current, parts)
        if target is current:
            break
        step = target if can_transition(current, target) else _step_towards(current, target)
        if step is None:
            break
        steps.append(step)
        current = step
    return steps


def _step_towards(current: DossierStatus, target: DossierStatus) -> DossierStatus | None:
    if current in _NEEDS_CITIZEN and target in _ROAD:
        return S.PROCESSING
    if current in _ROAD and target in _ROAD and _ROAD.index(target) > _ROAD.index(current):
        return _ROAD[_ROAD.index(current) + 1]
    if current in _ROAD and target in _NEEDS_CITIZEN and can_transition(current, S.PROCESSING):
        return S.PROCESSING
    return None
