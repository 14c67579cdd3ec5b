"""The conformance kit over every installed plug-in (the `superapp.services` entry points, not a list kept by
hand): the built-in services and the example plug-in pass every check that applies to them.

The kit's server shares the session's database; its forwarder would race the session server's for forward
jobs, so tests/conftest.py runs these modules first, before the session server exists, and the harness is
torn down with the module.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.db import Database
from core.settings import Settings
from services.conformance import targets
from services.conformance.checks import CHECKS, run_check
from services.conformance.harness import Harness, kit_settings, running
from services.conformance.report import Outcome
from tests.support import ISSUED_ID_NUMBERS, ISSUED_TOKENS

INSTALLED = [entry.name for entry in targets.installed()]


@pytest.fixture(scope="module")
def kit(settings: Settings, db: Database) -> Iterator[Harness]:
    with running(kit_settings(settings.data_dir, settings.database_url), targets.installed()) as harness:
        ISSUED_ID_NUMBERS.add(harness.citizen_id_number)  # the session's log check watches them too
        ISSUED_TOKENS.add(harness.token)
        yield harness


def test_every_built_in_service_and_the_example_are_installed():
    assert {"civil_status", "residence", "social_insurance", "traffic_fines", "public_library"} <= set(INSTALLED)


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("code", INSTALLED)
def test_installed_plugin_passes_the_kit(kit: Harness, code: str, check: str):
    result = asyncio.run(run_check(kit, code, check))
    assert result.outcome != Outcome.FAILED, result.line()


def test_the_guide_explains_every_check_in_order():
    guide = (Path(__file__).resolve().parents[2] / "docs" / "PLUGGING_IN_A_SERVICE.md").read_text(encoding="utf-8")
    section = guide.split("## 9. Check your plug-in", 1)[1]
    assert re.findall(r"^\| `([a-z-]+)` \|", section, re.MULTILINE) == list(CHECKS)
    assert "`superapp plugin check <code or package>" in (Path(__file__).resolve().parents[2] / "README.md").read_text(
        encoding="utf-8")
