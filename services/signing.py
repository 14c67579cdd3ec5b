"""HMAC-SHA256 over `timestamp + "." + body`, the signature agencies put on status events.

Shared by our callback endpoint (verify) and the sandboxes (sign), so both sides agree byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Superapp-Timestamp"
SIGNATURE_HEADER = "X-Superapp-Signature"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def signed_headers(secret: bytes, timestamp: str, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body),
            "Content-Type": "application/json"}
