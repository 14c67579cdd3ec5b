"""The dossier half of an agency API that our built-in agencies share: POST /dossiers with an
Idempotency-Key, answering the agency's reference, and, for a dossier the agency holds, POST
/dossiers/{code}/withdrawal and /dossiers/{code}/supplements with their own keys. A plug-in with another
API writes its own."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from core.forwarding import ActionRequest, ForwardAction, ForwardRequest
from services.client import AgencyClient


class _Receipt(BaseModel):
    reference: str


async def forward_dossier(client: AgencyClient, request: ForwardRequest) -> str:
    body: dict[str, Any] = {"dossier_code": request.dossier_code, "procedure_code": request.procedure_code,
            "applicant_id_number": request.applicant_id_number, "form": dict(request.form_data),
            "submitted_at": request.submitted_at.isoformat(), "parent_code": request.parent_code}
    if request.documents:  # wallet documents instead of certified copies: as signed, for the agency to verify
        body["documents"] = [dict(d) for d in request.documents]
    answer = await client.post_json("/dossiers", body, idempotency_key=request.idempotency_key)
    return client.parse(_Receipt, answer).reference


_ACTION_PATHS = {ForwardAction.WITHDRAW: "withdrawal", ForwardAction.SUPPLEMENT: "supplements"}


async def forward_action(client: AgencyClient, request: ActionRequest) -> None:
    """Tell the agency what the citizen did; any 2xx means it has it (the answer's body is not needed)."""
    body: dict[str, object] = {"dossier_code": request.dossier_code, "agency_reference": request.agency_reference,
                               "requested_at": request.requested_at.isoformat()}
    if request.action is ForwardAction.SUPPLEMENT:
        body["answers"] = dict(request.answers)
        if request.documents:
            body["documents"] = [dict(d) for d in request.documents]
    path = f"/dossiers/{quote(request.dossier_code, safe='')}/{_ACTION_PATHS[request.action]}"
    await client.post_json(path, body, idempotency_key=request.idempotency_key)
