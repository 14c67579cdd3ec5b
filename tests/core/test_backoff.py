from __future__ import annotations

import pytest

from core.backoff import backoff


@pytest.mark.parametrize(("attempts", "low", "high"), [(1, 0.5, 1.0), (2, 1.0, 2.0), (4, 4.0, 8.0), (30, 30.0, 60.0)])
def test_delay_doubles_from_the_minimum_up_to_the_cap_with_half_of_it_random(attempts: int, low: float,
                                                                             high: float) -> None:
    delays = [backoff(attempts, minimum=1.0, maximum=60.0) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 100  # jittered, so retries after one outage spread out


def test_never_sooner_than_the_other_sides_retry_after() -> None:
    assert backoff(1, minimum=1.0, maximum=60.0, retry_after=30.0) == 30.0
