"""Feature flags: a service or screen rolled out province by province and from an app version on, the way
the national programme brings a new interconnected procedure to one province after another.

Operators change flags without a deploy (`superapp flags`, table `feature_flag`); the server evaluates them
(the app never sees a rule, only the tiles that are on for it). Every request would otherwise read the table,
so each process keeps the rules for `SUPERAPP_FLAG_CACHE_SECONDS` (a change made by another process, the CLI,
shows within that time; one made through `FlagStore` in this process shows at once).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import utc_now
from core.db import Database
from core.id_numbers import PROVINCE_CODES
from core.models import FeatureFlag

EVERYWHERE = "*"
PLATFORMS = ("android", "ios", "web")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_VERSION = re.compile(r"(\d{1,4})\.(\d{1,4})\.(\d{1,6})")

Version = tuple[int, int, int]


class FlagInputError(ValueError):
    """An operator's flag command that cannot be stored (the CLI prints it and exits 2)."""


def parse_version(text: str) -> Version:
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        raise FlagInputError(f"not a version MAJOR.MINOR.PATCH: {text!r}")
    return int(match[1]), int(match[2]), int(match[3])


@dataclass(frozen=True)
class FlagRule:
    name: str
    provinces: frozenset[str]  # may hold EVERYWHERE
    min_version: Version | None = None
    platform: str | None = None

    def on_for_app(self, platform: str | None, version: Version | None) -> bool:
        """The app condition alone: an unknown app (no client headers) passes only a rule without one."""
        if self.platform is not None and platform != self.platform:
            return False
        return self.min_version is None or (version is not None and version >= self.min_version)

    def provinces_for(self, platform: str | None, version: Version | None) -> frozenset[str] | None:
        """Where the flag is on for this app: None nowhere, EVERYWHERE-holding set everywhere."""
        if not self.provinces or not self.on_for_app(platform, version):
            return None
        return self.provinces


def rule_of(row: FeatureFlag) -> FlagRule:
    return FlagRule(name=row.name, provinces=frozenset(row.provinces),
                    min_version=parse_version(row.min_version) if row.min_version else None, platform=row.platform)


def check_provinces(provinces: Collection[str]) -> list[str]:
    cleaned = sorted({p.strip() for p in provinces if p.strip()})
    if not cleaned:
        raise FlagInputError("name at least one province code, or * for every province")
    unknown = [p for p in cleaned if p != EVERYWHERE and p not in PROVINCE_CODES]
    if unknown:
        raise FlagInputError(f"not province codes: {', '.join(unknown)} (three digits, e.g. 001, 079)")
    return [EVERYWHERE] if EVERYWHERE in cleaned else cleaned


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise FlagInputError("a flag name is lower-case letters, digits, '_' and '-' (at most 64)")
    return name


class FlagStore:
    """The flag rules, read through a short in-process cache; the writes are the operators' commands."""

    def __init__(self, db: Database, *, ttl_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.db, self.ttl, self.clock = db, ttl_seconds, clock
        self._rules: dict[str, FlagRule] | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._rules = None

    async def rules(self) -> Mapping[str, FlagRule]:
        if self._rules is not None and self.clock() - self._read_at < self.ttl:
            return self._rules
        async with self._lock:
            if self._rules is not None and self.clock() - self._read_at < self.ttl:
                return self._rules
            async with self.db.read() as session:
                rows = (await session.execute(select(FeatureFlag).order_by(col(FeatureFlag.name)))).scalars()
                rules = {row.name: rule_of(row) for row in rows}
            self._rules, self._read_at = rules, self.clock()
            return rules

    async def enable(self, name: str, provinces: Collection[str], *, min_version: str | None = None,
                     platform: str | None = None) -> FlagRule:
        """Turn the flag on in more provinces (added to those it is on in); `min_version`/`platform`, when
        given, replace the app condition ("" clears it)."""
        name, wanted = check_name(name), check_provinces(provinces)
        if min_version:
            parse_version(min_version)
        if platform and platform not in PLATFORMS:
            raise FlagInputError(f"platform must be one of {', '.join(PLATFORMS)}")

        async def write(session: AsyncSession) -> FlagRule:
            row = await session.get(FeatureFlag, name) or FeatureFlag(name=name, provinces=[])
            merged = set(row.provinces) | set(wanted)
            row.provinces = [EVERYWHERE] if EVERYWHERE in merged else sorted(merged)
            if min_version is not None:
                row.min_version = min_version.strip() or None
            if platform is not None:
                row.platform = platform or None
            row.updated_at = utc_now()
            session.add(row)
            await session.flush()
            return rule_of(row)

        rule = await self.db.transaction(write)
        self.invalidate()
        return rule

    async def disable(self, name: str, provinces: Collection[str] | None = None) -> bool:
        """Off in `provinces` (None: off everywhere, the flag forgotten). False: there was no such flag."""
        name = check_name(name)
        listed = check_provinces(provinces) if provinces else None

        async def write(session: AsyncSession) -> bool:
            row = await session.get(FeatureFlag, name)
            if row is None:
                return False
            if listed is None or EVERYWHERE in listed:
                await session.delete(row)
            else:
                row.provinces = [p for p in row.provinces if p not in listed]
                row.updated_at = utc_now()
                session.add(row)
            await session.flush()
            return True

        found = await self.db.transaction(write)
        self.invalidate()
        return found

    async def listing(self) -> list[FeatureFlag]:
        async with self.db.read() as session:
            return list((await session.execute(select(FeatureFlag).order_by(col(FeatureFlag.name)))).scalars())
