"""Feature flags on the real database: the in-process cache holds the rules for its time to live only, a
change through the same store shows at once, and a rule's province and app conditions."""

from __future__ import annotations

import pytest

from core.db import Database
from core.feature_flags import FlagInputError, FlagRule, FlagStore


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_change_by_another_process_shows_once_the_cache_expires(db: Database) -> None:
    clock = Clock()
    server = FlagStore(db, ttl_seconds=10, clock=clock)
    operator = FlagStore(db, ttl_seconds=0)  # the CLI's store: another process, as far as `server` knows
    try:
        assert "cache-test" not in await server.rules()
        await operator.enable("cache-test", ["048"])
        clock.now = 9.9
        assert "cache-test" not in await server.rules()  # still the cached rules
        clock.now = 10.0
        assert (await server.rules())["cache-test"].provinces == frozenset({"048"})
        await server.disable("cache-test", ["048"])  # through this store: at once, whatever the clock
        assert (await server.rules())["cache-test"].provinces == frozenset()
        await server.enable("cache-test", ["001", "079"])
        await server.enable("cache-test", ["*"])
        assert (await server.rules())["cache-test"].provinces == frozenset({"*"})
    finally:
        await operator.disable("cache-test")


def test_a_rule_checks_platform_and_version() -> None:
    rule = FlagRule("f", frozenset({"079"}), min_version=(2, 4, 0), platform="android")
    assert rule.provinces_for("android", (2, 4, 0)) == frozenset({"079"})
    assert rule.provinces_for("android", (2, 3, 99)) is None
    assert rule.provinces_for("ios", (3, 0, 0)) is None
    assert rule.provinces_for(None, None) is None
    assert FlagRule("g", frozenset({"*"})).provinces_for(None, None) == frozenset({"*"})
    assert FlagRule("h", frozenset()).provinces_for("web", (1, 0, 0)) is None


@pytest.mark.parametrize(("name", "provinces", "extra"), [
    ("Bad Name", ["001"], {}), ("ok", [], {}), ("ok", ["01"], {}), ("ok", ["001"], {"min_version": "2.x"}),
    ("ok", ["001"], {"platform": "symbian"}), ("x" * 65, ["001"], {}),
])
async def test_bad_flag_input_is_refused(db: Database, name: str, provinces: list[str], extra: dict[str, str]) -> None:
    with pytest.raises(FlagInputError):
        await FlagStore(db, ttl_seconds=0).enable(name, provinces, **extra)
