"""What a check answers: passed (with what it saw), failed (with what to fix) or skipped (with why)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class CheckFailed(AssertionError):
    """The plug-in does not do what the check asks; the message says what was seen and what to fix."""


class CheckSkipped(Exception):
    """The check does not apply to this plug-in (or to this schema); the message says why."""


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    service: str
    check: str
    outcome: Outcome
    detail: str

    def line(self) -> str:
        mark = {Outcome.PASSED: "PASS", Outcome.FAILED: "FAIL", Outcome.SKIPPED: "SKIP"}[self.outcome]
        return f"{mark}  {self.service:<20} {self.check:<22} {self.detail}"


def render(results: Sequence[CheckResult]) -> str:
    """The report the CLI prints: one line per check, then the counts."""
    counts = {outcome: sum(1 for r in results if r.outcome == outcome) for outcome in Outcome}
    summary = ", ".join(f"{counts[o]} {o.value}" for o in Outcome)
    return "\n".join([*(r.line() for r in results), "", f"conformance: {summary}"])
