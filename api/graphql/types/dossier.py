"""A citizen's dossiers, their status history and the documents issued for them."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.types.catalogue import Agency, Procedure
from api.graphql.types.common import DossierStatus, LocalizedText
from api.graphql.types.payment import Payment
from api.graphql.types.receipts import Receipt
from core import models, qr_payload
from core.clock import utc_now
from core.deadlines import Deadline, deadline_for
from core.dossier_status import DossierStatus as CoreStatus
from core.payments import payment_of
from core.receipts import sign_receipt
from core.server_keys import server_keys
from core.wallet import Verification, presented_valid
from services.registry import personal


def _status_label(status: CoreStatus) -> LocalizedText:
    return LocalizedText(vi=status.label_vi, en=status.label_en)


@strawberry.type(description="One entry of the append-only status history.")
class DossierEvent:
    seq: int
    status: DossierStatus  # type: ignore[valid-type]
    status_code: int = strawberry.field(description="National status code 1-10.")
    status_label: LocalizedText
    from_status: DossierStatus | None  # type: ignore[valid-type]
    source: str = strawberry.field(description="citizen | agency | system")
    note: LocalizedText | None
    occurred_at: datetime

    @classmethod
    def from_row(cls, row: models.DossierEvent) -> DossierEvent:
        status = CoreStatus(row.status)
        note = LocalizedText(vi=row.note_vi, en=row.note_en or row.note_vi) if row.note_vi else None
        return cls(seq=row.seq, status=status, status_code=status.national_code,
                   status_label=_status_label(status),
                   from_status=CoreStatus(row.from_status) if row.from_status else None,
                   source=row.source, note=note, occurred_at=row.occurred_at)


DocumentVerification = strawberry.enum(
    Verification, name="DocumentVerification",
    description="Whether the issuing agency's signature over the document verified when it arrived. Only VALID "
                "may ever be shown as a valid document.")


@strawberry.type(description="Whom a document is about: the citizen (`self`) or their child (`child`).")
class DocumentHolder:
    relation: str = strawberry.field(description="self | child")
    name: str
    birth_date: date | None


@strawberry.type(description="An issued result or card in the citizen's document wallet.")
class Document(relay.Node):
    key: relay.NodeID[int]
    kind: str = strawberry.field(description="birth_certificate | residence_confirmation | "
                                             "health_insurance_card | ... (what a form's x-document-kind names)")
    title: LocalizedText
    number: str = strawberry.field(directives=[personal("documents")])
    issued_at: datetime
    valid_until: date | None
    valid_from: date | None = strawberry.field(description="First day of validity; null: from issue.")
    verification: DocumentVerification = strawberry.field(  # type: ignore[valid-type]
        description="VALID only when the issuing agency's key verified its signature over `signedPayload` for "
                    "this dossier; INVALID and UNKNOWN_KEY documents must never be shown as valid; UNSIGNED: "
                    "recorded before agencies signed results.")
    is_valid: bool = strawberry.field(description="VALID and inside its validity today: the only flag to show "
                                                  "a document as valid, and what a form may reuse.")
    signed_payload: JSON | None = strawberry.field(
        directives=[personal("documents")],
        description="The document exactly as the agency signed it (its canonical JSON form is what "
                    "`signature` covers): verify it offline against the agency key named by `signingKeyId`.")
    signature: str | None = strawberry.field(description="Ed25519 signature over the canonical JSON of "
                                                          "`signedPayload`, base64url.")
    signing_key_id: str | None = strawberry.field(description="The agency key that signed: `agency:<service>:<id>`.")
    agency_id: strawberry.Private[int]

    @strawberry.field(description="Whom the document is about, as the agency signed it; null when unsigned.",
                      directives=[personal("documents", "name", "birth_date")])
    def holder(self) -> DocumentHolder | None:
        payload = self.signed_payload if isinstance(self.signed_payload, dict) else None
        found = payload.get("holder") if payload else None
        if not isinstance(found, dict):
            return None
        try:
            born = date.fromisoformat(found["birth_date"]) if found.get("birth_date") else None
        except (TypeError, ValueError):
            born = None
        return DocumentHolder(relation=str(found.get("relation", "")), name=str(found.get("name", "")),
                              birth_date=born)

    @strawberry.field(directives=[personal("documents", "name", "birth_date")],
                      description="What the document's QR code carries (under 1 KB): `VN1.<signedPayload>.<signing"
                                  "KeyId>.<signature>`. Any verifier checks it offline against the published keys "
                                  "(/.well-known/jwks.json) or online with `verifyPayload`; null when unsigned.")
    def qr_payload(self) -> str | None:
        if not (isinstance(self.signed_payload, dict) and self.signature and self.signing_key_id):
            return None
        try:
            return qr_payload.encode(self.signed_payload, self.signing_key_id, self.signature)
        except ValueError:  # over 1 KB: the app shows the document, without a code
            return None

    @strawberry.field(description="The agency that issued it.")
    async def issuing_agency(self, info: Info) -> Agency:
        return Agency.from_row(await info.context.loaders.agency.load(self.agency_id))

    @classmethod
    def from_row(cls, row: models.Document, *, today: date | None = None) -> Document:
        assert row.id is not None
        return cls(key=row.id, kind=row.kind, title=LocalizedText(vi=row.title_vi, en=row.title_en),
                   number=row.number, issued_at=row.issued_at, valid_until=row.valid_until,
                   valid_from=row.valid_from, verification=Verification(row.verification),
                   is_valid=presented_valid(row, today=today or utc_now().date()),
                   signed_payload=cast(JSON, row.signed_payload), signature=row.signature,
                   signing_key_id=row.signing_kid, agency_id=row.agency_id)


@strawberry.type(description="A photo or PDF of a paper filed with a dossier or a supplement (uploaded with tus "
                              "to `/uploads/`); the agency receives it with the dossier.")
class Attachment:
    id: strawberry.ID = strawberry.field(description="The upload id.")
    filename: str = strawberry.field(description="The name the app gave it; shown back only.")
    content_type: str = strawberry.field(description="Detected from the content: image/jpeg, image/png, "
                                                     "application/pdf, image/heic or image/webp.")
    size: int = strawberry.field(description="Bytes.")
    sha256: str = strawberry.field(description="Of the whole file, hex; the agency checks what it fetched against it.")
    attached_with: str = strawberry.field(description="submit (with the filing) | supplement")
    uploaded_at: datetime

    @classmethod
    def from_row(cls, row: models.Upload) -> Attachment:
        return cls(id=strawberry.ID(row.id), filename=row.filename, content_type=row.content_type or "",
                   size=row.length, sha256=row.sha256 or "", attached_with=row.attached_as or "submit",
                   uploaded_at=row.completed_at or row.created_at)


@strawberry.type(description="The citizen's own rating of a returned dossier; only its author sees it.")
class DossierRating:
    stars: int = strawberry.field(description="1-5.")
    comment: str | None = strawberry.field(directives=[personal("dossier")],
                                           description="Never published: it may name people.")
    rated_at: datetime

    @classmethod
    def from_row(cls, row: models.DossierRating) -> DossierRating:
        return cls(stars=row.stars, comment=row.comment, rated_at=row.rated_at)


@strawberry.type(description="An application (hồ sơ) the citizen filed with an agency.")
class Dossier(relay.Node):
    key: relay.NodeID[str]
    code: str = strawberry.field(description="`<agency code>-<yymmdd>-<daily sequence>`.")
    status: DossierStatus  # type: ignore[valid-type]
    status_code: int = strawberry.field(description="National status code 1-10.")
    status_label: LocalizedText
    submitted_at: datetime
    due_date: date = strawberry.field(description="Appointment date (ngày hẹn trả), in working days.")
    updated_at: datetime
    version: int = strawberry.field(description="Grows by one with every change.")
    form_data: JSON = strawberry.field(directives=[personal("dossier")])
    row_id: strawberry.Private[int]
    procedure_id: strawberry.Private[int]
    agency_id: strawberry.Private[int]

    @strawberry.field(description="Past the due date while the agency's clock runs (derived, never stored).")
    def overdue(self, info: Info) -> bool:
        return self._deadline(info).overdue

    @strawberry.field(description="Due within one working day: time to warn.")
    def due_soon(self, info: Info) -> bool:
        return self._deadline(info).due_soon

    @strawberry.field(description="Working days from today to the due date; negative once working days have "
                                  "passed since it (0 on a weekend right after it).")
    def working_days_left(self, info: Info) -> int:
        return self._deadline(info).working_days_left

    def _deadline(self, info: Info) -> Deadline:
        ctx = info.context
        return deadline_for(status=CoreStatus(self.status), due_date=self.due_date, today=ctx.today,
                            calendar=ctx.calendar)

    @strawberry.field
    async def procedure(self, info: Info) -> Procedure:
        return Procedure.from_row(await info.context.loaders.procedure.load(self.procedure_id))

    @strawberry.field(description="The receiving agency.")
    async def agency(self, info: Info) -> Agency:
        return Agency.from_row(await info.context.loaders.agency.load(self.agency_id))

    @strawberry.field(description="Status history, oldest first.")
    async def events(self, info: Info) -> list[DossierEvent]:
        return [DossierEvent.from_row(e) for e in await info.context.loaders.events.load(self.row_id)]

    @strawberry.field(description="Documents issued as this dossier's result.")
    async def documents(self, info: Info) -> list[Document]:
        return [Document.from_row(d) for d in await info.context.loaders.documents.load(self.row_id)]

    @strawberry.field(description="The server-signed receipt, with its QR payload; every received dossier has one.")
    async def receipt(self, info: Info) -> Receipt:
        ctx = info.context
        procedure = await ctx.loaders.procedure.load(self.procedure_id)
        agency = await ctx.loaders.agency.load(self.agency_id)
        return Receipt.of(sign_receipt(
            dossier_code=self.code, procedure_code=procedure.code, agency_code=agency.code,
            submitted_at=self.submitted_at, due=self.due_date, tz_name=ctx.settings.timezone,
            issuer=ctx.settings.signing.issuer, key=server_keys(ctx.settings).signing))

    @strawberry.field(description="The citizen's rating (rateDossier); null until rated. A dossier can be rated "
                                  "once, after its result is returned (status RETURNED).")
    async def rating(self, info: Info) -> DossierRating | None:
        row = await info.context.loaders.ratings.load(self.row_id)
        return DossierRating.from_row(row) if row is not None else None


    @strawberry.field(description="While PAYMENT_REQUESTED: the fees owed, their deadline and reference, and how "
                                  "paying them stands (`payDossierFee`); afterwards the receipt of the last "
                                  "confirmed payment; null when nothing is or was owed.")
    async def payment(self, info: Info) -> Payment | None:
        ctx = info.context
        async with ctx.db.read() as session:
            row = await session.get(models.Dossier, self.row_id)
            assert row is not None
            view = await payment_of(session, row, deadline_days=ctx.settings.payments.deadline_days)
        return Payment.from_view(view, ctx.locale) if view is not None else None

    @strawberry.field(description="An interconnected dossier's parts, one per agency, each with its own "
                                  "status history; empty for an ordinary dossier.")
    async def parts(self, info: Info) -> list[Dossier]:
        return [Dossier.from_row(d) for d in await info.context.loaders.parts.load(self.row_id)]

    @strawberry.field(description="Photos and PDFs filed with the dossier and its supplements, oldest first.",
                      directives=[personal("dossier")])
    async def attachments(self, info: Info) -> list[Attachment]:
        return [Attachment.from_row(u) for u in await info.context.loaders.attachments.load(self.row_id)]

    @classmethod
    def from_row(cls, row: models.Dossier) -> Dossier:
        assert row.id is not None
        status = CoreStatus(row.status)
        return cls(key=row.code, code=row.code, status=status, status_code=status.national_code,
                   status_label=_status_label(status), submitted_at=row.submitted_at, due_date=row.due_date,
                   updated_at=row.updated_at, version=row.version, form_data=cast(JSON, row.form_data), row_id=row.id,
                   procedure_id=row.procedure_id, agency_id=row.agency_id)
