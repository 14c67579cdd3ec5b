"""A stand-in for the civil-status registry's API: birth (and other civil-status) dossiers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.issued import document, procedure_of
from services.sandbox_kit import AgencySandbox, Received, asked_id_number

ROAD = ("DA_TIEP_NHAN", "DANG_XU_LY", "DA_CO_KET_QUA", "DA_TRA_KET_QUA")


def issue(item: Received) -> dict[str, Any] | None:
    """A birth registration returns the child's birth certificate (valid for life)."""
    if procedure_of(item) != "1.001193":
        return None
    return document(item, kind="birth_certificate", prefix="KS", title_vi="Giấy khai sinh",
                    title_en="Birth certificate")


def create_sandbox(*, secret: bytes, callback_url: str, advance_seconds: float) -> AgencySandbox:
    sandbox = AgencySandbox(code="civil_status", secret=secret, callback_url=callback_url, road=ROAD,
                            stop_status="DUNG_XU_LY", advance_seconds=advance_seconds, issue=issue)

    async def registrations(request: Request) -> Response:
        applicant = await asked_id_number(request)
        rows = [{"reference": r.reference, "dossier_code": r.dossier_code,
                 "child_name": str(r.body.get("form", {}).get("child_name", "")),
                 "status": sandbox.status_of(r, before_road="DA_NHAN")}
                for r in sandbox.received.values()
                if r.body.get("applicant_id_number") == applicant and r.body.get("procedure_code") == "1.001193"]
        return JSONResponse(rows)

    sandbox.extra_routes = (Route("/registrations/search", sandbox.guarded(registrations), methods=["POST"]),)
    return sandbox
