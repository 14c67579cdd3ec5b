from __future__ import annotations

from api.graphql.schema import contract_schema
from core.settings import Settings
from mobile_contract.snapshot import EXPORT_COMMAND, drift


def test_committed_snapshot_matches_the_code(settings: Settings) -> None:
    diff = drift(contract_schema(settings))
    assert not diff, f"mobile_contract/schema.graphql is stale; run `{EXPORT_COMMAND}` and commit.\n{diff}"


def test_drift_shows_a_diff_when_the_snapshot_differs(settings: Settings, tmp_path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query {\n  hello: String\n}\n", encoding="utf-8")
    diff = drift(contract_schema(settings), stale)
    assert "-  hello: String" in diff
    assert "+  myDossiers(" in diff
