"""Merging the agencies and procedures that services declare into the catalogue, keyed by national codes.

A service may declare its own agency (`ServicePlugin.agency`): it is validated when the service loads
(`declared_agency`) and merged at start-up (`merge_service`), which answers why it refuses a service instead of
leaving it READY with procedures nobody can file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.catalogue import agency_by_code, procedure_by_code, search_text_for, stamp_procedure_if_changed
from core.clock import utc_now
from core.dossier_codes import AGENCY_CODE
from core.models import Agency, Procedure

log = logging.getLogger("superapp.catalogue")

AGENCY_LEVELS = ("central", "province", "district", "commune")
_NAME_MAX = 255  # core.models.Agency.name_vi / name_en


@dataclass(frozen=True)
class DeclaredAgency:
    code: str
    name_vi: str
    name_en: str
    level: str


def declared_agency(spec: Mapping[str, Any]) -> DeclaredAgency:
    """A service's agency declaration (`{"code", "name_vi", "name_en", "level"}`), checked to the same limits
    on every database; raises ValueError naming what is wrong."""
    code = spec.get("code")
    if not isinstance(code, str) or not AGENCY_CODE.fullmatch(code):
        raise ValueError(f"agency code {code!r} is not shaped V1V2V3.Z1Z2.Y1Y2.MX1X2 (e.g. 000.00.00.G15)")
    names = []
    for key in ("name_vi", "name_en"):
        name = spec.get(key)
        if not isinstance(name, str) or not name.strip() or len(name) > _NAME_MAX or not name.isprintable():
            raise ValueError(f"agency {key} must be 1-{_NAME_MAX} printable characters")
        names.append(name.strip())
    level = spec.get("level")
    if level not in AGENCY_LEVELS:
        raise ValueError(f"agency level {level!r} is not one of {', '.join(AGENCY_LEVELS)}")
    return DeclaredAgency(code=code, name_vi=names[0], name_en=names[1], level=str(level))


async def merge_service(session: AsyncSession, *, service: str, agency: Mapping[str, Any] | None,
                        procedures: Sequence[Mapping[str, Any]]) -> str | None:
    """Merge one service's agency and procedures; answer why the service is refused (nothing written for
    it), or None. Refused: its agency code is registered with other names by the national catalogue or by
    another service, or a procedure names an agency that neither exists nor is the service's own."""
    if agency is not None:
        declared = declared_agency(agency)
        row = await agency_by_code(session, declared.code)
        if row is not None and row.owner_service != service and (row.name_vi, row.name_en) != (
                declared.name_vi, declared.name_en):
            owner = f"service {row.owner_service!r}" if row.owner_service else "the national catalogue"
            return f"agency {declared.code} is already registered by {owner} with other names"
        if row is None:
            row = Agency(code=declared.code, name_vi="", name_en="", owner_service=service)
        if row.owner_service == service:
            row.name_vi, row.name_en, row.level = declared.name_vi, declared.name_en, declared.level
            session.add(row)
            await session.flush()
    for spec in procedures:
        if await agency_by_code(session, str(spec["agency"])) is None:
            return (f"procedure {spec['code']} names unknown agency {spec['agency']} (declare it as the "
                    f"service's agency)")
    await merge_procedures(session, procedures)
    return None


async def merge_procedures(session: AsyncSession, specs: Sequence[Mapping[str, Any]]) -> int:
    """Upsert each spec (shaped like `core.seed_data.PROCEDURES`); a spec naming an unknown agency is
    skipped with a log line rather than failing start-up. Returns how many were merged."""
    merged = 0
    for spec in specs:
        agency = await agency_by_code(session, str(spec["agency"]))
        if agency is None or agency.id is None:
            log.error("procedure %s names unknown agency %s; not merged", spec["code"], spec["agency"])
            continue
        procedure = await procedure_by_code(session, str(spec["code"])) or Procedure(
            code=str(spec["code"]), name_vi="", name_en="", search_text="", agency_id=agency.id,
            online_level="full", processing_days=0)
        procedure.name_vi, procedure.name_en = spec["name_vi"], spec["name_en"]
        procedure.search_text = search_text_for(code=procedure.code, name_vi=spec["name_vi"], name_en=spec["name_en"])
        procedure.agency_id, procedure.online_level = agency.id, spec.get("online_level", "full")
        procedure.processing_days, procedure.fee_vnd = int(spec["processing_days"]), int(spec.get("fee_vnd", 0))
        procedure.form_schema, procedure.active = dict(spec["form_schema"]), True
        await stamp_procedure_if_changed(session, procedure, now=utc_now())
        merged += 1
    await session.flush()
    return merged
