"""The server's signing keys: parsed strictly from settings, a development key that survives restarts, and
a start-up that stops on a key it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.app import create_app
from core.server_keys import DEV_KEY_FILE, KeyConfigError, parse_public_keys, parse_signing_keys, server_keys
from core.settings import Environment, Settings
from core.signatures import SigningKey, seed_of


def test_the_development_key_is_kept_in_the_data_dir_across_restarts(tmp_path: Path) -> None:
    first = server_keys(Settings(env=Environment.TEST, data_dir=tmp_path / "a"))
    stored = json.loads((tmp_path / "a" / DEV_KEY_FILE).read_text(encoding="utf-8"))
    assert stored["kid"] == first.signing.kid
    restarted = SigningKey.from_seed(stored["kid"], stored["seed"])
    assert restarted.public() == first.signing.public()
    other = server_keys(Settings(env=Environment.TEST, data_dir=tmp_path / "b"))
    assert other.signing.public() != first.signing.public()  # generated, not a constant everyone knows


def test_configured_keys_sign_first_and_publish_all(tmp_path: Path) -> None:
    new, old, retired = SigningKey.generate("k-new"), SigningKey.generate("k-old"), SigningKey.generate("k-2024")
    settings = Settings(env=Environment.TEST, data_dir=tmp_path,
                        signing={"keys": f" k-new:{seed_of(new)} , k-old:{seed_of(old)} ",
                                 "retired_keys": f"k-2024:{retired.public().x}"})
    keys = server_keys(settings)
    assert keys.signing.kid == "k-new"
    assert [k.kid for k in keys.published] == ["k-new", "k-old", "k-2024"]
    assert keys.published[2] == retired.public()
    assert not (tmp_path / DEV_KEY_FILE).exists()


@pytest.mark.parametrize("text", ["nokid", ":AAAA", "k:AAAA", "k.:" + "A" * 43, "k k:" + "A" * 43])
def test_unreadable_signing_keys_are_refused_without_echoing_the_seed(text: str) -> None:
    with pytest.raises(KeyConfigError) as raised:
        parse_signing_keys(text)
    assert "AAAA" not in str(raised.value)


def test_a_kid_named_twice_is_refused(tmp_path: Path) -> None:
    key = SigningKey.generate("same")
    twice = Settings(env=Environment.TEST, data_dir=tmp_path,
                     signing={"keys": f"same:{seed_of(key)}", "retired_keys": f"same:{key.public().x}"})
    with pytest.raises(KeyConfigError, match="repeat a key id"):
        server_keys(twice)


def test_a_bad_key_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match="SUPERAPP_SIGNING_RETIRED_KEYS"):
        parse_public_keys("old:short")
    bad = Settings(env=Environment.TEST, data_dir=tmp_path, signing={"keys": "k:not-a-seed"})
    with pytest.raises(KeyConfigError, match="SUPERAPP_SIGNING_KEYS"):
        create_app(bad)
