"""The service directory travels with offline sync: on the first page of a first sync, again only when tiles
or flags change, and the home screen opens from the device's own store with no signal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from core.db import Database
from core.feature_flags import FlagStore
from core.settings import Settings
from sync.client import SyncInterrupted
from sync.wire import DIRECTORY_PULL_DOCUMENT
from tests.support import citizen, gql
from tests.sync.helpers import new_client

INTERCONNECTED = "core.lt.ks-tt-bhyt"


@pytest.fixture
async def flags(db: Database) -> AsyncIterator[FlagStore]:
    store = FlagStore(db, ttl_seconds=0)
    await store.disable("interconnected_birth")
    yield store
    await store.disable("interconnected_birth")


async def test_the_directory_comes_on_the_first_page_and_opens_offline(
        settings: Settings, server: str, tmp_path: Path, flags: FlagStore) -> None:
    who = citizen(settings, birth_date=date(1985, 3, 3))
    device = new_client(tmp_path, server, who, limit=1)
    held: list[str | None] = []  # the directory version the device holds as each page is applied
    device.before_page_commit = lambda: held.append(device.store.meta("directory_version"))
    try:
        report = await device.sync()
        stored = device.directory()
        assert stored is not None
        version = stored["version"]
        assert report.pages > 2
        assert held[0] is None
        assert held[1:] == [version] * (report.pages - 1)
        # No signal: the device reaches no server, yet the home screen draws from the local store.
        device.base_url = "http://127.0.0.1:9"
        with pytest.raises(SyncInterrupted):
            await device.sync()
        hanoi = device.directory(province="001")
        hcmc = device.directory(province="079")
        assert hanoi is not None
        assert hcmc is not None
        hanoi_ids = [t["id"] for t in hanoi["tiles"]]
        hcmc_ids = [t["id"] for t in hcmc["tiles"]]
        assert "civil_status.birth" in hanoi_ids
        assert "traffic_fines.fines" in hanoi_ids
        assert "core.1.002809" in hanoi_ids
        assert "core.1.002809" not in hcmc_ids
        assert "public_library.card" in hanoi_ids
        assert INTERCONNECTED not in hanoi_ids + hcmc_ids
        assert sum(c["tileCount"] for c in hanoi["categories"]) == len(hanoi_ids)
        # A flag rolled out to one province reaches the device on its next sync, with where it shows.
        device.base_url = server
        await flags.enable("interconnected_birth", ["079"])
        await device.sync()
        after = device.directory(province="079")
        assert after is not None
        assert after["version"] != version
        tile = next(t for t in after["tiles"] if t["id"] == INTERCONNECTED)
        assert (tile["provinces"], tile["flagged"], tile["screen"]) == (["079"], True, "FORM")
        still_hanoi = device.directory(province="001")
        assert still_hanoi is not None
        assert INTERCONNECTED not in [t["id"] for t in still_hanoi["tiles"]]
    finally:
        device.close()


async def test_the_directory_is_sent_only_when_it_changed(settings: Settings, client: httpx.AsyncClient) -> None:
    who = citizen(settings)
    variables = {"schemaVersion": 3, "limit": 1}
    first = (await gql(client, DIRECTORY_PULL_DOCUMENT, variables, who=who))["data"]["syncChanges"]
    directory = first["directory"]
    assert directory is not None
    assert directory["tiles"]
    assert directory["categories"]
    again = await gql(client, DIRECTORY_PULL_DOCUMENT, {**variables, "checkpoint": first["checkpoint"],
                                                        "directoryVersion": directory["version"]}, who=who)
    assert again["data"]["syncChanges"]["directory"] is None
    stale = await gql(client, DIRECTORY_PULL_DOCUMENT, {**variables, "directoryVersion": "old"}, who=who)
    assert stale["data"]["syncChanges"]["directory"] == directory
