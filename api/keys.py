"""Published keys and public verification over plain HTTP: `GET /.well-known/jwks.json`.

The JWKS lists every public key a receipt or document of ours may carry (the server's current and retired
keys, and the agency keys the ring is given), so an offline verifier can cache it once and check QR codes
with no signal. It holds nothing private and changes only on rotation: it is cached by clients and proxies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse

from core.server_keys import KeyRing, KeySource, server_keys
from core.settings import Settings


def verification_ring(settings: Settings, extra: Sequence[KeySource] = ()) -> KeyRing:
    """The keys this server vouches for: its own first, then `extra` (agencies' document keys)."""
    return KeyRing([server_keys(settings).source, *extra])


def jwks_endpoint(settings: Settings, ring: KeyRing) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def jwks(_: Request) -> JSONResponse:
        max_age = settings.signing.jwks_max_age
        return JSONResponse(ring.jwks(), media_type="application/jwk-set+json",
                            headers={"Cache-Control": f"public, max-age={max_age}"})

    return jwks
