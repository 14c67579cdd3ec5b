"""A PATCH whose body stops arriving (a 2G link stalled, not closed) ends at the body deadline with 408, and
the bytes that did arrive are kept: the app resumes after them."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx

from api.app import create_app
from core.settings import Settings
from tests.support import RunningSandbox, agency_overrides, citizen, serve
from tests.uploads.tus_client import created, jpeg_bytes, offset_of, send_all


async def test_a_stalled_chunk_is_cut_at_the_deadline_and_what_arrived_is_kept(
        settings: Settings, sandboxes: dict[str, RunningSandbox]) -> None:
    strict = settings.updated(server={"body_timeout_seconds": 1.0, "body_min_rate_bytes": 0})
    who = citizen(strict)
    data = jpeg_bytes(200_000)
    with serve(create_app(strict, agencies=agency_overrides(sandboxes)), strict) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            location = await created(client, who, len(data))
            parsed = urlsplit(url)
            reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port)
            head = (f"PATCH {location} HTTP/1.1\r\nHost: {parsed.netloc}\r\nTus-Resumable: 1.0.0\r\n"
                    f"Authorization: Bearer {who.token}\r\nUpload-Offset: 0\r\n"
                    f"Content-Type: application/offset+octet-stream\r\nContent-Length: 100000\r\n\r\n")
            writer.write(head.encode() + data[:30_000])
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(4096), timeout=30)  # the server's 408, then it closes
            writer.close()
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            assert b"REQUEST_TIMEOUT" in answer
            assert await offset_of(client, who, location) == 30_000
            response = await send_all(client, who, location, data)
            assert response.status_code == 204
            fetched = await client.get(location, headers={"Tus-Resumable": "1.0.0", **who.headers})
            assert fetched.content == data
