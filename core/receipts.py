"""The signed receipt (giấy tiếp nhận hồ sơ) every received dossier gets.

A receipt says: this dossier code, of this procedure, filed with this agency, was received on this date and
is due on that one; the server's key vouches for it. It names no one: whoever shows it shows their dossier
code, and the agency's desk looks the rest up. Codes and dates are public in the sense that the holder
shows them; the citizen's name and ID number never go in.

Receipts are not stored: they are recomputed from the dossier (Ed25519 signatures are deterministic, so the
same key gives the same bytes every time), which gives every existing dossier its receipt at once. After a
key rotation a dossier's receipt is re-signed by the new key; a receipt printed before still verifies while
the old key stays published (SUPERAPP_SIGNING_KEYS or SUPERAPP_SIGNING_RETIRED_KEYS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core import qr_payload
from core.clock import local_date
from core.signatures import SigningKey

RECEIPT_TYPE = "receipt"


@dataclass(frozen=True)
class Receipt:
    claims: dict[str, Any]
    kid: str
    signature: str
    issued_at: datetime

    @property
    def payload(self) -> str:
        return qr_payload.encode(self.claims, self.kid, self.signature)


def receipt_claims(*, dossier_code: str, procedure_code: str, agency_code: str, received: date, due: date,
                   issuer: str) -> dict[str, Any]:
    return {"typ": RECEIPT_TYPE, "dossier": dossier_code, "procedure": procedure_code, "agency": agency_code,
            "received": received.isoformat(), "due": due.isoformat(), "iss": issuer}


def sign_receipt(*, dossier_code: str, procedure_code: str, agency_code: str, submitted_at: datetime,
                 due: date, tz_name: str, issuer: str, key: SigningKey) -> Receipt:
    claims = receipt_claims(dossier_code=dossier_code, procedure_code=procedure_code, agency_code=agency_code,
                            received=local_date(submitted_at, tz_name), due=due, issuer=issuer)
    return Receipt(claims=claims, kid=key.kid, signature=key.sign(claims), issued_at=submitted_at)
