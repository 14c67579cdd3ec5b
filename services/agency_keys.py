"""Agencies' result-signing keys: the public keys we verify issued documents with, and the sandboxes'
matching private keys.

An agency signs each document it issues (Ed25519 over the canonical JSON of the document, `core.signatures`)
with a key only it holds; we hold its public keys, from `SUPERAPP_AGENCY_<CODE>_SIGNING_KEYS` (a JSON object
`{"<key id>": "<public key, base64url>"}`, several during a rotation). A key's published id is
`agency:<service code>:<key id>`, so one agency can never present a document under another's key.

Outside production, a service with no configured key trusts its sandbox's demo key, derived from the
agency's event secret: the server and `superapp sandbox` read the same secret, so they agree with nothing
to configure. Production never derives keys: an agency with none configured has every result flagged
UNKNOWN_KEY, never VALID.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.signatures import VerifyKey
from core.wallet import DEMO_KEY_ID, demo_signing_key, kid_of

__all__ = ["DEMO_KEY_ID", "agency_verify_keys", "demo_signing_key", "kid_of", "verify_keys"]

if TYPE_CHECKING:
    from services.registry import ServiceRegistry

def verify_keys(service_code: str, configured: dict[str, str], *, secret: bytes | None,
                production: bool) -> list[VerifyKey]:
    """The service's keys: the configured ones, else (outside production) its sandbox's demo key."""
    if configured:
        return [VerifyKey(kid_of(service_code, key_id), x) for key_id, x in sorted(configured.items())]
    if production or secret is None:
        return []
    return [demo_signing_key(service_code, secret).public()]


def agency_verify_keys(registry: ServiceRegistry) -> list[VerifyKey]:
    """Every loaded agency's verification keys (for the published key set and offline verifiers)."""
    keys: list[VerifyKey] = []
    for code in sorted(registry.plugins):
        keys.extend(registry.plugins[code].verify_keys())
    return keys
