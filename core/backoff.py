"""Retry delays: one rule for everything we owe someone else (pushes, SMS, forwarded dossiers).

Exponential from `minimum`, capped at `maximum`, half fixed and half random so that many retries after
one outage spread out instead of arriving together, and never sooner than the other side's Retry-After.
"""

from __future__ import annotations

import random


def backoff(attempts: int, *, minimum: float, maximum: float, retry_after: float | None = None) -> float:
    """The delay before attempt `attempts + 1`, after `attempts` failures (1 for the first failure)."""
    ceiling = min(maximum, minimum * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not security)
    return float(max(delay, retry_after or 0.0))
