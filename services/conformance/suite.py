"""The kit's tests, collected when `--superapp-plugin` is given (see pytest_plugin.py): one per plug-in and
check, in the kit's order, against one shared server."""

from __future__ import annotations

import asyncio

import pytest

from services.conformance.checks import run_check
from services.conformance.harness import Harness
from services.conformance.report import Outcome


def test_conformance(superapp_conformance: Harness, superapp_plugin_code: str, superapp_check: str) -> None:
    result = asyncio.run(run_check(superapp_conformance, superapp_plugin_code, superapp_check))
    if result.outcome == Outcome.SKIPPED:
        pytest.skip(result.detail)
    assert result.outcome == Outcome.PASSED, f"{superapp_plugin_code} {superapp_check}: {result.detail}"
