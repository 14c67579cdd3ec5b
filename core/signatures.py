"""Ed25519 signatures over a canonical JSON form, shared by everything that signs or verifies offline.

Agencies sign the documents they issue, the server signs receipts, and a verifier with no signal checks
either against published public keys. All of them must agree on the exact bytes signed, so there is one
canonical form (sorted keys, no whitespace, UTF-8, integers and strings only in practice: RFC 8785 JCS for
the values we sign) and one key format (32-byte Ed25519 seeds and public keys in unpadded base64url, the
encoding JWK uses for OKP keys, RFC 8037).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Raises ValueError on anything that is not base64url (padded or not)."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError("not base64url") from error


def is_key_text(text: str) -> bool:
    """Whether `text` is 32 bytes in base64url: the form of an Ed25519 seed or public key in settings."""
    try:
        return len(b64url_decode(text)) == 32
    except ValueError:
        return False


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: the same mapping always gives the same bytes, on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


@dataclass(frozen=True)
class SigningKey:
    """A private key with the id (`kid`) verifiers look it up by."""

    kid: str
    private: Ed25519PrivateKey

    @classmethod
    def from_seed(cls, kid: str, seed_b64url: str) -> SigningKey:
        seed = b64url_decode(seed_b64url)
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        return cls(kid, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        return cls(kid, Ed25519PrivateKey.generate())

    def sign(self, value: Mapping[str, Any]) -> str:
        """The signature of `value`'s canonical form, base64url."""
        return b64url(self.private.sign(canonical_json(value)))

    def public(self) -> VerifyKey:
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return VerifyKey(self.kid, b64url(raw))


@dataclass(frozen=True)
class VerifyKey:
    """A public key as published: `x` is the raw 32-byte key, base64url (the JWK `x` member)."""

    kid: str
    x: str

    def verify(self, value: Mapping[str, Any], signature: str) -> bool:
        """False for a wrong signature, a malformed one, or a malformed key: never raises on bad input."""
        try:
            key = Ed25519PublicKey.from_public_bytes(b64url_decode(self.x))
            key.verify(b64url_decode(signature), canonical_json(value))
        except (InvalidSignature, ValueError):
            return False
        return True

    def jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "kid": self.kid, "x": self.x, "alg": "EdDSA", "use": "sig"}


def seed_of(key: SigningKey) -> str:
    """The base64url seed of a key (for settings files and the sandboxes' demo keys)."""
    raw = key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return b64url(raw)
