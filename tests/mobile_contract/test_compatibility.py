from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from api.graphql.schema import contract_schema
from core.settings import Settings
from mobile_contract.compatibility import check
from mobile_contract.snapshot import RELEASED, sdl

RELEASED_SDL = '''
type Query {
  dossier(code: String!): Dossier
  legacyStatus: String @deprecated(reason: "Use dossier.status. Removal: 2027-01-31")
}

type Dossier {
  code: String!
  status: Status!
}

enum Status {
  SUBMITTED
  RETURNED
}
'''


def test_removing_a_field_is_breaking() -> None:
    report = check(RELEASED_SDL, RELEASED_SDL.replace("  status: Status!\n", ""))
    assert not report.ok
    assert report.breaking == ["FIELD_REMOVED: Field Dossier.status was removed."]


def test_adding_a_nullable_field_passes() -> None:
    report = check(RELEASED_SDL, RELEASED_SDL.replace("  code: String!\n", "  code: String!\n  note: String\n"))
    assert report.ok
    assert report.breaking == []


def test_marking_fields_personal_passes() -> None:
    """The privacy audit directive is metadata for the server: adding it (and its definition) breaks no app."""
    marked = RELEASED_SDL.replace("  code: String!\n", '  code: String! @personal(data: ["dossier"])\n') + \
        "\ndirective @personal(data: [String!]!) on FIELD_DEFINITION\n"
    report = check(RELEASED_SDL, marked)
    assert report.ok
    assert (report.breaking, report.dangerous) == ([], [])


def test_removing_a_field_deprecated_in_the_released_snapshot_passes() -> None:
    current = RELEASED_SDL.replace('  legacyStatus: String @deprecated(reason: "Use dossier.status. '
                                   'Removal: 2027-01-31")\n', "")
    report = check(RELEASED_SDL, current)
    assert report.ok
    assert report.allowed_removals == ["FIELD_REMOVED: Field Query.legacyStatus was removed."]


def test_deprecating_without_a_removal_date_fails() -> None:
    current = RELEASED_SDL.replace("  code: String!\n", '  code: String! @deprecated(reason: "Use id")\n')
    report = check(RELEASED_SDL, current)
    assert not report.ok
    assert report.undated_deprecations == ["Dossier.code: 'Use id'"]


def test_adding_an_enum_value_is_dangerous_but_allowed() -> None:
    report = check(RELEASED_SDL, RELEASED_SDL.replace("  RETURNED\n", "  RETURNED\n  PROCESSING\n"))
    assert report.ok
    assert report.dangerous == ["VALUE_ADDED_TO_ENUM: Enum value Status.PROCESSING was added."]


def test_the_code_does_not_break_the_released_contract(settings: Settings) -> None:
    report = check(RELEASED.read_text(encoding="utf-8"), sdl(contract_schema(settings)))
    assert report.breaking == []
    assert report.undated_deprecations == []


def test_cli_check_exits_non_zero_on_a_breaking_change(tmp_path: Path) -> None:
    released, current = tmp_path / "released.graphql", tmp_path / "current.graphql"
    released.write_text(RELEASED_SDL, encoding="utf-8")
    current.write_text(RELEASED_SDL.replace("  status: Status!\n", ""), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "api.cli", "schema", "check", "--against", str(released),
                          "--current", str(current)], capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert "Field Dossier.status was removed." in run.stdout
    current.write_text(RELEASED_SDL, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "api.cli", "schema", "check", "--against", str(released),
                          "--current", str(current)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout
