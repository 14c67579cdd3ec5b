"""The README is the operator's reference: every setting must be documented there."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [name for name in Settings.variable_names() if f"`{name}`" not in README]
    assert missing == []


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    assert "make run" in first_block
    assert "make test" in first_block
