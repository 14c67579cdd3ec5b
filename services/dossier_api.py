"""The dossier half of an agency API that our built-in agencies share: POST /dossiers with an
Idempotency-Key, answering the agency's reference, and, for a dossier the agency holds, POST
/dossiers/{code}/withdrawal, /dossiers/{code}/supplements and /dossiers/{code}/payments (the citizen paid
the fees asked for) with their own keys. A plug-in with another
API writes its own."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from core.forwarding import ActionRequest, AttachmentRef, ForwardAction, ForwardRequest
from services.client import AgencyClient
from uploads.agency_links import described


class _Receipt(BaseModel):
    reference: str


async def forward_dossier(client: AgencyClient, request: ForwardRequest) -> str:
    body: dict[str, Any] = {"dossier_code": request.dossier_code, "procedure_code": request.procedure_code,
            "applicant_id_number": request.applicant_id_number, "form": dict(request.form_data),
            "submitted_at": request.submitted_at.isoformat(), "parent_code": request.parent_code}
    if request.attachments:
        body["attachments"] = attachments(client, request.attachments)
    if request.documents:  # wallet documents instead of certified copies: as signed, for the agency to verify
        body["documents"] = [dict(d) for d in request.documents]
    answer = await client.post_json("/dossiers", body, idempotency_key=request.idempotency_key)
    return client.parse(_Receipt, answer).reference


def attachments(client: AgencyClient, refs: tuple[AttachmentRef, ...]) -> list[dict[str, object]]:
    """Each attachment's metadata and a download path signed for this agency, fresh at every delivery, so a
    retried forward never carries an expired link (docs/agency-api.yaml, `Attachment`)."""
    return [described(ref, secret=client.settings.secret_bytes, service=client.code,
                      link_seconds=client.settings.attachment_link_seconds) for ref in refs]


_ACTION_PATHS = {ForwardAction.WITHDRAW: "withdrawal", ForwardAction.SUPPLEMENT: "supplements",
                 ForwardAction.PAYMENT: "payments"}


async def forward_action(client: AgencyClient, request: ActionRequest) -> None:
    """Tell the agency what the citizen did; any 2xx means it has it (the answer's body is not needed)."""
    body: dict[str, object] = {"dossier_code": request.dossier_code, "agency_reference": request.agency_reference,
                               "requested_at": request.requested_at.isoformat()}
    if request.action is ForwardAction.SUPPLEMENT:
        body["answers"] = dict(request.answers)
        if request.attachments:
            body["attachments"] = attachments(client, request.attachments)
        if request.documents:
            body["documents"] = [dict(d) for d in request.documents]
    elif request.action is ForwardAction.PAYMENT:  # the receipt: reference, amount, transaction, when
        body["payment"] = dict(request.answers)
    path = f"/dossiers/{quote(request.dossier_code, safe='')}/{_ACTION_PATHS[request.action]}"
    await client.post_json(path, body, idempotency_key=request.idempotency_key)
