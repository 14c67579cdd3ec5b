"""The oldest app version served on each platform: operators' rows in `app_minimum_version` over the settings'
defaults, read through a short in-process cache.

An app two years old on a cheap phone gets no signal that it must update unless the server tells it; so every
request names its app and version (api/client_app.py) and one older than its platform's minimum is answered
APP_UPDATE_REQUIRED and nothing else (api/graphql/app_gate.py). Operators move the minimum without a deploy
(`superapp apps set-minimum`); every server process sees the change within `SUPERAPP_APP_POLICY_CACHE_SECONDS`,
because the check runs on every request and must cost no database round trip on the hot path.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import utc_now
from core.db import Database, is_outage
from core.models import AppMinimumVersion
from core.settings import AppSettings
from core.upsert import insert_into

log = logging.getLogger("superapp.app_versions")
PLATFORMS = ("android", "ios", "web")
_VERSION = re.compile(r"(\d{1,4})\.(\d{1,4})\.(\d{1,6})")
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]{1,490}")
Version = tuple[int, int, int]


def parse_version(text: str) -> Version | None:
    """`MAJOR.MINOR.PATCH` (the client-awareness header's form), or None."""
    match = _VERSION.fullmatch(text.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def version_text(version: Version) -> str:
    return ".".join(str(part) for part in version)


def valid_store_url(url: str) -> bool:
    return bool(_URL.fullmatch(url))


@dataclass(frozen=True)
class Minimum:
    platform: str
    version: Version
    store_url: str
    source: str  # "database" (set by an operator) or "settings"

    @property
    def text(self) -> str:
        return version_text(self.version)


def defaults(settings: AppSettings) -> dict[str, Minimum]:
    """The minimums `SUPERAPP_APP_MIN_VERSION_<PLATFORM>` set (platforms without one have none)."""
    found = {}
    for platform in PLATFORMS:
        version = parse_version(getattr(settings, f"min_version_{platform}"))
        if version is not None:
            found[platform] = Minimum(platform, version, store_url(settings, platform), "settings")
    return found


def store_url(settings: AppSettings, platform: str) -> str:
    return str(getattr(settings, f"store_url_{platform}", settings.download_url))


def supported(version: Version, minimum: Minimum | None) -> bool:
    return minimum is None or version >= minimum.version


async def stored(session: AsyncSession) -> dict[str, Minimum]:
    rows = (await session.execute(select(AppMinimumVersion).order_by(col(AppMinimumVersion.platform)))).scalars()
    found = {}
    for row in rows:
        version = parse_version(row.minimum_version)
        if version is not None and row.platform in PLATFORMS:
            found[row.platform] = Minimum(row.platform, version, row.store_url, "database")
    return found


async def effective(session: AsyncSession, settings: AppSettings) -> dict[str, Minimum]:
    """What the server enforces now: the operators' rows over the settings' defaults."""
    return {**defaults(settings), **await stored(session)}


async def set_minimum(session: AsyncSession, *, platform: str, version: Version, store_url: str) -> None:
    insert = insert_into(session, AppMinimumVersion).values(
        platform=platform, minimum_version=version_text(version), store_url=store_url, updated_at=utc_now())
    await session.execute(insert.on_conflict_do_update(
        index_elements=[col(AppMinimumVersion.platform)],
        set_={"minimum_version": insert.excluded.minimum_version, "store_url": insert.excluded.store_url,
              "updated_at": insert.excluded.updated_at}))


class MinimumVersions:
    """The enforced minimums, reloaded at most every `policy_cache_seconds` (0: every request, for tests and
    tiny deployments). While the database is unreachable the last known minimums stay in force (or the
    settings' before any load): an outage must not let old apps through nor lock current ones out."""

    def __init__(self, db: Database, settings: AppSettings, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._db, self._settings, self._clock = db, settings, clock
        self._minimums = defaults(settings)
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return self._loaded_at is not None and self._clock() - self._loaded_at < self._settings.policy_cache_seconds

    async def current(self) -> dict[str, Minimum]:
        if self._fresh():
            return self._minimums
        async with self._lock:  # one reload per process at a time; the others wait for its answer
            if not self._fresh():
                try:
                    async with self._db.read() as session:
                        self._minimums = await effective(session, self._settings)
                except Exception as error:  # keep what we knew; try again after the cache period
                    if not is_outage(error):
                        log.exception("could not read the minimum app versions; keeping the last known")
                self._loaded_at = self._clock()
        return self._minimums

    async def for_platform(self, platform: str) -> Minimum | None:
        return (await self.current()).get(platform)
