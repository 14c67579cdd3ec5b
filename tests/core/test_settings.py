"""Settings: safe defaults outside production, and production refuses to start without the e-ID key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Environment, Settings
from tests.support import TEST_SIGNING_KEYS


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test run itself may set SUPERAPP_* (e.g. the PostgreSQL URL); these tests start from none."""
    for name in list(os.environ):
        if name.startswith("SUPERAPP_"):
            monkeypatch.delenv(name)


def test_production_without_an_eid_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="SUPERAPP_EID_PUBLIC_KEY_FILE"):
        Settings(env=Environment.PRODUCTION, data_dir=tmp_path)


def test_production_from_the_environment_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SUPERAPP_ENV", "production")
    monkeypatch.setenv("SUPERAPP_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="e-ID"):
        Settings()


@pytest.mark.parametrize("key_setting", ["eid_public_key_file", "eid_jwks_file"])
def test_production_with_an_eid_key_starts_and_refuses_the_dev_key(key_setting: str, tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {"env": Environment.PRODUCTION, "data_dir": tmp_path, "auth": {key_setting: tmp_path / "eid.pem"},
         "signing": {"keys": TEST_SIGNING_KEYS}}
    )
    assert settings.is_production is True
    assert settings.auth.eid_accept_dev_key is False
    assert settings.graphql.graphiql is False


@pytest.mark.parametrize("env", [Environment.DEVELOPMENT, Environment.TEST])
def test_the_dev_key_is_accepted_by_default_outside_production(env: Environment, tmp_path: Path) -> None:
    settings = Settings(env=env, data_dir=tmp_path)
    assert settings.auth.eid_accept_dev_key is True
    assert settings.is_production is False


def test_the_dev_key_can_be_turned_off_outside_production(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, auth={"eid_accept_dev_key": False}).auth.eid_accept_dev_key is False


def test_the_default_database_is_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.env is Environment.DEVELOPMENT
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'superapp.db'}"
    assert settings.is_sqlite is True
    assert settings.dev_key_path == tmp_path / "dev-eid-issuer-key.pem"


def test_the_default_data_dir_is_var() -> None:
    settings = Settings()
    assert settings.database_url == f"sqlite+aiosqlite:///{Path('var') / 'superapp.db'}"


def test_an_explicit_database_url_is_kept(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://user:secret@db.example:5432/superapp"
    settings = Settings(data_dir=tmp_path, database_url=url)
    assert settings.database_url == url
    assert settings.is_sqlite is False


def test_the_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERAPP_DATABASE_URL", "postgresql+asyncpg://u:p@h/db")
    assert Settings().database_url == "postgresql+asyncpg://u:p@h/db"


def test_graphiql_defaults_on_only_in_development(tmp_path: Path) -> None:
    assert Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path).graphql.graphiql is True
    assert Settings(env=Environment.TEST, data_dir=tmp_path).graphql.graphiql is False


def test_default_page_size_cannot_exceed_the_maximum(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="SUPERAPP_DEFAULT_PAGE_SIZE"):
        Settings(data_dir=tmp_path, graphql={"default_page_size": 50, "max_page_size": 20})
    same = Settings(data_dir=tmp_path, graphql={"default_page_size": 20, "max_page_size": 20})
    assert same.graphql.default_page_size == 20


def test_an_updated_copy_is_validated_and_leaves_the_original_alone(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    copy = settings.updated(timezone="Asia/Bangkok", sync={"page_limit": 5})
    assert (copy.timezone, copy.sync.page_limit) == ("Asia/Bangkok", 5)
    assert (settings.timezone, settings.sync.page_limit) == ("Asia/Ho_Chi_Minh", 200)
    with pytest.raises(ValidationError):
        settings.updated(sync={"page_limit": 0})
    with pytest.raises(ValidationError):
        settings.updated(sync={"pagelimit": 5})  # a misspelt name is an error, never ignored


def test_every_variable_name_is_flat_and_prefixed() -> None:
    names = Settings.variable_names()
    assert "SUPERAPP_SYNC_PAGE_LIMIT" in names
    assert "SUPERAPP_FCM_ENDPOINT" in names
    assert len(names) == len(set(names))


def test_production_without_a_signing_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="SUPERAPP_SIGNING_KEYS"):
        Settings.model_validate({"env": Environment.PRODUCTION, "data_dir": tmp_path,
                                 "auth": {"eid_public_key_file": tmp_path / "eid.pem"}})
