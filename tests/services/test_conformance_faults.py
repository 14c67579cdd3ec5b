"""The kit catches faults: a deliberately broken plug-in (a package written to a temporary directory) fails
exactly the checks that match its faults, each with a message that says what to fix, and passes the rest.

Its faults: its sandbox sends a status word its vocabulary does not translate, and sends events unsigned; a
field it adds to `Me` carries no @personal marking. A copy that also ships an operation that does not validate
is checked through the CLI: the server refuses such a service at start-up (FAILED, naming the operation),
exactly as production does.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from core.db import Database
from core.settings import Settings
from services.conformance.checks import CHECKS, run_check
from services.conformance.harness import Harness, kit_settings, running
from services.conformance.report import CheckResult, Outcome
from services.registry import GROUP
from tests.support import ISSUED_ID_NUMBERS, ISSUED_TOKENS

PACKAGE = "superapp_kit_broken"

INIT = '''
import strawberry

from core.dossier_status import DossierStatus
from services.registry import ServiceContext, ServicePlugin, personal


@strawberry.type
class MeBroken:
    @strawberry.field(directives=[personal("other")])
    async def broken_marked(self, info: strawberry.Info[ServiceContext, None]) -> str:
        return "marked"

    @strawberry.field
    async def broken_unmarked(self, info: strawberry.Info[ServiceContext, None]) -> str:
        return "unmarked"


class BrokenService(ServicePlugin):
    code = "kit_broken"
    name_vi = "Dịch vụ hỏng"
    name_en = "Broken service"
    agency_code = "000.00.00.G12"
    # A catalogue procedure no installed plug-in forwards: the kit's server shares the suite's database, whose
    # catalogue other tests count, so the broken plug-in adds no procedure or agency of its own.
    procedure_codes = ("1.010729",)
    me_fields = MeBroken
    vocabulary = {"NHAN": DossierStatus.ACCEPTED, "DANG": DossierStatus.PROCESSING}
    default_base_url = "http://127.0.0.1:8199"
'''

SANDBOX = '''
import json
from typing import Any

import httpx

from services.sandbox_kit import AgencySandbox


class UnsignedSandbox(AgencySandbox):
    async def send(self, event: dict[str, Any], *, timestamp: str | None = None) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:  # no timestamp, no signature
            return await http.post(f"{self.callback_url}/agencies/{self.code}/events", content=json.dumps(event),
                                   headers={"Content-Type": "application/json"})


def create_sandbox(*, secret: bytes, callback_url: str, advance_seconds: float) -> AgencySandbox:
    # "XONG" is not in the plug-in's vocabulary.
    return UnsignedSandbox(code="kit_broken", secret=secret, callback_url=callback_url, road=("NHAN", "XONG"),
                           advance_seconds=advance_seconds)
'''

OPERATION = "query BrokenCard { me { brokenMarked noSuchField } }\n"


def _write_package(root: Path) -> Path:
    package = root / PACKAGE
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(INIT), encoding="utf-8")
    (package / "sandbox.py").write_text(textwrap.dedent(SANDBOX), encoding="utf-8")
    return package


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the broken plug-in's package (importable once on sys.path; never installed)."""
    root = tmp_path_factory.mktemp("plugins")
    _write_package(root)
    return root


@pytest.fixture(scope="module")
def root_with_bad_operation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same package, shipping an operation that does not validate (only ever imported by the CLI)."""
    root = tmp_path_factory.mktemp("plugins_bad_operation")
    package = _write_package(root)
    (package / "operations").mkdir()
    (package / "operations" / "BrokenCard.graphql").write_text(OPERATION, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def broken(settings: Settings, db: Database, root: Path) -> Iterator[Harness]:
    sys.path.insert(0, str(root))
    entry = EntryPoint(name="kit_broken", value=f"{PACKAGE}:BrokenService", group=GROUP)
    try:
        with running(kit_settings(settings.data_dir, settings.database_url), [entry]) as harness:
            ISSUED_ID_NUMBERS.add(harness.citizen_id_number)
            ISSUED_TOKENS.add(harness.token)
            yield harness
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def results(broken: Harness) -> dict[str, CheckResult]:
    async def run_all() -> dict[str, CheckResult]:
        return {name: await run_check(broken, "kit_broken", name) for name in CHECKS}
    return asyncio.run(run_all())


def test_the_broken_plugin_fails_exactly_the_checks_of_its_faults(results: dict[str, CheckResult]):
    failed = sorted(name for name, result in results.items() if result.outcome == Outcome.FAILED)
    assert failed == ["declaration", "events", "personal-data"], [r.line() for r in results.values()]


def test_a_status_word_missing_from_the_vocabulary_is_named(results: dict[str, CheckResult]):
    assert "its sandbox sends status word(s) ['XONG'] that `vocabulary` does not translate" in \
        results["declaration"].detail


def test_an_unsigned_sandbox_event_is_refused_and_said_so(results: dict[str, CheckResult]):
    detail = results["events"].detail
    assert "the sandbox's own event 'NHAN' was answered 401" in detail
    assert "BAD_TIMESTAMP" in detail
    assert "it must sign with the service's secret" in detail


def test_an_unmarked_me_field_is_named(results: dict[str, CheckResult]):
    assert results["personal-data"].detail == ("Me.brokenUnmarked carries no @personal: mark fields that expose "
                                               "personal data, or list the others in `not_personal`")


def test_the_rest_of_the_broken_plugin_passes(results: dict[str, CheckResult]):
    assert results["lookups"].outcome == Outcome.PASSED
    assert results["forwarding"].outcome == Outcome.PASSED
    assert results["actions"].outcome == Outcome.PASSED


def test_the_cli_checks_a_package_by_name_and_exits_1_on_a_failure(root_with_bad_operation: Path):
    """`superapp plugin check <package>`: the package need not be installed; one line per check, exit 1. An
    operation that does not validate is named by the server's refusal and by the operations check."""
    superapp = Path(sys.executable).with_name("superapp")
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(root_with_bad_operation), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([str(superapp), "plugin", "check", PACKAGE, "--only", "declaration", "--only", "operations"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [line.split(None, 3) for line in done.stdout.splitlines() if line.startswith(("PASS", "FAIL", "SKIP"))]
    assert [line[:3] for line in lines] == [["FAIL", "kit_broken", "declaration"], ["FAIL", "kit_broken", "operations"]]
    declaration, operations = lines[0][3], lines[1][3]
    assert "operation BrokenCard does not validate against the schema" in declaration
    assert operations.startswith("BrokenCard.graphql does not validate against the schema: ")
    assert "Cannot query field 'noSuchField' on type 'Me'." in operations
    assert "conformance: 0 passed, 2 failed, 0 skipped" in done.stdout


def test_the_cli_says_what_a_name_it_cannot_resolve_is_not():
    superapp = Path(sys.executable).with_name("superapp")
    done = subprocess.run([str(superapp), "plugin", "check", "no_such_plugin_package"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "'no_such_plugin_package' is neither an installed service code (civil_status, " in done.stderr
