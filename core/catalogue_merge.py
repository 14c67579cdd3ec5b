"""Merging procedures that services declare into the catalogue, keyed by the national procedure code."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.catalogue import agency_by_code, procedure_by_code, search_text_for, stamp_procedure_if_changed
from core.clock import utc_now
from core.models import Procedure

log = logging.getLogger("superapp.catalogue")


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
