"""Agency base URLs (issue 11 item 6): https in production, checked when settings are read, with an error that
names the variable; `superapp serve` in production refuses to start on an http one (no traceback); outside
production the loopback sandboxes over http still work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from api.auth import load_dev_private_key
from core.settings import Settings
from services.agency_settings import InsecureAgencyUrl, load_agency_settings
from tests.support import TEST_SIGNING_KEYS

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("url", ["http://agency.example.vn", "http://127.0.0.1:8102", "ftp://agency.example.vn",
                                 "https://"])
def test_production_refuses_an_agency_url_that_is_not_https(url: str) -> None:
    with pytest.raises(InsecureAgencyUrl, match="SUPERAPP_AGENCY_RESIDENCE_BASE_URL must be https in production"):
        load_agency_settings("residence", production=True, default_base_url=None,
                             override={"base_url": url, "secret": "s"})


def test_production_takes_https() -> None:
    loaded = load_agency_settings("residence", production=True, default_base_url=None,
                                  override={"base_url": "https://agency.example.vn/api", "secret": "s"})
    assert loaded.base_url == "https://agency.example.vn/api"


def test_outside_production_http_is_for_loopback_only() -> None:
    for url in ("http://127.0.0.1:8102", "http://localhost:8102", "https://agency.example.vn"):
        assert load_agency_settings("residence", production=False, default_base_url=None,
                                    override={"base_url": url}).base_url == url
    assert load_agency_settings("residence", production=False, default_base_url="http://127.0.0.1:8102").base_url
    with pytest.raises(InsecureAgencyUrl, match="SUPERAPP_AGENCY_RESIDENCE_BASE_URL must be https, or http to"):
        load_agency_settings("residence", production=False, default_base_url=None,
                             override={"base_url": "http://agency.example.vn"})


def test_superapp_serve_in_production_refuses_an_http_agency_url(settings: Settings, tmp_path: Path) -> None:
    public_pem = tmp_path / "eid-public.pem"
    public_pem.write_bytes(load_dev_private_key(settings.dev_key_path).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    env.update(SUPERAPP_ENV="production", SUPERAPP_DATA_DIR=str(tmp_path), SUPERAPP_EID_PUBLIC_KEY_FILE=str(public_pem),
               SUPERAPP_DATABASE_URL=settings.database_url, SUPERAPP_SERVICES="residence",
               SUPERAPP_AGENCY_RESIDENCE_BASE_URL="http://agency.example.vn",
               SUPERAPP_AGENCY_RESIDENCE_SECRET="not-a-real-secret", SUPERAPP_LOG_FORMAT="text",
               SUPERAPP_SIGNING_KEYS=TEST_SIGNING_KEYS)
    done = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--port", "0"], env=env, cwd=PROJECT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "superapp serve: SUPERAPP_AGENCY_RESIDENCE_BASE_URL must be https in production" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Uvicorn running" not in done.stderr
