"""A small tus 1.0.0 client for the tests, speaking to the real server over HTTP (httpx), plus a raw-socket
PATCH that sends part of a chunk and drops the connection, as a 2G link does."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from urllib.parse import urlsplit

import httpx

from tests.support import Citizen

TUS = {"Tus-Resumable": "1.0.0"}


def jpeg_bytes(size: int) -> bytes:
    """Starts like a JPEG (SOI + JFIF APP0), then noise: its type is JPEG by its magic bytes."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return head + os.urandom(size - len(head))


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def create(client: httpx.AsyncClient, who: Citizen, length: int, *, filename: str = "giay-to.jpg",
                 filetype: str = "image/jpeg") -> httpx.Response:
    return await client.post("/uploads/", headers={**TUS, **who.headers, "Upload-Length": str(length),
                                                   "Upload-Metadata": metadata(filename=filename,
                                                                               filetype=filetype)})


async def created(client: httpx.AsyncClient, who: Citizen, length: int, **kwargs: str) -> str:
    response = await create(client, who, length, **kwargs)
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith("/uploads/")
    return location


async def offset_of(client: httpx.AsyncClient, who: Citizen, location: str) -> int:
    response = await client.head(location, headers={**TUS, **who.headers})
    assert response.status_code == 200, response.status_code
    return int(response.headers["upload-offset"])


async def patch(client: httpx.AsyncClient, who: Citizen, location: str, offset: int, chunk: bytes, *,
                checksum: bool = True, digest: bytes | None = None) -> httpx.Response:
    headers = {**TUS, **who.headers, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
    if checksum:
        value = digest if digest is not None else hashlib.sha256(chunk).digest()
        headers["Upload-Checksum"] = f"sha256 {base64.b64encode(value).decode()}"
    return await client.patch(location, content=chunk, headers=headers)


async def send_all(client: httpx.AsyncClient, who: Citizen, location: str, data: bytes, *,
                   chunk: int = 256 * 1024) -> httpx.Response:
    """Upload from where the server stands to the end, chunk by chunk, as tus clients do."""
    offset = await offset_of(client, who, location)
    response: httpx.Response | None = None
    while offset < len(data):
        response = await patch(client, who, location, offset, data[offset:offset + chunk])
        if response.status_code != 204:
            return response
        offset = int(response.headers["upload-offset"])
    assert response is not None
    return response


async def dropped_patch(base_url: str, who: Citizen, location: str, offset: int, chunk: bytes,
                        sent: int) -> None:
    """Announces the whole chunk, sends its first `sent` bytes, and closes the connection: the link dropped."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = (f"PATCH {location} HTTP/1.1\r\nHost: {url.netloc}\r\nTus-Resumable: 1.0.0\r\n"
            f"Authorization: Bearer {who.token}\r\nUpload-Offset: {offset}\r\n"
            f"Content-Type: application/offset+octet-stream\r\nContent-Length: {len(chunk)}\r\n\r\n")
    writer.write(head.encode() + chunk[:sent])
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    del reader


async def wait_for_offset(client: httpx.AsyncClient, who: Citizen, location: str, expected: int) -> int:
    """The server notices the drop and records what arrived: wait for it (a rendezvous on the server's own
    answer, with a generous ceiling for a loaded machine), and return what HEAD says."""
    offset = -1
    for _ in range(600):
        offset = await offset_of(client, who, location)
        if offset == expected:
            break
        await asyncio.sleep(0.05)
    return offset


async def uploaded(client: httpx.AsyncClient, who: Citizen, data: bytes, filename: str = "giay-khai-sinh.jpg") -> str:
    """A complete upload of `data`; its id."""
    location = await created(client, who, len(data), filename=filename)
    assert (await send_all(client, who, location, data)).status_code == 204
    return location.rsplit("/", 1)[1]
