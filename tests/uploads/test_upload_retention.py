"""`superapp maintenance` prunes abandoned uploads (unfinished, or finished and never attached, past
`expires_at`), rows and bytes; an attached one stays whatever its age."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.clock import utc_now
from core.db import Database
from core.models import Upload
from core.retention import run
from core.seed_data import PROCEDURES
from core.settings import Settings
from tests.support import citizen, gql
from tests.uploads.tus_client import TUS, created, jpeg_bytes, patch, uploaded

SAMPLES = {p["code"]: p["sample"] for p in PROCEDURES}
SUBMIT = """mutation($f: JSON!, $a: [ID!]) { submitDossier(input: {procedureCode: "1.001193", formData: $f,
  attachments: $a}) { dossier { code } errors { code } } }"""


async def test_abandoned_uploads_are_pruned_with_their_files_and_attached_ones_stay(
        client: httpx.AsyncClient, settings: Settings, db: Database) -> None:
    who = citizen(settings)
    data = jpeg_bytes(30_000)
    unfinished = await created(client, who, len(data))
    assert (await patch(client, who, unfinished, 0, data[:10_000])).status_code == 204
    unused = await uploaded(client, who, data)
    kept = await uploaded(client, who, data)
    body = await gql(client, SUBMIT, {"f": SAMPLES["1.001193"], "a": [kept]}, who=who)
    assert body["data"]["submitDossier"]["errors"] == []
    ids = [unfinished.rsplit("/", 1)[1], unused, kept]

    async def age(session: AsyncSession) -> None:
        await session.execute(update(Upload).where(col(Upload.id).in_(ids))
                              .values(expires_at=utc_now() - timedelta(hours=1)))

    await db.transaction(age)
    root = Path(str(settings.uploads.dir))
    assert (root / "partial" / ids[0]).exists()
    assert (root / "files" / ids[1]).exists()
    # Expired, it is already gone for the app, and cannot be attached any more.
    assert (await client.head(f"/uploads/{unused}", headers={**TUS, **who.headers})).status_code == 404
    refused = await gql(client, SUBMIT, {"f": SAMPLES["1.001193"], "a": [unused]}, who=who)
    assert refused["data"]["submitDossier"]["errors"] == [{"code": "UPLOAD_NOT_FOUND"}]

    removed = await run(db, settings, now=utc_now())

    assert removed["upload"] >= 2
    async with db.read() as session:
        left = {row_id for row_id in ids if await session.get(Upload, row_id) is not None}
    assert left == {kept}
    assert not (root / "partial" / ids[0]).exists()
    assert not (root / "files" / ids[1]).exists()
    assert (root / "files" / kept).read_bytes() == data
