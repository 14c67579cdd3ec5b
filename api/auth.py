"""e-ID bearer tokens: verified against the provider's public key or JWKS, never trusted on their word.

The development issuer key (`superapp token`) is trusted only when `SUPERAPP_EID_ACCEPT_DEV_KEY` allows
it, which it does by default outside production and never by default in production.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from core.id_numbers import looks_like_id_number
from core.json_body import JSONRefused, loads
from core.settings import Settings

ALGORITHMS = ["RS256", "ES256"]
# What a token header may carry. Anything else is refused before any signature check, in particular `crit`
# (no critical extension is understood here), `b64`, and key references the server must never follow
# (`jku`, `x5u`, `jwk`, `x5c`). `x5t` is a certificate thumbprint some providers add; it is only a hint.
_HEADER_PARAMETERS = frozenset({"alg", "kid", "typ", "x5t", "x5t#S256"})
_MAX_KID_LENGTH = 256
_MAX_HEADER_CHARS = 1024
# A token is only ever checked against keys of its own algorithm's family.
_KEY_TYPES: dict[str, type] = {"RS256": rsa.RSAPublicKey, "ES256": ec.EllipticCurvePublicKey}
DEV_KEY_ID = "superapp-dev"


class AuthError(Exception):
    """Why a token was refused, as a stable reason for `extensions.reason`."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Principal:
    id_number: str
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Key:
    kid: str | None
    key: Any


def load_dev_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The local development issuer's key, made on first use (mode 0600)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        path.touch(mode=0o600)
        path.write_bytes(pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} is not an EC private key")
    return loaded


def issue_dev_token(settings: Settings, *, id_number: str, ttl_seconds: int = 12 * 3600,
                    extra_claims: dict[str, Any] | None = None) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": settings.auth.eid_issuer, "aud": settings.auth.eid_audience, "sub": id_number,
                              "iat": now, "nbf": now, "exp": now + ttl_seconds, **(extra_claims or {})}
    key = load_dev_private_key(settings.dev_key_path)
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": DEV_KEY_ID})


def _configured_keys(settings: Settings) -> list[_Key]:
    keys: list[_Key] = []
    if settings.auth.eid_public_key_file:
        keys.append(_Key(None, serialization.load_pem_public_key(settings.auth.eid_public_key_file.read_bytes())))
    if settings.auth.eid_jwks_file:
        jwks = jwt.PyJWKSet.from_json(settings.auth.eid_jwks_file.read_text(encoding="utf-8"))
        keys.extend(_Key(k.key_id, k.key) for k in jwks.keys)
    if settings.auth.eid_accept_dev_key:
        keys.append(_Key(DEV_KEY_ID, load_dev_private_key(settings.dev_key_path).public_key()))
    return keys


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._keys = _configured_keys(settings)

    def _candidates(self, token: str) -> list[_Key]:
        header = token_header(token)
        kid = header.get("kid")
        usable = [k for k in self._keys if isinstance(k.key, _KEY_TYPES[header["alg"]])]
        matching = [k for k in usable if kid is not None and k.kid == kid]
        return matching or [k for k in usable if k.kid is None or kid is None]

    def verify(self, token: str) -> Principal:
        candidates = self._candidates(token)
        if not candidates:
            raise AuthError("UNKNOWN_KEY")
        last: AuthError = AuthError("BAD_SIGNATURE")
        for candidate in candidates:
            try:
                claims = jwt.decode(
                    token, candidate.key, algorithms=ALGORITHMS, audience=self._settings.auth.eid_audience,
                    issuer=self._settings.auth.eid_issuer, leeway=self._settings.auth.eid_leeway_seconds,
                    options={"require": ["exp", "iss", "aud", "sub"]},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError as exc:
                raise AuthError("TOKEN_EXPIRED") from exc
            except jwt.InvalidAudienceError as exc:
                raise AuthError("WRONG_AUDIENCE") from exc
            except jwt.InvalidIssuerError as exc:
                raise AuthError("WRONG_ISSUER") from exc
            except jwt.ImmatureSignatureError as exc:
                raise AuthError("TOKEN_NOT_YET_VALID") from exc
            except jwt.MissingRequiredClaimError as exc:
                raise AuthError("MISSING_CLAIM") from exc
            except (jwt.PyJWTError, TypeError, ValueError) as exc:  # a key the token cannot be checked with
                last = AuthError("MALFORMED_TOKEN")
                last.__cause__ = exc
                continue
            subject = str(claims["sub"])
            if not looks_like_id_number(subject):
                raise AuthError("BAD_SUBJECT")
            self._check_lifetime(claims)
            return Principal(id_number=subject, claims=claims)
        raise last


    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        """A stolen token is worth its lifetime: one valid longer than SUPERAPP_EID_MAX_TOKEN_LIFETIME_SECONDS,
        by what it was issued for (exp - iat) or by what is left of it (exp - now), is refused whoever signed it
        (TOKEN_LIFETIME_TOO_LONG), and so is an `iat` that is not a number."""
        cap = self._settings.auth.eid_max_token_lifetime_seconds
        leeway = self._settings.auth.eid_leeway_seconds
        expires, issued = claims["exp"], claims.get("iat")
        if issued is not None and (not isinstance(issued, int | float) or isinstance(issued, bool)):
            raise AuthError("MALFORMED_TOKEN")
        if expires - time.time() > cap + leeway or (issued is not None and expires - issued > cap):
            raise AuthError("TOKEN_LIFETIME_TOO_LONG")


def token_header(token: str) -> dict[str, Any]:
    """The token's header, read by us (bounded JSON) and checked before PyJWT sees the token: PyJWT raises
    exceptions of its own on a `kid` that is not a string or an unknown `crit`, and parses the header with
    unbounded `json.loads`. Malformed -> MALFORMED_TOKEN; well-formed but unexpected -> UNSUPPORTED_HEADER."""
    segments = token.split(".")
    if len(segments) != 3 or len(segments[0]) > _MAX_HEADER_CHARS:
        raise AuthError("MALFORMED_TOKEN")
    try:
        raw = base64.urlsafe_b64decode(segments[0] + "=" * (-len(segments[0]) % 4))
        header = loads(raw)
    except (binascii.Error, ValueError, JSONRefused) as exc:
        raise AuthError("MALFORMED_TOKEN") from exc
    if not isinstance(header, dict):
        raise AuthError("MALFORMED_TOKEN")
    if header.get("alg") not in ALGORITHMS:
        raise AuthError("UNSUPPORTED_ALGORITHM")
    kid = header.get("kid", DEV_KEY_ID)
    typ = header.get("typ", "JWT")
    if (set(header) - _HEADER_PARAMETERS
            or not (isinstance(kid, str) and 0 < len(kid) <= _MAX_KID_LENGTH)
            or not (isinstance(typ, str) and typ.lower() in ("jwt", "at+jwt"))
            or any(not isinstance(header.get(k, ""), str) for k in ("x5t", "x5t#S256"))):
        raise AuthError("UNSUPPORTED_HEADER")
    return header


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthError("MALFORMED_HEADER")
    return value.strip()


def public_jwks(settings: Settings) -> str:
    """The dev issuer's public key as a JWKS document (for tools that want to verify demo tokens)."""
    public = load_dev_private_key(settings.dev_key_path).public_key()
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
    jwk.update({"kid": DEV_KEY_ID, "use": "sig", "alg": "ES256"})
    return json.dumps({"keys": [jwk]})
