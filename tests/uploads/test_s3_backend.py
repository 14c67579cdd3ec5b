"""The whole path on the S3 backend: a tus upload cut once and resumed, stored in an S3-compatible bucket
(moto's server on loopback), read back byte-identical by its owner."""

from __future__ import annotations

import os

import httpx

from api.app import create_app
from core.settings import Settings
from core.storage import S3Storage
from tests.core.test_storage import s3_endpoint  # noqa: F401  (the module's fixture: one moto server)
from tests.support import RunningSandbox, agency_overrides, citizen, serve
from tests.uploads.tus_client import TUS, created, dropped_patch, jpeg_bytes, send_all, wait_for_offset


async def test_an_upload_resumed_on_the_s3_backend_is_byte_identical(
        settings: Settings, sandboxes: dict[str, RunningSandbox], s3_endpoint: str) -> None:  # noqa: F811
    bucket = f"superapp-{os.urandom(4).hex()}"
    on_s3 = settings.updated(uploads={"backend": "s3", "s3_endpoint": s3_endpoint, "s3_bucket": bucket,
                                      "s3_access_key": "test-key", "s3_secret_key": "test-secret"})
    await S3Storage(endpoint=s3_endpoint, bucket=bucket, region="us-east-1", access_key="test-key",
                    secret_key="test-secret")._call("PUT")
    who = citizen(on_s3)
    data = jpeg_bytes(300_000)
    with serve(create_app(on_s3, agencies=agency_overrides(sandboxes))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            location = await created(client, who, len(data))
            await dropped_patch(url, who, location, 0, data[:200_000], 120_000)
            assert await wait_for_offset(client, who, location, 120_000) == 120_000
            assert (await send_all(client, who, location, data, chunk=100_000)).status_code == 204
            fetched = await client.get(location, headers={**TUS, **who.headers})
    assert fetched.status_code == 200
    assert fetched.content == data
    listing = await S3Storage(endpoint=s3_endpoint, bucket=bucket, region="us-east-1", access_key="test-key",
                              secret_key="test-secret")._call("GET", query={"list-type": "2"})
    assert f"uploads/files/{location.rsplit('/', 1)[1]}".encode() in listing.content
    assert b"uploads/partial/" not in listing.content
