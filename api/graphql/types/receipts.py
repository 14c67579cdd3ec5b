"""Signed receipts of dossiers and the public answer to "is this QR code genuine?"."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from core.qr_payload import Verdict
from core.receipts import Receipt as CoreReceipt


@strawberry.type(description="The server-signed receipt of a received dossier (giấy tiếp nhận): show `qrPayload` "
                             "as a QR code; anyone can check it offline with the published keys.")
class Receipt:
    issued_at: datetime = strawberry.field(description="When the dossier was received.")
    received_on: date = strawberry.field(description="Reception date, in the agency's time zone.")
    due_date: date = strawberry.field(description="Appointment date the receipt promises.")
    signed_by: str = strawberry.field(description="Key id (kid) of the signing key, in /.well-known/jwks.json.")
    qr_payload: str = strawberry.field(description="`VN1.<claims>.<kid>.<signature>`, under 1 KB; no name or "
                                                   "ID number, only the dossier code, procedure, agency and dates.")

    @classmethod
    def of(cls, receipt: CoreReceipt) -> Receipt:
        return cls(issued_at=receipt.issued_at, received_on=date.fromisoformat(receipt.claims["received"]),
                   due_date=date.fromisoformat(receipt.claims["due"]), signed_by=receipt.kid,
                   qr_payload=receipt.payload)


@strawberry.enum(description="What a verifier concluded about a QR payload.")
class VerificationResult(Enum):
    VALID = Verdict.VALID.value
    INVALID = Verdict.INVALID.value
    UNKNOWN_KEY = Verdict.UNKNOWN_KEY.value
    MALFORMED = Verdict.MALFORMED.value


@strawberry.type(description="The answer of `verifyPayload`: the claims only when the signature holds.")
class PayloadVerification:
    result: VerificationResult
    claims: JSON | None = strawberry.field(description="The signed claims (e.g. `typ`, `dossier`, `procedure`, "
                                                       "`agency`, `received`, `due`, `iss`); null unless VALID.")
    signed_by: str | None = strawberry.field(description="The kid the payload names (null when MALFORMED).")
