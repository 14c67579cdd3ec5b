"""Uploads are charged to the citizen's rate quota like every other request: over it, 429 `RATE_LIMITED`
with `Retry-After`, in the endpoint's error shape, and nothing done."""

from __future__ import annotations

import httpx

from api.app import create_app
from core.settings import Settings
from tests.support import RunningSandbox, agency_overrides, citizen, error_codes, serve
from tests.uploads.tus_client import TUS, create, created, offset_of


async def test_upload_requests_spend_the_citizens_quota(
        settings: Settings, sandboxes: dict[str, RunningSandbox]) -> None:
    tight = settings.updated(quota={"citizen_limit": 3, "citizen_period_seconds": 3600, "backend": "memory"})
    who, other = citizen(tight), citizen(tight)
    with serve(create_app(tight, agencies=agency_overrides(sandboxes))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            location = await created(client, who, 1000)
            assert await offset_of(client, who, location) == 0
            assert await offset_of(client, who, location) == 0
            refused = await create(client, who, 1000)
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.headers["tus-resumable"] == "1.0.0"
            assert error_codes(refused.json()) == ["RATE_LIMITED"]
            head = await client.head(location, headers={**TUS, **who.headers})
            assert head.status_code == 429
            # Another citizen has a quota of their own.
            assert (await create(client, other, 1000)).status_code == 201
