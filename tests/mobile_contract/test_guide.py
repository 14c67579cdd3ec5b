"""The front-end guide may only show operations that the tests run, and must explain every error code."""

from __future__ import annotations

import re

from core.errors import ErrorCode
from mobile_contract.manifest import operation_files, operation_text
from mobile_contract.snapshot import CONTRACT_DIR

GUIDE = (CONTRACT_DIR / "README.md").read_text(encoding="utf-8")


def test_every_example_is_a_checked_operation() -> None:
    examples = re.findall(r"```graphql\n(.*?)```", GUIDE, flags=re.DOTALL)
    operations = {operation_text(p) for p in operation_files()}
    assert examples, "the guide shows no example"
    assert [e for e in examples if e not in operations] == []


def test_every_error_code_is_explained() -> None:
    codes = {c.value for c in ErrorCode}
    assert sorted(c for c in codes if f"| `{c}` |" not in GUIDE) == []


def test_every_operation_is_listed() -> None:
    assert [p.stem for p in operation_files() if f"| `{p.stem}` |" not in GUIDE] == []
