"""The `superapp` console script, run as a real process against a database of its own."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from api.auth import TokenVerifier
from core.seed import DEMO_CITIZEN_ID_NUMBER
from core.settings import Environment, Settings

PROJECT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    env.update(SUPERAPP_DATA_DIR=str(tmp_path), SUPERAPP_DATABASE_URL=_url(tmp_path), SUPERAPP_LOG_LEVEL="WARNING")
    return env


def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


def _superapp(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=_env(tmp_path), cwd=PROJECT,
                          capture_output=True, text=True, timeout=120, check=False)


def _count(tmp_path: Path, table: str) -> int:
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_migrate_seed_twice_and_token(tmp_path: Path) -> None:
    migrated = _superapp(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip().splitlines()[-1] == "database migrated to head"
    assert _count(tmp_path, "dossier") == 0

    first = _superapp(tmp_path, "seed")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1] == "demo data seeded (20 new dossiers)"
    assert _count(tmp_path, "dossier") == 20
    procedures = _count(tmp_path, "procedure")
    assert procedures >= 10

    again = _superapp(tmp_path, "seed")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == "demo data seeded (0 new dossiers)"
    assert _count(tmp_path, "dossier") == 20
    assert _count(tmp_path, "procedure") == procedures

    issued = _superapp(tmp_path, "token", "--demo")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    verifier = TokenVerifier(Settings(env=Environment.TEST, data_dir=tmp_path, database_url=_url(tmp_path)))
    assert verifier.verify(token).id_number == DEMO_CITIZEN_ID_NUMBER
    assert (tmp_path / "dev-eid-issuer-key.pem").stat().st_mode & 0o077 == 0, "the dev key must be private"


def test_token_for_a_given_citizen_with_a_ttl(tmp_path: Path) -> None:
    issued = _superapp(tmp_path, "token", "--citizen", "040192004567", "--ttl", "60")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    principal = TokenVerifier(Settings(env=Environment.TEST, data_dir=tmp_path,
                                       database_url=_url(tmp_path))).verify(token)
    assert principal.id_number == "040192004567"
    assert principal.claims["exp"] - principal.claims["iat"] == 60


def test_token_refuses_what_is_not_an_id_number(tmp_path: Path) -> None:
    refused = _superapp(tmp_path, "token", "--citizen", "12345")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "12345" in refused.stderr


def test_token_needs_a_citizen(tmp_path: Path) -> None:
    refused = _superapp(tmp_path, "token")
    assert refused.returncode == 2
    assert refused.stdout == ""


def test_the_installed_console_script_runs_the_same_cli(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "superapp"
    if not script.exists():
        pytest.skip("the console script is not installed next to this interpreter")
    result = subprocess.run([str(script), "token", "--citizen", "12345"], env=_env(tmp_path), cwd=PROJECT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "12345" in result.stderr
