"""Agency-signed results in the wallet: verified on receipt, stored once, never shown as valid unless they verify.

An agency that returns a result signs the document's canonical JSON form (`core.signatures`) with its own key
and sends the document, the signature and the key id with its status event. We check the signature against
that agency's keys only (a key id names its agency: `agency:<service>:<id>`), and that the document is about
the dossier the event moves and names the agency that sent it: a correctly signed document replayed onto
another dossier is as invalid as a forged one. Whatever the outcome the document is stored, so the citizen and
support can see that something arrived, but only VALID is ever presented as valid. The signed form and the
signature travel to the app, so a verifier with no signal checks them against the published keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.documents import issue_document
from core.models import Agency, Document, Dossier
from core.signatures import SigningKey, VerifyKey, b64url, canonical_json


class Verification(StrEnum):
    VALID = "VALID"  # the agency's key verifies the signature over this very document, for this dossier
    INVALID = "INVALID"  # the signature does not verify, or the document is not about this dossier/agency
    UNKNOWN_KEY = "UNKNOWN_KEY"  # signed with a key this agency has not published to us
    UNSIGNED = "UNSIGNED"  # recorded before agencies signed their results


HOLDER_RELATIONS = ("self", "child")
DEMO_KEY_ID = "demo"


def kid_of(service_code: str, key_id: str) -> str:
    """The published id of an agency's key: it names the agency, so no agency can sign as another."""
    return f"agency:{service_code}:{key_id}"


def demo_signing_key(service_code: str, secret: bytes) -> SigningKey:
    """A sandbox's result-signing key, derived from its event secret so the server (outside production) and
    `superapp sandbox` agree with nothing to configure; production never trusts it (`services.agency_keys`)."""
    seed = hashlib.sha256(b"superapp-demo-result-signing\x00" + service_code.encode() + b"\x00" + secret).digest()
    return SigningKey.from_seed(kid_of(service_code, DEMO_KEY_ID), b64url(seed))


@dataclass(frozen=True)
class IssuedResult:
    """A document an agency issued, as its event carried it: `document` is exactly what was signed."""

    document: Mapping[str, Any]
    signature: str
    kid: str
    kind: str
    number: str
    title_vi: str
    title_en: str
    issuer: str
    dossier_code: str
    issued_at: datetime
    valid_from: date | None
    valid_until: date | None
    agency_code: str | None

    def fingerprint(self) -> str:
        """What makes two deliveries the same result (part of the event's content fingerprint)."""
        return canonical_json({"d": self.document, "s": self.signature, "k": self.kid}).decode()


def verify_result(result: IssuedResult, *, service_code: str, dossier_code: str,
                  keys: Sequence[VerifyKey]) -> Verification:
    key = next((k for k in keys if k.kid == result.kid), None)
    if key is None:
        return Verification.UNKNOWN_KEY
    if not key.verify(result.document, result.signature):
        return Verification.INVALID
    if result.dossier_code != dossier_code or result.issuer != service_code:
        return Verification.INVALID
    return Verification.VALID


async def receive_result(session: AsyncSession, *, result: IssuedResult, dossier: Dossier, service_code: str,
                         keys: Sequence[VerifyKey]) -> Document:
    """Store the result in the dossier owner's wallet, once: the same document (kind and number) delivered
    again for the dossier, by a later event or a replay, is the one already stored. The caller holds the
    dossier's row lock, so two deliveries cannot both insert."""
    assert dossier.id is not None
    existing = (await session.execute(select(Document).where(
        Document.dossier_id == dossier.id, Document.kind == result.kind, Document.number == result.number,
    ))).scalars().first()
    if existing is not None:
        return existing
    verification = verify_result(result, service_code=service_code, dossier_code=dossier.code, keys=keys)
    agency_id = dossier.agency_id
    if result.agency_code is not None:
        named = (await session.execute(select(Agency).where(Agency.code == result.agency_code))).scalars().first()
        if named is not None and named.id is not None:
            agency_id = named.id
    return await issue_document(
        session, citizen_id=dossier.citizen_id, dossier_id=dossier.id, agency_id=agency_id, kind=result.kind,
        title_vi=result.title_vi, title_en=result.title_en, number=result.number, issued_at=result.issued_at,
        valid_from=result.valid_from, valid_until=result.valid_until, signed_payload=dict(result.document),
        signature=result.signature, signing_kid=result.kid, verification=verification)


def presented_valid(document: Document, *, today: date) -> bool:
    """What the app may show as a valid document: verified, and inside its validity."""
    if document.verification != Verification.VALID:
        return False
    if document.valid_from is not None and today < document.valid_from:
        return False
    return document.valid_until is None or today <= document.valid_until
