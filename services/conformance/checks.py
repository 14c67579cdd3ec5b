"""The checks, in the order a run makes them (later ones may reuse what earlier ones left, such as a dossier
submitted through the server), and how one is run into a `CheckResult`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.conformance import (
    checks_dossiers,
    checks_load,
    checks_lookups,
    checks_schema,
    checks_screens,
    checks_tiles,
)
from services.conformance.harness import Harness, Subject
from services.conformance.report import CheckFailed, CheckResult, CheckSkipped, Outcome

Check = Callable[[Harness, Subject], Awaitable[str]]

CHECKS: dict[str, Check] = {
    "declaration": checks_load.declaration,
    "sandbox": checks_load.sandbox,
    "lookups": checks_lookups.lookups,
    "lookups-degraded": checks_lookups.lookups_degraded,
    "breaker": checks_lookups.breaker,
    "forwarding": checks_dossiers.forwarding,
    "forwarding-breaker": checks_dossiers.forwarding_breaker,
    "actions": checks_dossiers.actions,
    "events": checks_dossiers.events,
    "personal-data": checks_schema.personal_marking,
    "operations": checks_schema.operations,
    "screens": checks_screens.screens,
    "tiles": checks_tiles.tiles,
}


async def run_check(harness: Harness, code: str, name: str) -> CheckResult:
    """One check of one plug-in; an unexpected exception is a failure that names its type, never a crash."""
    subject = harness.subjects[code]
    try:
        detail = await CHECKS[name](harness, subject)
    except CheckSkipped as skipped:
        return CheckResult(code, name, Outcome.SKIPPED, f"skipped: {skipped}")
    except CheckFailed as failed:
        return CheckResult(code, name, Outcome.FAILED, str(failed))
    except Exception as error:  # the plug-in's own code raised: that is a failure of the check, said plainly
        return CheckResult(code, name, Outcome.FAILED, f"{type(error).__name__}: {error}")
    return CheckResult(code, name, Outcome.PASSED, detail)
