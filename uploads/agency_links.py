"""How an agency gets a dossier's attachments: each forwarded dossier (and supplement) lists its attachments'
metadata (name, type, size, sha256) with a download path signed for that agency, valid for
`SUPERAPP_AGENCY_<CODE>_ATTACHMENT_LINK_SECONDS`. The agency fetches `GET <our base URL><download_path>` (the base URL
it already sends its status events to) and checks the bytes against `sha256`.

**Decision:** a signed link rather than the bytes inline: a dossier with ten photos would be a 100 MB JSON
body re-sent whole on every retry of the forward, and an agency fetches (and can re-fetch) each file on its
own schedule. The signature is HMAC-SHA256 with the secret the agency already shares with us for its
status events, over `service`, the upload id and the expiry, so a link names one file for one agency and
dies; the file is served only while it belongs to a dossier that agency was sent.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from core import uploads as store
from core.db import Database
from core.forwarding import AttachmentRef, ForwardAction
from core.models import Dossier, ForwardJob, Upload
from core.settings import Settings
from core.storage import Storage

if TYPE_CHECKING:  # services.dossier_api signs links with this module, and services.registry imports that
    from services.registry import ServiceRegistry


def signature(secret: bytes, *, service: str, upload_id: str, expires: int) -> str:
    message = f"{service}\n{upload_id}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def download_path(secret: bytes, *, service: str, upload_id: str, expires: int) -> str:
    sig = signature(secret, service=service, upload_id=upload_id, expires=expires)
    return (f"/agencies/{quote(service, safe='')}/attachments/{upload_id}"
            f"?expires={expires}&signature={sig}")


def described(ref: AttachmentRef, *, secret: bytes, service: str, link_seconds: int) -> dict[str, Any]:
    """One attachment as the agency receives it (docs/agency-api.yaml, `Attachment`)."""
    expires = int(time.time()) + link_seconds
    return {"id": ref.id, "filename": ref.filename, "content_type": ref.content_type, "size": ref.size,
            "sha256": ref.sha256, "download_path": download_path(secret, service=service, upload_id=ref.id,
                                                                 expires=expires),
            "download_expires_at": expires}


def _refused(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"outcome": "refused", "reason": reason, "message": reason.replace("_", " ").lower()},
                        status_code=status, headers={"Cache-Control": "no-store"})


async def _sent_to(session: AsyncSession, upload: Upload, service: str) -> bool:
    """Whether `service` was sent the dossier holding the upload (or, for an interconnected filing, one of its
    parts): only that agency may fetch it."""
    if upload.dossier_id is None:
        return False
    query = (select(ForwardJob.id).join(Dossier, col(Dossier.id) == ForwardJob.dossier_id)
             .where(ForwardJob.service_code == service, ForwardJob.action == ForwardAction.SUBMIT,
                    (col(Dossier.id) == upload.dossier_id) | (col(Dossier.parent_id) == upload.dossier_id))
             .limit(1))
    return (await session.execute(query)).first() is not None


def attachment_endpoint(*, settings: Settings, db: Database, registry: ServiceRegistry,
                        storage: Storage) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _refused(405, "METHOD_NOT_ALLOWED")
        service, upload_id = request.path_params["service"], request.path_params["upload_id"]
        plugin = registry.get(service)
        if plugin is None or plugin.settings is None or plugin.settings.secret is None:
            return _refused(404, "NOT_FOUND")
        expires_raw, given = request.query_params.get("expires", ""), request.query_params.get("signature", "")
        if not (expires_raw.isascii() and expires_raw.isdigit() and len(expires_raw) <= 12):
            return _refused(403, "BAD_SIGNATURE")
        expires = int(expires_raw)
        wanted = signature(plugin.settings.secret_bytes, service=service, upload_id=upload_id, expires=expires)
        if not hmac.compare_digest(wanted, given):
            return _refused(403, "BAD_SIGNATURE")
        if expires < time.time():
            return _refused(403, "LINK_EXPIRED")
        if not store.looks_like_upload_id(upload_id):
            return _refused(404, "NOT_FOUND")
        async with db.read() as session:
            row = await session.get(Upload, upload_id)
            allowed = row is not None and row.state == store.COMPLETE and await _sent_to(session, row, service)
        if row is None or not allowed:
            return _refused(404, "NOT_FOUND")
        headers = {"Content-Length": str(row.length), "X-Content-Type-Options": "nosniff",
                   "Cache-Control": "private, no-store", "ETag": f'"{row.sha256}"',
                   "X-Checksum-Sha256": str(row.sha256)}
        if request.method == "HEAD":
            return Response(status_code=200, media_type=row.content_type, headers=headers)
        return StreamingResponse(storage.read(row.id), media_type=row.content_type, headers=headers)

    return endpoint
