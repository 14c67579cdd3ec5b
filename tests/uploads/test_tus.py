"""The tus endpoint over real HTTP: resuming after drops to a byte-identical file, checksums, types decided
by content, sizes, and owners."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from tests.support import citizen, error_codes
from tests.uploads.tus_client import (
    TUS,
    create,
    created,
    dropped_patch,
    jpeg_bytes,
    offset_of,
    patch,
    send_all,
    wait_for_offset,
)


async def test_options_tells_the_protocol_and_limits(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.options("/uploads/")
    assert response.status_code == 204
    assert response.headers["tus-version"] == "1.0.0"
    assert set(response.headers["tus-extension"].split(",")) >= {"creation", "checksum", "termination",
                                                                  "expiration"}
    assert int(response.headers["tus-max-size"]) == settings.uploads.max_bytes
    assert "sha256" in response.headers["tus-checksum-algorithm"]


async def test_an_upload_cut_three_times_resumes_to_a_byte_identical_file(
        client: httpx.AsyncClient, server: str, settings: Settings) -> None:
    who = citizen(settings)
    data = jpeg_bytes(600_000)
    location = await created(client, who, len(data))
    assert who.id_number not in location
    offset = 0
    for sent in (70_000, 123_457, 90_001):  # three drops, each part-way through a chunk
        chunk = data[offset:offset + 300_000]
        await dropped_patch(server, who, location, offset, chunk, sent)
        offset = await wait_for_offset(client, who, location, offset + sent)
        assert offset == sum((70_000, 123_457, 90_001)[:[70_000, 123_457, 90_001].index(sent) + 1])
    response = await send_all(client, who, location, data)
    assert response.status_code == 204, response.text
    assert response.headers["upload-offset"] == str(len(data))
    fetched = await client.get(location, headers={**TUS, **who.headers})
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(fetched.content).hexdigest() == hashlib.sha256(data).hexdigest()
    stored = Path(str(settings.uploads.dir)) / "files" / location.rsplit("/", 1)[1]
    assert stored.read_bytes() == data


async def test_a_damaged_chunk_is_refused_and_discarded(client: httpx.AsyncClient, settings: Settings) -> None:
    who = citizen(settings)
    data = jpeg_bytes(20_000)
    location = await created(client, who, len(data))
    response = await patch(client, who, location, 0, data[:10_000], digest=hashlib.sha256(b"other").digest())
    assert response.status_code == 460
    assert error_codes(response.json()) == ["UPLOAD_CHECKSUM_MISMATCH"]
    assert await offset_of(client, who, location) == 0
    assert (await send_all(client, who, location, data)).status_code == 204


async def test_a_wrong_offset_is_a_conflict(client: httpx.AsyncClient, settings: Settings) -> None:
    who = citizen(settings)
    data = jpeg_bytes(20_000)
    location = await created(client, who, len(data))
    assert (await patch(client, who, location, 0, data[:10_000])).status_code == 204
    response = await patch(client, who, location, 5_000, data[5_000:15_000])
    assert response.status_code == 409
    assert error_codes(response.json()) == ["UPLOAD_OFFSET_MISMATCH"]


async def test_a_program_named_like_a_photo_is_refused_and_deleted(
        client: httpx.AsyncClient, settings: Settings) -> None:
    who = citizen(settings)
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 20_000
    location = await created(client, who, len(program), filename="anh-the.jpg", filetype="image/jpeg")
    response = await patch(client, who, location, 0, program)
    assert response.status_code == 415
    body = response.json()
    assert error_codes(body) == ["UPLOAD_TYPE_NOT_ALLOWED"]
    assert body["errors"][0]["extensions"]["messageVi"]
    assert body["errors"][0]["extensions"]["messageEn"]
    head = await client.head(location, headers={**TUS, **who.headers})
    assert head.status_code == 404
    upload_id = location.rsplit("/", 1)[1]
    assert not (Path(str(settings.uploads.dir)) / "partial" / upload_id).exists()


async def test_the_type_is_checked_on_the_first_chunk(client: httpx.AsyncClient, settings: Settings) -> None:
    who = citizen(settings)
    text = b"#!/bin/sh\necho hello\n" * 2000
    location = await created(client, who, len(text) * 2, filename="scan.pdf", filetype="application/pdf")
    response = await patch(client, who, location, 0, text)
    assert response.status_code == 415


async def test_an_oversized_file_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    who = citizen(settings)
    response = await create(client, who, settings.uploads.max_bytes + 1)
    assert response.status_code == 413
    assert error_codes(response.json()) == ["UPLOAD_TOO_LARGE"]
    small = jpeg_bytes(5_000)
    location = await created(client, who, len(small))
    too_much = await patch(client, who, location, 0, small + b"extra")
    assert too_much.status_code == 413


async def test_a_chunk_over_the_chunk_limit_is_refused_before_it_is_read(
        client: httpx.AsyncClient, settings: Settings) -> None:
    who = citizen(settings)
    size = settings.uploads.chunk_bytes + 10
    location = await created(client, who, size)
    response = await patch(client, who, location, 0, jpeg_bytes(size), checksum=False)
    assert response.status_code == 413
    assert response.headers["tus-resumable"] == "1.0.0"
    assert error_codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


async def test_another_citizen_gets_404(client: httpx.AsyncClient, settings: Settings) -> None:
    owner, other = citizen(settings), citizen(settings)
    data = jpeg_bytes(10_000)
    location = await created(client, owner, len(data))
    assert (await patch(client, owner, location, 0, data[:4_000])).status_code == 204
    for method in ("HEAD", "GET", "DELETE"):
        response = await client.request(method, location, headers={**TUS, **other.headers})
        assert response.status_code == 404, method
    assert (await patch(client, other, location, 4_000, data[4_000:])).status_code == 404
    assert await offset_of(client, owner, location) == 4_000


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}])
async def test_uploads_need_a_token(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post("/uploads/", headers={**TUS, **headers, "Upload-Length": "100"})
    assert response.status_code == 401
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_termination_deletes_the_upload(client: httpx.AsyncClient, settings: Settings) -> None:
    who = citizen(settings)
    location = await created(client, who, 10_000)
    assert (await client.delete(location, headers={**TUS, **who.headers})).status_code == 204
    assert (await client.head(location, headers={**TUS, **who.headers})).status_code == 404


async def test_a_request_without_the_tus_version_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    who = citizen(settings)
    response = await client.post("/uploads/", headers={**who.headers, "Upload-Length": "100"})
    assert response.status_code == 412
    assert response.headers["tus-version"] == "1.0.0"


async def test_the_endpoint_answers_without_its_trailing_slash(client: httpx.AsyncClient, settings: Settings) -> None:
    who = citizen(settings)
    response = await client.post("/uploads", headers={**TUS, **who.headers, "Upload-Length": "100"})
    assert response.status_code == 201
    assert response.headers["location"].startswith("/uploads/")
