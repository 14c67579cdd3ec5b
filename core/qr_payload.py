"""The text a QR code carries for a signed receipt or document, and its verification.

`VN1.<claims>.<kid>.<signature>`: the version tag, the canonical JSON of the claims in unpadded base64url,
the signer's key id, and the Ed25519 signature of those canonical bytes. Everything a verifier needs is in
it except the public key, which it finds by kid in the published JWKS (cached, so verification works
offline). It carries only the claims, so it holds no more personal data than its claims do, and stays under
`MAX_PAYLOAD_CHARS` (1 KB) so that a phone's camera reads it from a screen or a print at QR version <= 25.

Decoding is strict: only the one canonical spelling of a payload is accepted (canonical JSON, base64url
without padding and with zero trailing bits), so a changed character is never silently equivalent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.server_keys import KID_PATTERN, KeyRing
from core.signatures import b64url, b64url_decode, canonical_json

VERSION = "VN1"
MAX_PAYLOAD_CHARS = 1024


class Verdict(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"  # well formed, but the signature does not match: altered, or signed by someone else
    UNKNOWN_KEY = "UNKNOWN_KEY"  # no published key has this kid (never issued, or withdrawn)
    MALFORMED = "MALFORMED"  # not a payload of ours at all


class Malformed(ValueError):
    pass


@dataclass(frozen=True)
class Decoded:
    claims: dict[str, Any]
    kid: str
    signature: str


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    claims: dict[str, Any] | None = None  # only when VALID: unverified claims are never shown as facts
    kid: str | None = None


def encode(claims: Mapping[str, Any], kid: str, signature: str) -> str:
    """The payload of already-signed claims (a receipt, or an agency's document and its stored signature)."""
    payload = f"{VERSION}.{b64url(canonical_json(claims))}.{kid}.{signature}"
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise ValueError(f"a QR payload must stay under {MAX_PAYLOAD_CHARS} characters ({len(payload)})")
    return payload


def _strict_b64(text: str) -> bytes:
    raw = b64url_decode(text)
    if b64url(raw) != text:  # padding, stray characters or non-zero trailing bits
        raise Malformed("not canonical base64url")
    return raw


def decode(payload: str) -> Decoded:
    """The parts of a payload, or Malformed. Says nothing about the signature."""
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise Malformed("too long")
    version, _, rest = payload.partition(".")
    claims_part, _, rest = rest.partition(".")
    kid, _, signature = rest.rpartition(".")  # a kid may hold dots; base64url never does
    if version != VERSION or not claims_part or not signature or not KID_PATTERN.fullmatch(kid):
        raise Malformed("not a VN1 payload")
    try:
        raw = _strict_b64(claims_part)
        claims = json.loads(raw.decode("utf-8"))
        if len(_strict_b64(signature)) != 64:
            raise Malformed("an Ed25519 signature is 64 bytes")
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise Malformed(str(error)) from error
    if not isinstance(claims, dict):
        raise Malformed("claims are not an object")
    try:
        canonical = canonical_json(claims)
    except ValueError as error:
        raise Malformed("claims are not canonical JSON") from error
    if canonical != raw:
        raise Malformed("claims are not in canonical form")
    return Decoded(claims=claims, kid=kid, signature=signature)


def verify(payload: str, ring: KeyRing) -> Verification:
    try:
        decoded = decode(payload)
    except Malformed:
        return Verification(Verdict.MALFORMED)
    key = ring.find(decoded.kid)
    if key is None:
        return Verification(Verdict.UNKNOWN_KEY, kid=decoded.kid)
    if not key.verify(decoded.claims, decoded.signature):
        return Verification(Verdict.INVALID, kid=decoded.kid)
    return Verification(Verdict.VALID, claims=decoded.claims, kid=decoded.kid)
