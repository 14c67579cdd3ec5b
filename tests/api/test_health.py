from __future__ import annotations

import httpx

from api.app import create_app
from core.db import Database
from core.settings import Environment, Settings


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_reachable_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "services": {
        "civil_status": "ready", "public_library": "ready", "residence": "ready", "social_insurance": "ready",
        "traffic_fines": "ready"}}


async def test_readyz_answers_503_when_the_database_is_unreachable(tmp_path) -> None:
    settings = Settings(env=Environment.TEST, data_dir=tmp_path,
                        database_url="postgresql+asyncpg://nobody:x@127.0.0.1:9/none")
    app = create_app(settings, db=Database.from_url(settings.database_url))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
