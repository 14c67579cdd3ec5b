"""Both storage backends behind one interface, against real storage: a directory, and an S3-compatible server
on loopback (moto's, standing in for MinIO or a cloud bucket). Chunks written out of step are cut back to the
offset the database holds; finishing makes one durable file; delete leaves nothing."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from core.settings import Settings, UploadSettings
from core.storage import LocalStorage, S3Storage, Storage, storage_for

KEY = "AbCdEfGhIjKlMnOpQrStUv0123456789"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's server does not verify signatures: that a real store accepts ours is not proven here."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _s3(endpoint: str, bucket: str) -> S3Storage:
    return S3Storage(endpoint=endpoint, bucket=bucket, region="us-east-1", access_key="test-key",
                     secret_key="test-secret", prefix="uploads/")


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "uploads")
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"superapp-{os.urandom(4).hex()}"
    store = _s3(endpoint, bucket)
    await store._call("PUT", ok=(200,))  # create the bucket
    yield store


async def _read(storage: Storage, key: str) -> bytes:
    return b"".join([block async for block in storage.read(key)])


async def test_chunks_resume_at_the_offset_and_finish_into_one_file(storage: Storage) -> None:
    data = os.urandom(700_000)
    await storage.write(KEY, 0, data[:300_000])
    await storage.write(KEY, 300_000, data[300_000:450_000] + b"bytes the database never counted")
    # The database still says 450,000: the next chunk goes there, and what lay past it is gone.
    await storage.write(KEY, 450_000, data[450_000:])
    assert await storage.head(KEY, 16) == data[:16]
    assert await storage.digest(KEY) == hashlib.sha256(data).hexdigest()
    await storage.finish(KEY)
    assert await _read(storage, KEY) == data
    await storage.delete(KEY)
    with pytest.raises(FileNotFoundError):
        await _read(storage, KEY)


async def test_a_rewrite_from_an_earlier_offset_replaces_what_followed(storage: Storage) -> None:
    await storage.write(KEY, 0, b"a" * 1000)
    await storage.write(KEY, 1000, b"b" * 1000)
    await storage.write(KEY, 500, b"c" * 10)
    await storage.finish(KEY)
    assert await _read(storage, KEY) == b"a" * 500 + b"c" * 10


async def test_keys_are_never_paths(storage: Storage) -> None:
    for bad in ("../../etc/passwd", "short", "a/b" * 10, KEY + "\n"):
        with pytest.raises(ValueError, match="not an upload key"):
            await storage.write(bad, 0, b"x")


def test_the_backend_is_chosen_by_settings(tmp_path: Path) -> None:
    assert isinstance(storage_for(Settings(data_dir=tmp_path).uploads), LocalStorage)
    s3 = UploadSettings(backend="s3", s3_endpoint="http://127.0.0.1:9", s3_bucket="bucket", s3_access_key="k",
                        s3_secret_key="s")
    assert isinstance(storage_for(s3), S3Storage)
    with pytest.raises(ValueError, match="SUPERAPP_UPLOADS_S3"):
        Settings(data_dir=tmp_path, uploads={"backend": "s3"})
