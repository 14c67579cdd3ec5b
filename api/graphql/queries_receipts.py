"""Public query fields of receipts and ratings: verify a QR payload; no token needed."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.types.receipts import PayloadVerification, VerificationResult
from api.keys import verification_ring
from core import qr_payload


@strawberry.type
class ReceiptQuery:
    @strawberry.field(description="Check a receipt's or document's QR payload against the published keys. "
                                  "Public; charged to the caller's IP quota like the catalogue. A verifier "
                                  "with no signal does the same offline with /.well-known/jwks.json.")
    def verify_payload(self, info: Info, payload: str) -> PayloadVerification:
        result = qr_payload.verify(payload, verification_ring(info.context.settings, info.context.services))
        return PayloadVerification(result=VerificationResult(result.verdict.value), claims=cast(JSON, result.claims),
                                   signed_by=result.kid)
