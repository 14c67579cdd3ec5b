"""The kit as a pytest plug-in, for an agency's own CI:

    pytest -p services.conformance.pytest_plugin --superapp-plugin=<service code or package>

Loaded with `-p`, it adds the option; given the option, it adds the kit's suite (`suite.py`: one test per
plug-in and check) to what pytest collects, so the agency's own tests and the kit run together. Without the
option it collects nothing. The database is SQLite in a temporary directory, or the PostgreSQL that
SUPERAPP_DATABASE_URL names (migrated and seeded, never dropped).
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from core.settings import Settings
from services.conformance import targets
from services.conformance.checks import CHECKS
from services.conformance.harness import Harness, kit_settings, prepare_database, running
from services.conformance.runner import database_url

OPTION = "--superapp-plugin"
SUITE = Path(__file__).with_name("suite.py")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(OPTION, action="append", default=[], metavar="CODE_OR_PACKAGE",
                     help="run the super-app conformance kit against this plug-in (repeatable; `all` for every "
                          "installed one)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption(OPTION):
        config.args.append(str(SUITE))


def entries_asked(config: pytest.Config) -> list[EntryPoint]:
    names: list[str] = config.getoption(OPTION)
    if not names or names == ["all"]:
        return targets.installed()
    return [entry for name in names for entry in targets.resolve(name)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`superapp_plugin_code` and `superapp_check` range over the plug-ins asked for and the kit's checks."""
    if "superapp_plugin_code" in metafunc.fixturenames:
        codes = [entry.name for entry in entries_asked(metafunc.config)]
        metafunc.parametrize("superapp_plugin_code", codes, scope="session")
    if "superapp_check" in metafunc.fixturenames:
        metafunc.parametrize("superapp_check", list(CHECKS))


@pytest.fixture(scope="session")
def superapp_conformance_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The kit server's settings over a migrated, seeded database. Override this fixture to share yours."""
    tmp = tmp_path_factory.mktemp("superapp-conformance")
    settings = kit_settings(tmp, database_url(Settings(), tmp))
    prepare_database(settings)
    return settings


@pytest.fixture(scope="session")
def superapp_conformance(request: pytest.FixtureRequest,
                         superapp_conformance_settings: Settings) -> Iterator[Harness]:
    """One server and one sandbox per plug-in, shared by every check of the run."""
    with running(superapp_conformance_settings, entries_asked(request.config)) as harness:
        yield harness
