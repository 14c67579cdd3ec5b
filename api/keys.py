"""Published keys and public verification over plain HTTP: `GET /.well-known/jwks.json` and `POST /verify`.

The JWKS lists every public key a receipt or document of ours may carry (the server's current and retired
keys, and the agency keys the ring is given), so an offline verifier can cache it once and check QR codes
with no signal. It holds nothing private and changes only on rotation: it is cached by clients and proxies.

`POST /verify` is `verifyPayload` for a verifier that speaks no GraphQL (a desk scanner): a JSON body
`{"payload": "VN1...."}` of at most `VERIFY_MAX_BODY` bytes, charged to the caller's IP quota like an
anonymous GraphQL request of the same cost, answered `{"result", "claims", "signedBy"}` (200 for every
verdict; 400 for a body that is not such an object, 429 over the quota).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from api.quota import Quotas, RateLimited
from core import qr_payload
from core.json_body import JSONRefused, loads
from core.server_keys import KeyRing, KeySource, server_keys
from core.settings import Settings
from services.agency_keys import agency_verify_keys
from services.registry import ServiceRegistry

VERIFY_MAX_BODY = 4096
VERIFY_COST = 6  # what `{ verifyPayload(payload) { result claims signedBy } }` costs: the same price either way


def verification_ring(settings: Settings, services: ServiceRegistry | None = None,
                      extra: Sequence[KeySource] = ()) -> KeyRing:
    """The keys this server vouches for: its own first, then the agencies' document keys (each a source read
    on every look-up, so an agency's rotation shows at once), then `extra`.

    Agency keys come from the services that sign documents (kids `agency:<service>:<id>`), so the JWKS,
    `verifyPayload`, `POST /verify` and `superapp verify` all see them."""
    sources: list[KeySource] = [server_keys(settings).source]
    if services is not None:
        registry = services
        sources.append(lambda: agency_verify_keys(registry))
    return KeyRing([*sources, *extra])


def jwks_endpoint(settings: Settings, ring: KeyRing) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def jwks(_: Request) -> JSONResponse:
        max_age = settings.signing.jwks_max_age
        return JSONResponse(ring.jwks(), media_type="application/jwk-set+json",
                            headers={"Cache-Control": f"public, max-age={max_age}"})

    return jwks


def _refused(reason: str) -> JSONResponse:
    return JSONResponse({"error": "BAD_REQUEST", "reason": reason}, status_code=400)


def verify_endpoint(ring: KeyRing, quotas: Quotas | None) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def verify(request: Request) -> JSONResponse:
        if request.method != "POST":
            return JSONResponse({"error": "METHOD_NOT_ALLOWED"}, status_code=405, headers={"Allow": "POST"})
        if quotas is not None:
            try:
                await quotas.charge_caller(principal=None, cost=VERIFY_COST,
                                           client_host=request.client.host if request.client else None)
            except RateLimited as limited:
                return JSONResponse({"error": "RATE_LIMITED", "retryAfter": limited.retry_after}, status_code=429,
                                    headers={"Retry-After": str(limited.retry_after)})
        body = b""
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > VERIFY_MAX_BODY:
                    return JSONResponse({"error": "PAYLOAD_TOO_LARGE"}, status_code=413)
        except ClientDisconnect:
            return _refused("DISCONNECTED")
        try:
            document = loads(body)
        except JSONRefused as error:
            return _refused(error.reason)
        payload = document.get("payload") if isinstance(document, dict) else None
        if not isinstance(payload, str):
            return _refused("NO_PAYLOAD")
        result = qr_payload.verify(payload, ring)
        return JSONResponse({"result": result.verdict.value, "claims": result.claims, "signedBy": result.kid})

    return verify
