"""Where attachments' bytes live: never in the database (its rows stay small), behind one interface, so a
deployment can move them to an object store without touching the protocol or the dossiers.

Two backends: `LocalStorage` (a directory, the default) and `S3Storage` (an S3-compatible bucket). Keys are
upload ids the server made (random, URL-safe), checked again here: no path is ever built from what
a client sent. An upload is written to a partial file chunk by chunk at the offset the database holds,
and moved into place atomically (fsync, rename, fsync of the directory) once complete and checked.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

import httpx

from core.settings import UploadSettings

_KEY = re.compile(r"[A-Za-z0-9_-]{16,43}")
READ_BLOCK = 256 * 1024


class Storage(Protocol):
    async def write(self, key: str, offset: int, data: bytes) -> None:
        """Store `data` at `offset` of the unfinished upload, dropping anything stored past `offset` (bytes
        of an earlier attempt the database never counted)."""

    async def head(self, key: str, size: int) -> bytes:
        """The first `size` bytes of the unfinished upload."""

    async def digest(self, key: str) -> str:
        """The sha256 (hex) of the unfinished upload as stored."""

    async def finish(self, key: str) -> None:
        """The unfinished upload becomes the durable file, atomically."""

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The finished file, in blocks."""

    async def delete(self, key: str) -> None:
        """Both the unfinished and the finished file, whichever exists; nothing when neither does."""


def checked_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError("not an upload key")
    return key


class LocalStorage:
    """A directory on the server's disk (`SUPERAPP_UPLOADS_DIR`): `partial/<id>` while uploading,
    `files/<id>` once complete."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._partial, self._files = root / "partial", root / "files"

    def _ensure(self) -> None:
        self._partial.mkdir(parents=True, exist_ok=True)
        self._files.mkdir(parents=True, exist_ok=True)

    def partial_path(self, key: str) -> Path:
        return self._partial / checked_key(key)

    def final_path(self, key: str) -> Path:
        return self._files / checked_key(key)

    async def write(self, key: str, offset: int, data: bytes) -> None:
        await asyncio.to_thread(self._write, self.partial_path(key), offset, data)

    def _write(self, path: Path, offset: int, data: bytes) -> None:
        self._ensure()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size != offset:
                os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)  # an offset the server answers must survive a crash
        finally:
            os.close(fd)

    async def head(self, key: str, size: int) -> bytes:
        path = self.partial_path(key)

        def read() -> bytes:
            with path.open("rb") as file:
                return file.read(size)

        return await asyncio.to_thread(read)

    async def digest(self, key: str) -> str:
        path = self.partial_path(key)

        def hash_file() -> str:
            digest = hashlib.sha256()
            with path.open("rb") as file:
                while block := file.read(READ_BLOCK):
                    digest.update(block)
            return digest.hexdigest()

        return await asyncio.to_thread(hash_file)

    async def finish(self, key: str) -> None:
        source, target = self.partial_path(key), self.final_path(key)

        def move() -> None:
            self._ensure()
            fd = os.open(source, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(source, target)
            directory = os.open(self._files, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

        await asyncio.to_thread(move)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        file = await asyncio.to_thread(self.final_path(key).open, "rb")
        try:
            while block := await asyncio.to_thread(file.read, READ_BLOCK):
                yield block
        finally:
            file.close()

    async def delete(self, key: str) -> None:
        def remove() -> None:
            for path in (self.partial_path(key), self.final_path(key)):
                path.unlink(missing_ok=True)

        await asyncio.to_thread(remove)


class S3Storage:
    """An S3-compatible bucket (`SUPERAPP_UPLOADS_S3_*`), spoken to with httpx and Signature V4, path-style.

    S3 cannot append to an object, and multipart parts must be 5 MB but the last, while tus chunks are smaller:
    so each stored chunk is its own object `<prefix>partial/<id>/<offset, 20 digits>`, and `finish` writes the
    whole file as `<prefix>files/<id>` (at most SUPERAPP_UPLOADS_MAX_BYTES, 10 MB, held in memory once) and then
    deletes the chunks. A write at an offset first deletes the chunks at or past it (what the database never
    counted)."""

    def __init__(self, *, endpoint: str, bucket: str, region: str, access_key: str, secret_key: str,
                 prefix: str = "uploads/", timeout: float = 30.0) -> None:
        self.endpoint, self.bucket, self.region = endpoint.rstrip("/"), bucket, region
        self.access_key, self.secret_key, self.prefix, self.timeout = access_key, secret_key, prefix, timeout

    def _chunk(self, key: str, offset: int) -> str:
        return f"{self.prefix}partial/{checked_key(key)}/{offset:020d}"

    def _final(self, key: str) -> str:
        return f"{self.prefix}files/{checked_key(key)}"

    async def _call(self, method: str, name: str = "", *, body: bytes = b"",
                    query: dict[str, str] | None = None, ok: tuple[int, ...] = (200,)) -> httpx.Response:
        path = f"/{self.bucket}/{quote(name, safe='/-_.~')}" if name else f"/{self.bucket}"
        headers = sigv4_headers(method=method, endpoint=self.endpoint, path=path, query=query or {}, body=body,
                                region=self.region, access_key=self.access_key, secret_key=self.secret_key)
        async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as http:
            response = await http.request(method, f"{self.endpoint}{path}", params=query, content=body,
                                           headers=headers)
        if response.status_code not in ok:
            missing = response.status_code == 404
            raise (FileNotFoundError if missing else OSError)(f"S3 {method} answered {response.status_code}")
        return response

    async def _chunks(self, key: str) -> list[tuple[int, str]]:
        """(offset, object name) of the stored chunks, in order."""
        prefix = f"{self.prefix}partial/{checked_key(key)}/"
        found: list[tuple[int, str]] = []
        token: str | None = None
        while True:
            query = {"list-type": "2", "prefix": prefix, **({"continuation-token": token} if token else {})}
            tree = ElementTree.fromstring((await self._call("GET", query=query)).content)
            space = tree.tag.partition("}")[0] + "}" if tree.tag.startswith("{") else ""
            for item in tree.iter(f"{space}Key"):
                name = item.text or ""
                found.append((int(name.rsplit("/", 1)[1]), name))
            token = tree.findtext(f"{space}NextContinuationToken")
            if not token:
                return sorted(found)

    async def write(self, key: str, offset: int, data: bytes) -> None:
        for start, name in await self._chunks(key):
            if start >= offset:
                await self._call("DELETE", name, ok=(200, 204, 404))
        await self._call("PUT", self._chunk(key, offset), body=data)

    async def _partial(self, key: str, limit: int | None = None) -> bytes:
        whole = bytearray()
        for start, name in await self._chunks(key):
            # A chunk starting at an offset is newer than every chunk before it (a write deletes the chunks at
            # or past its offset), so it replaces what they held from there on; a gap ends the upload.
            if start > len(whole):
                break
            del whole[start:]
            whole += (await self._call("GET", name)).content
            if limit is not None and len(whole) >= limit:
                break
        return bytes(whole if limit is None else whole[:limit])

    async def head(self, key: str, size: int) -> bytes:
        return await self._partial(key, size)

    async def digest(self, key: str) -> str:
        return hashlib.sha256(await self._partial(key)).hexdigest()

    async def finish(self, key: str) -> None:
        await self._call("PUT", self._final(key), body=await self._partial(key))
        for _, name in await self._chunks(key):
            await self._call("DELETE", name, ok=(200, 204, 404))

    async def read(self, key: str) -> AsyncIterator[bytes]:
        content = (await self._call("GET", self._final(key))).content
        for start in range(0, len(content), READ_BLOCK):
            yield content[start:start + READ_BLOCK]

    async def delete(self, key: str) -> None:
        for _, name in await self._chunks(key):
            await self._call("DELETE", name, ok=(200, 204, 404))
        await self._call("DELETE", self._final(key), ok=(200, 204, 404))


def sigv4_headers(*, method: str, endpoint: str, path: str, query: dict[str, str], body: bytes, region: str,
                  access_key: str, secret_key: str, now: datetime | None = None) -> dict[str, str]:
    """AWS Signature Version 4 for service `s3` (what every S3-compatible store checks)."""
    moment = now or datetime.now(UTC)
    stamp, day = moment.strftime("%Y%m%dT%H%M%SZ"), moment.strftime("%Y%m%d")
    host = urlsplit(endpoint).netloc
    payload = hashlib.sha256(body).hexdigest()
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items()))
    signed = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": stamp}
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(signed.items()))
    names = ";".join(sorted(signed))
    request = "\n".join([method, path, canonical_query, canonical_headers, names, payload])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(request.encode()).hexdigest()])
    key = f"AWS4{secret_key}".encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {"x-amz-date": stamp, "x-amz-content-sha256": payload,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={names}, "
                             f"Signature={signature}"}


def storage_for(settings: UploadSettings) -> Storage:
    """The backend `SUPERAPP_UPLOADS_BACKEND` names."""
    if settings.backend == "s3":
        assert settings.s3_secret_key is not None  # checked by Settings
        return S3Storage(endpoint=settings.s3_endpoint, bucket=settings.s3_bucket, region=settings.s3_region,
                         access_key=settings.s3_access_key, secret_key=settings.s3_secret_key.get_secret_value(),
                         prefix=settings.s3_prefix)
    assert settings.dir is not None  # set by Settings._resolve_defaults
    return LocalStorage(settings.dir)
