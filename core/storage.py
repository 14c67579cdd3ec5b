"""Where attachments' bytes live: never in the database (its rows stay small), behind one interface, so a
deployment can move them to an object store without touching the protocol or the dossiers.

Keys are upload ids the server made (random, URL-safe), checked again here: no path is ever built from what
a client sent. An upload is written to a partial file chunk by chunk at the offset the database holds,
and moved into place atomically (fsync, rename, fsync of the directory) once complete and checked.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

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


def storage_for(root: Path) -> Storage:
    """The backend `SUPERAPP_UPLOADS_BACKEND` names (only `local` so far)."""
    return LocalStorage(root)
