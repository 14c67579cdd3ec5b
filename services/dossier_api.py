"""The dossier half of an agency API that our built-in agencies share: POST /dossiers with an
Idempotency-Key, answering the agency's reference. A plug-in with another API writes its own."""

from __future__ import annotations

from pydantic import BaseModel

from core.forwarding import ForwardRequest
from services.client import AgencyClient


class _Receipt(BaseModel):
    reference: str


async def forward_dossier(client: AgencyClient, request: ForwardRequest) -> str:
    body = {"dossier_code": request.dossier_code, "procedure_code": request.procedure_code,
            "applicant_id_number": request.applicant_id_number, "form": dict(request.form_data),
            "submitted_at": request.submitted_at.isoformat(), "parent_code": request.parent_code}
    answer = await client.post_json("/dossiers", body, idempotency_key=request.idempotency_key)
    return client.parse(_Receipt, answer).reference
