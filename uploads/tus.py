"""`/uploads/`: the tus 1.0.0 resumable upload protocol (core, creation, checksum, termination,
expiration), so a photo of a paper sent over a 2G link that drops mid-file goes on from where it stopped.

The app creates an upload (`POST /uploads/` with `Upload-Length` and `Upload-Metadata`), sends it in chunks
(`PATCH /uploads/<id>` with `Upload-Offset`, ideally `Upload-Checksum` per chunk), asks how far it got after
a drop (`HEAD`), and attaches the finished upload's id to a filing or a supplement. Every request carries the
citizen's bearer token, as on `/graphql`; another citizen's upload answers 404, as one that does not exist.
Refusals are JSON bodies with a code and both languages (`{"errors": [{"message", "extensions": {"code",
"messageVi", "messageEn"}}]}`) and the tus status the protocol names.

A PATCH with a checksum is read whole (one chunk, at most `SUPERAPP_UPLOADS_CHUNK_BYTES`), checked, and only
then stored: a damaged chunk answers 460 and is discarded. A PATCH without one is stored as it arrives, so
the bytes that came before a drop are kept and counted (what tus clients expect). The content's type is
checked from its first bytes as soon as they are in, and again when complete; a file of another type is
deleted and answered 415.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from api.auth import AuthError, Principal, TokenVerifier, bearer_token
from api.graphql.outage import RETRY_AFTER_SECONDS
from api.quota import Quotas, RateLimited
from api.refusal import preferred_locale
from core import uploads as store
from core.citizens import citizen_by_id_number, enrol_citizen
from core.clock import utc_now
from core.db import Database, is_outage
from core.errors import ErrorCode, render
from core.models import Upload
from core.settings import Settings
from core.storage import Storage
from core.text import ascii_digits
from uploads.content import HEAD_BYTES, detect

log = logging.getLogger("superapp.uploads")

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,checksum,termination,expiration"
CHECKSUMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
OFFSET_STREAM = "application/offset+octet-stream"
PATH = "/uploads"
_FILENAME_MAX = 255
_METADATA_MAX = 4096


class Refused(Exception):
    def __init__(self, status: int, code: ErrorCode, *, headers: dict[str, str] | None = None,
                 **params: Any) -> None:
        self.status, self.code, self.params, self.headers = status, code, params, headers or {}
        super().__init__(code.value)


def error_response(status: int, code: ErrorCode, *, locale: str = "vi", headers: dict[str, str] | None = None,
                   **params: Any) -> Response:
    """A refusal of the upload endpoint, shaped like the app's other errors."""
    vi, en = render(code, params)
    body = {"errors": [{"message": en if locale == "en" else vi,
                        "extensions": {"code": code.value, "messageVi": vi, "messageEn": en}}]}
    return JSONResponse(body, status_code=status,
                        headers={"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **(headers or {})})


def _http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def parse_metadata(raw: str | None) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated `key base64value` pairs; only `filename` and `filetype` are read
    (the declared type is never trusted: the content decides)."""
    if raw is None or not raw.strip():
        return {}
    if len(raw) > _METADATA_MAX:
        raise Refused(400, ErrorCode.UPLOAD_BAD_REQUEST, detail="Upload-Metadata quá dài",
                      detail_en="Upload-Metadata is too long")
    pairs: dict[str, str] = {}
    for item in raw.split(","):
        key, _, value = item.strip().partition(" ")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value.strip() else ""
        except (binascii.Error, UnicodeDecodeError) as error:
            raise Refused(400, ErrorCode.UPLOAD_BAD_REQUEST, detail="Upload-Metadata không phải base64",
                          detail_en="Upload-Metadata is not base64") from error
        pairs[key] = decoded
    return pairs


def clean_filename(name: str) -> str:
    """The app's name for the file, kept only to show back: no directories, no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    return name.strip()[:_FILENAME_MAX]


class TusEndpoint:
    def __init__(self, *, settings: Settings, db: Database, verifier: TokenVerifier, quotas: Quotas,
                 storage: Storage) -> None:
        self.settings, self.config = settings, settings.uploads
        self.db, self.verifier, self.quotas, self.storage = db, verifier, quotas, storage

    def routes(self) -> list[Route]:
        every = ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS", "PUT"]
        return [Route(f"{PATH}/", self.collection, methods=every),
                Route(PATH, self.collection, methods=every),  # an endpoint configured without the slash
                Route(f"{PATH}/{{upload_id}}", self.resource, methods=every)]

    # -- plumbing ------------------------------------------------------------------------------------------

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **extra}

    def _options(self) -> Response:
        return Response(status_code=204, headers=self._headers(
            **{"Tus-Version": TUS_VERSION, "Tus-Extension": EXTENSIONS, "Tus-Max-Size": str(self.config.max_bytes),
               "Tus-Checksum-Algorithm": ",".join(CHECKSUMS)}))

    async def _guarded(self, request: Request, work: Callable[[int], Awaitable[Response]]) -> Response:
        """Every method but OPTIONS: the tus version, the quota, the token, then the work."""
        locale = preferred_locale(request.headers.get("accept-language"))
        try:
            if request.headers.get("tus-resumable") != TUS_VERSION:
                raise Refused(412, ErrorCode.UPLOAD_BAD_REQUEST, headers={"Tus-Version": TUS_VERSION},
                              detail=f"cần Tus-Resumable: {TUS_VERSION}",
                              detail_en=f"Tus-Resumable: {TUS_VERSION} is required")
            principal = self._principal(request)
            client = request.client.host if request.client else None
            try:  # a request without a valid token is charged to its client IP, as on /graphql (api/quota.py)
                await self.quotas.charge_caller(principal=principal, client_host=client, cost=1)
            except RateLimited as limited:
                raise Refused(429, ErrorCode.RATE_LIMITED, headers={"Retry-After": str(limited.retry_after)},
                              retry_after=limited.retry_after) from None
            if principal is None:
                raise Refused(401, ErrorCode.UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})
            return await work(await self._citizen_id(principal))
        except Refused as refused:
            return error_response(refused.status, refused.code, locale=locale, headers=refused.headers,
                                  **refused.params)
        except Exception as error:
            if not is_outage(error):
                raise
            # The database is briefly gone: retryable, like /graphql's SERVICE_UNAVAILABLE; the bytes of a
            # PATCH already stored are counted again from the offset the database still holds.
            return error_response(503, ErrorCode.SERVICE_UNAVAILABLE, locale=locale,
                                  headers={"Retry-After": str(RETRY_AFTER_SECONDS)}, retry_after=RETRY_AFTER_SECONDS)

    def _principal(self, request: Request) -> Principal | None:
        """The token's citizen; None without a token or with a bad one (refused after the IP is charged)."""
        try:
            token = bearer_token(request.headers.get("authorization"))
            return self.verifier.verify(token) if token else None
        except AuthError:
            return None

    async def _citizen_id(self, principal: Principal) -> int:
        async with self.db.read() as session:
            citizen = await citizen_by_id_number(session, principal.id_number)
        if citizen is None:
            citizen = await self.db.transaction(lambda session: enrol_citizen(
                session, id_number=principal.id_number, claims=principal.claims))
        assert citizen.id is not None
        return citizen.id

    async def _owned(self, citizen_id: int, upload_id: str) -> Upload:
        async with self.db.read() as session:
            row = await store.owned(session, citizen_id=citizen_id, upload_id=upload_id)
        if row is None or (row.dossier_id is None and row.expires_at < utc_now()):  # expired: pruned soon
            raise Refused(404, ErrorCode.UPLOAD_NOT_FOUND)
        return row

    # -- routes --------------------------------------------------------------------------------------------

    async def collection(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self._options()
        if request.method != "POST":
            return error_response(405, ErrorCode.UPLOAD_BAD_REQUEST, headers={"Allow": "POST, OPTIONS"},
                                  detail="phương thức không dùng ở đây", detail_en="method not allowed here")
        return await self._guarded(request, lambda citizen_id: self.create(request, citizen_id))

    async def resource(self, request: Request) -> Response:
        upload_id = request.path_params["upload_id"]
        handlers: dict[str, Callable[[int], Awaitable[Response]]] = {
            "HEAD": lambda c: self.head(c, upload_id), "PATCH": lambda c: self.patch(request, c, upload_id),
            "DELETE": lambda c: self.delete(c, upload_id), "GET": lambda c: self.download(c, upload_id)}
        if request.method == "OPTIONS":
            return self._options()
        if request.method not in handlers:
            return error_response(405, ErrorCode.UPLOAD_BAD_REQUEST,
                                  headers={"Allow": "HEAD, PATCH, DELETE, GET, OPTIONS"},
                                  detail="phương thức không dùng ở đây", detail_en="method not allowed here")
        return await self._guarded(request, handlers[request.method])

    async def create(self, request: Request, citizen_id: int) -> Response:
        if "upload-defer-length" in request.headers:
            raise Refused(400, ErrorCode.UPLOAD_BAD_REQUEST, detail="cần biết trước Upload-Length",
                          detail_en="Upload-Length must be known (no Upload-Defer-Length)")
        raw = request.headers.get("upload-length", "")
        if not ascii_digits(raw) or len(raw) > 15:
            raise Refused(400, ErrorCode.UPLOAD_BAD_REQUEST, detail="thiếu hoặc sai Upload-Length",
                          detail_en="Upload-Length is missing or not a number")
        length = int(raw)
        if length > self.config.max_bytes:
            raise Refused(413, ErrorCode.UPLOAD_TOO_LARGE, maximum=self.config.max_bytes)
        if length == 0:
            raise Refused(400, ErrorCode.UPLOAD_BAD_REQUEST, detail="tệp rỗng", detail_en="the file is empty")
        if request.headers.get("content-length", "0") not in ("", "0"):
            raise Refused(400, ErrorCode.UPLOAD_BAD_REQUEST, detail="tạo trước, gửi nội dung bằng PATCH",
                          detail_en="create first, then send the content with PATCH")
        metadata = parse_metadata(request.headers.get("upload-metadata"))
        filename = clean_filename(metadata.get("filename", "") or metadata.get("name", ""))
        now = utc_now()
        maximum = self.config.max_open_per_citizen

        async def work(session: Any) -> Upload:
            if await store.count_unused(session, citizen_id) >= maximum:
                raise Refused(429, ErrorCode.TOO_MANY_UPLOADS, maximum=maximum)
            return store.create(session, citizen_id=citizen_id, length=length, filename=filename, now=now,
                                expires_in=timedelta(seconds=self.config.expiry_seconds))

        row = await self.db.transaction(work)
        return Response(status_code=201, headers=self._headers(
            Location=f"{PATH}/{row.id}", **{"Upload-Offset": "0", "Upload-Expires": _http_date(row.expires_at)}))

    async def head(self, citizen_id: int, upload_id: str) -> Response:
        row = await self._owned(citizen_id, upload_id)
        headers = {"Upload-Offset": str(row.offset), "Upload-Length": str(row.length)}
        if row.dossier_id is None:
            headers["Upload-Expires"] = _http_date(row.expires_at)
        return Response(status_code=200, headers=self._headers(**headers))

    async def delete(self, citizen_id: int, upload_id: str) -> Response:
        row = await self._owned(citizen_id, upload_id)
        if row.dossier_id is not None:
            raise Refused(409, ErrorCode.UPLOAD_ALREADY_ATTACHED, upload_id=row.id)
        await self.db.transaction(lambda session: store.remove(session, row.id))
        await self.storage.delete(row.id)
        return Response(status_code=204, headers=self._headers())

    async def download(self, citizen_id: int, upload_id: str) -> Response:
        """The owner's own copy (to show what was attached); never anyone else's."""
        row = await self._owned(citizen_id, upload_id)
        if row.state != store.COMPLETE:
            raise Refused(409, ErrorCode.UPLOAD_INCOMPLETE, upload_id=row.id)
        return StreamingResponse(self.storage.read(row.id), media_type=row.content_type, headers=self._headers(
            **{"Content-Length": str(row.length), "X-Content-Type-Options": "nosniff",
               "Content-Disposition": "attachment", "ETag": f'"{row.sha256}"'}))

    async def patch(self, request: Request, citizen_id: int, upload_id: str) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != OFFSET_STREAM:
            raise Refused(415, ErrorCode.UPLOAD_BAD_REQUEST, detail=f"Content-Type phải là {OFFSET_STREAM}",
                          detail_en=f"Content-Type must be {OFFSET_STREAM}")
        claimed = request.headers.get("upload-offset", "")
        if not ascii_digits(claimed) or len(claimed) > 15:
            raise Refused(400, ErrorCode.UPLOAD_BAD_REQUEST, detail="thiếu hoặc sai Upload-Offset",
                          detail_en="Upload-Offset is missing or not a number")
        checksum = self._checksum(request.headers.get("upload-checksum"))
        row = await self._owned(citizen_id, upload_id)
        offset = int(claimed)
        if row.state == store.COMPLETE or offset != row.offset:
            raise Refused(409, ErrorCode.UPLOAD_OFFSET_MISMATCH, offset=row.offset,
                          headers={"Upload-Offset": str(row.offset)})
        declared = request.headers.get("content-length")
        if declared is not None and ascii_digits(declared) and offset + int(declared) > row.length:
            raise Refused(413, ErrorCode.UPLOAD_TOO_LARGE, maximum=row.length)
        now = utc_now()
        lease = timedelta(seconds=self._lease_seconds(declared))
        if not await self.db.transaction(lambda session: store.take_lease(
                session, upload_id=row.id, offset=offset, now=now, until=now + lease)):
            # Another PATCH of this upload is still being written (often the one whose connection just
            # dropped, not yet noticed): tus clients retry a 423 after a pause.
            raise Refused(423, ErrorCode.UPLOAD_OFFSET_MISMATCH, offset=row.offset, headers={"Retry-After": "2"})
        stored = [offset]  # what is on disk so far: kept when the body stops early (drop, timeout)
        try:
            if checksum is not None:
                stored[0] = await self._write_checked(request, row, offset, checksum)
            else:
                await self._write_streamed(request, row, offset, stored)
            if stored[0] > offset:
                await self._check_type(row, before=offset, after=stored[0])
        except Refused as refused:
            if refused.code is ErrorCode.UPLOAD_TYPE_NOT_ALLOWED:
                await self._discard(row.id)
            else:
                await self.db.transaction(lambda session: store.advance(session, upload_id=row.id,
                                                                        offset=stored[0]))
            raise
        except BaseException:
            await self.db.transaction(lambda session: store.advance(session, upload_id=row.id, offset=stored[0]))
            raise
        written = stored[0]
        if written == row.length:
            await self._complete(row)
        else:
            await self.db.transaction(lambda session: store.advance(session, upload_id=row.id, offset=written))
        return Response(status_code=204, headers=self._headers(
            **{"Upload-Offset": str(written), "Upload-Expires": _http_date(row.expires_at)}))

    # -- writing -------------------------------------------------------------------------------------------

    def _lease_seconds(self, declared: str | None) -> float:
        """As long as the body deadline lets this chunk take (api/body_timeout.py), and a margin: the lease
        ends with the request, but outlives a server that died holding it (then the upload answers 423 until
        it ends; smaller chunks keep that short)."""
        server = self.settings.server
        size = int(declared) if declared is not None and ascii_digits(declared) else self.config.chunk_bytes
        size = min(size, self.config.chunk_bytes)
        credit = size / server.body_min_rate_bytes if server.body_min_rate_bytes else 0.0
        return server.body_timeout_seconds + credit + 30

    def _checksum(self, header: str | None) -> tuple[str, bytes] | None:
        if header is None:
            return None
        algorithm, _, value = header.strip().partition(" ")
        if algorithm.lower() not in CHECKSUMS:
            raise Refused(400, ErrorCode.UPLOAD_BAD_REQUEST, detail="thuật toán kiểm tra không hỗ trợ",
                          detail_en=f"checksum algorithm not supported (use {', '.join(CHECKSUMS)})")
        try:
            digest = base64.b64decode(value.strip(), validate=True)
        except binascii.Error:
            raise Refused(400, ErrorCode.UPLOAD_BAD_REQUEST, detail="Upload-Checksum không phải base64",
                          detail_en="Upload-Checksum is not base64") from None
        return algorithm.lower(), digest

    def _room(self, row: Upload, offset: int) -> int:
        return min(row.length - offset, self.config.chunk_bytes)

    async def _write_checked(self, request: Request, row: Upload, offset: int,
                             checksum: tuple[str, bytes]) -> int:
        """The whole chunk, checked before one byte of it is kept; a drop keeps nothing of it."""
        room = self._room(row, offset)
        body = bytearray()
        try:
            async for piece in request.stream():
                body += piece
                if len(body) > room:
                    raise Refused(413, ErrorCode.UPLOAD_TOO_LARGE, maximum=row.length)
        except ClientDisconnect:
            return offset
        algorithm, expected = checksum
        if CHECKSUMS[algorithm](bytes(body)).digest() != expected:
            raise Refused(460, ErrorCode.UPLOAD_CHECKSUM_MISMATCH)
        await self.storage.write(row.id, offset, bytes(body))
        return offset + len(body)

    async def _write_streamed(self, request: Request, row: Upload, offset: int, stored: list[int]) -> None:
        """Stored as it arrives (`stored[0]` follows): what came before a drop or a body timeout is kept and
        counted, so the app resumes after it."""
        room = self._room(row, offset)
        pending = bytearray()
        try:
            async for piece in request.stream():
                if stored[0] + len(pending) + len(piece) - offset > room:
                    raise Refused(413, ErrorCode.UPLOAD_TOO_LARGE, maximum=row.length)
                pending += piece
                if len(pending) >= 64 * 1024:
                    await self.storage.write(row.id, stored[0], bytes(pending))
                    stored[0], pending = stored[0] + len(pending), bytearray()
        except ClientDisconnect:
            pass
        finally:
            if pending:
                await self.storage.write(row.id, stored[0], bytes(pending))
                stored[0] += len(pending)

    async def _check_type(self, row: Upload, *, before: int, after: int) -> None:
        """As soon as the first bytes are in (and again at the end): a file of another type goes no further."""
        threshold = min(row.length, HEAD_BYTES)
        if before < threshold <= after or after == row.length:
            self._allowed(detect(await self.storage.head(row.id, HEAD_BYTES)))

    def _allowed(self, detected: str | None) -> str:
        if detected is None or detected not in self.config.allowed:
            raise Refused(415, ErrorCode.UPLOAD_TYPE_NOT_ALLOWED, detected=detected or "không rõ",
                          detected_en=detected or "unknown")
        return detected

    async def _discard(self, upload_id: str) -> None:
        await self.db.transaction(lambda session: store.remove(session, upload_id))
        await self.storage.delete(upload_id)

    async def _complete(self, row: Upload) -> None:
        try:
            content_type = self._allowed(detect(await self.storage.head(row.id, HEAD_BYTES)))
        except Refused:
            await self._discard(row.id)
            raise
        sha256 = await self.storage.digest(row.id)
        await self.storage.finish(row.id)
        now = utc_now()
        keep = timedelta(days=self.config.unattached_days)
        await self.db.transaction(lambda session: store.mark_complete(
            session, upload_id=row.id, content_type=content_type, sha256=sha256, now=now, keep_for=keep))
        row.expires_at = now + keep
        log.info("upload complete: %s bytes of %s", row.length, content_type)
