"""What a device receives for each record type: the record's full current state, read in batches.

One loader per record type, registered in `LOADERS` (a new record type is one loader and one line here,
plus a `stamp` in its write paths). Every citizen-scope loader filters by the citizen as well: a change-log
row can never make another citizen's record readable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from strawberry.relay import to_base64

from core.catalogue import agencies_by_ids, procedures_by_ids
from core.dossier_status import DossierStatus
from core.dossiers import events_for
from core.drafts import revisions
from core.models import Document, Dossier, DossierRating, Draft, Notification, Procedure
from core.ratings import ratings_for
from core.text import ascii_digits

Loader = Callable[[AsyncSession, int, list[str]], Awaitable[dict[str, dict[str, Any]]]]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def load_dossiers(session: AsyncSession, citizen_id: int, codes: list[str]) -> dict[str, dict[str, Any]]:
    rows = list((await session.execute(
        select(Dossier).where(col(Dossier.code).in_(codes), Dossier.citizen_id == citizen_id))).scalars())
    ids = [r.id for r in rows if r.id is not None]
    events = await events_for(session, ids)
    ratings = await ratings_for(session, ids)
    procedures = await procedures_by_ids(session, list({r.procedure_id for r in rows}))
    agencies = await agencies_by_ids(session, list({r.agency_id for r in rows}))
    parent_ids = [r.parent_id for r in rows if r.parent_id is not None]
    parents = {d.id: d.code for d in (await session.execute(
        select(Dossier).where(col(Dossier.id).in_(parent_ids)))).scalars()} if parent_ids else {}
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        assert row.id is not None
        status = DossierStatus(row.status)
        out[row.code] = {
            "code": row.code, "procedureCode": procedures[row.procedure_id].code,
            "agencyCode": agencies[row.agency_id].code, "status": status.name,
            "nationalCode": status.national_code, "formData": row.form_data,
            "submittedAt": _iso(row.submitted_at), "dueDate": _iso(row.due_date), "updatedAt": _iso(row.updated_at),
            "parentCode": parents.get(row.parent_id) if row.parent_id else None,
            "events": [{"seq": e.seq, "status": DossierStatus(e.status).name, "source": e.source,
                        "at": _iso(e.occurred_at), "noteVi": e.note_vi, "noteEn": e.note_en}
                       for e in events[row.id]],
            "rating": _rating(ratings.get(row.id)),
        }
    return out


def _rating(rating: DossierRating | None) -> dict[str, Any] | None:
    """The citizen's own rating (the comment is theirs to read back); null until rated."""
    if rating is None:
        return None
    return {"score": rating.stars, "comment": rating.comment, "ratedAt": _iso(rating.rated_at)}


async def load_documents(session: AsyncSession, citizen_id: int, ids: list[str]) -> dict[str, dict[str, Any]]:
    numeric = [int(i) for i in ids if ascii_digits(i)]
    rows = list((await session.execute(
        select(Document).where(col(Document.id).in_(numeric), Document.citizen_id == citizen_id))).scalars())
    dossier_ids = [r.dossier_id for r in rows if r.dossier_id is not None]
    codes = {d.id: d.code for d in (await session.execute(
        select(Dossier).where(col(Dossier.id).in_(dossier_ids)))).scalars()} if dossier_ids else {}
    agencies = await agencies_by_ids(session, list({r.agency_id for r in rows}))
    # The wallet opens with no signal: the signed form, the signature and its key id travel, so the app shows
    # the verification the server made and can check the signature itself against the published keys.
    return {str(r.id): {"id": str(r.id), "nodeId": to_base64("Document", r.id), "kind": r.kind,
                        "titleVi": r.title_vi, "titleEn": r.title_en, "number": r.number,
                        "issuedAt": _iso(r.issued_at), "validFrom": _iso(r.valid_from),
                        "validUntil": _iso(r.valid_until),
                        "dossierCode": codes.get(r.dossier_id) if r.dossier_id else None,
                        "issuerAgencyCode": agencies[r.agency_id].code, "verification": r.verification,
                        "signedPayload": r.signed_payload, "signature": r.signature, "signingKeyId": r.signing_kid}
            for r in rows}


def draft_record(draft: Draft, history: list[Any]) -> dict[str, Any]:
    """Also the `record` in push answers; `history` shows values that lost, so no device loses them silently."""
    return {"id": draft.id, "procedureCode": draft.procedure_code, "fields": draft.fields, "status": draft.status,
            "dossierCode": draft.dossier_code, "updatedAt": _iso(draft.updated_at),
            "history": [{"field": h.field, "value": h.value, "reason": h.reason, "atVersion": h.at_version}
                        for h in history]}


async def load_drafts(session: AsyncSession, citizen_id: int, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = list((await session.execute(
        select(Draft).where(col(Draft.id).in_(ids), Draft.citizen_id == citizen_id))).scalars())
    history = await revisions(session, [r.id for r in rows])
    return {r.id: draft_record(r, history[r.id]) for r in rows}


async def load_procedures(session: AsyncSession, _citizen_id: int, codes: list[str]) -> dict[str, dict[str, Any]]:
    rows = list((await session.execute(
        select(Procedure).where(col(Procedure.code).in_(codes), col(Procedure.active).is_(True)))).scalars())
    agencies = await agencies_by_ids(session, list({r.agency_id for r in rows}))
    return {r.code: {"code": r.code, "nameVi": r.name_vi, "nameEn": r.name_en,
                     "agencyCode": agencies[r.agency_id].code, "onlineLevel": r.online_level,
                     "processingDays": r.processing_days, "feeVnd": r.fee_vnd, "formSchema": r.form_schema}
            for r in rows}


async def load_notifications(session: AsyncSession, citizen_id: int,
                             ids: list[str]) -> dict[str, dict[str, Any]]:
    """The inbox: what the push said (code, procedure, status), whether it reached the citizen, read or not."""
    numeric = [int(i) for i in ids if ascii_digits(i)]
    rows = (await session.execute(select(Notification).where(col(Notification.id).in_(numeric),
                                                             Notification.citizen_id == citizen_id))).scalars()
    return {str(r.id): {"id": str(r.id), "dossierCode": r.dossier_code, "procedureNameVi": r.procedure_name_vi,
                        "procedureNameEn": r.procedure_name_en, "status": DossierStatus(r.status).name,
                        "delivery": r.delivery, "createdAt": _iso(r.created_at), "readAt": _iso(r.read_at)}
            for r in rows}


LOADERS: dict[str, Loader] = {
    "dossier": load_dossiers,
    "document": load_documents,
    "draft": load_drafts,
    "procedure": load_procedures,
    "notification": load_notifications,
}
