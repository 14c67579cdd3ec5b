"""`superapp plugin check`: resolve the names, start one harness for all of them, run every check, print one
line per check; exit 0 when none failed."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path

from core.settings import Settings
from services.conformance import targets
from services.conformance.checks import CHECKS, run_check
from services.conformance.harness import kit_settings, prepare_database, running
from services.conformance.report import CheckResult, Outcome, render


def database_url(settings: Settings, data_dir: Path) -> str:
    """PostgreSQL when SUPERAPP_DATABASE_URL names one (migrated and seeded, never dropped), else SQLite in
    the run's temporary directory."""
    url = settings.database_url or ""
    return url if url.startswith("postgresql") else f"sqlite+aiosqlite:///{data_dir / 'conformance.db'}"


def check_all(settings: Settings, entries: Sequence[EntryPoint],
              only: Sequence[str] = ()) -> list[CheckResult]:
    names = [name for name in CHECKS if not only or name in only]

    async def run_all(harness_results: list[CheckResult], harness: object) -> None:
        from services.conformance.harness import Harness

        assert isinstance(harness, Harness)
        for entry in entries:
            for name in names:
                harness_results.append(await run_check(harness, entry.name, name))

    results: list[CheckResult] = []
    with running(settings, entries) as harness:
        asyncio.run(run_all(results, harness))
    return results


def run(settings: Settings, names: Sequence[str], *, only: Sequence[str], out: Callable[[str], None],
        err: Callable[[str], None]) -> int:
    unknown = [name for name in only if name not in CHECKS]
    if unknown:
        err(f"unknown check(s) {unknown}; the checks are: {', '.join(CHECKS)}")
        return 2
    try:
        entries = targets.installed() if names == ["all"] else [e for n in names for e in targets.resolve(n)]
    except ValueError as error:
        err(str(error))
        return 2
    for noisy in ("httpx", "superapp.agency_events", "superapp.services", "superapp.forwarder"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # the report is what the reader wants
    with tempfile.TemporaryDirectory(prefix="superapp-conformance-") as tmp:
        kit = kit_settings(Path(tmp), database_url(settings, Path(tmp)))
        prepare_database(kit)
        results = check_all(kit, entries, only)
    out(render(results))
    return 1 if any(r.outcome == Outcome.FAILED for r in results) else 0
