"""Per-agency settings, read from `SUPERAPP_AGENCY_<CODE>_*` (CODE is the service code in capitals).

Base URL, secret and timeouts are configuration, never code. Outside production a service without a
configured URL talks to its local sandbox (its `default_base_url`, moved by `SUPERAPP_SANDBOX_PORT_OFFSET`)
and signs with a development secret; production refuses that. `superapp sandbox` reads the same settings to
choose its ports, so the server and the sandboxes always agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.signatures import VerifyKey, is_key_text
from services.agency_keys import verify_keys

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")


class AgencySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    base_url: str | None = None
    secret: SecretStr | None = None
    timeout: float = Field(default=2.0, gt=0, le=60, description="seconds for one call, retries included")
    retries: int = Field(default=2, ge=0, le=5, description="extra attempts for idempotent calls")
    breaker_threshold: int = Field(default=5, ge=1, description="consecutive failures that open the circuit")
    breaker_reset_seconds: float = Field(default=30.0, gt=0, description="open circuit's wait before a trial")
    max_concurrency: int = Field(default=10, ge=1, description="calls in flight to this agency at once")
    attachment_link_seconds: int = Field(default=7 * 24 * 3600, ge=60,
                                         description="how long a signed attachment download link stays valid")
    signing_keys: dict[str, str] = Field(
        default_factory=dict, description='public keys the agency signs issued documents with: JSON '
        '{"<key id>": "<Ed25519 public key, base64url>"}; several during a rotation')
    _production: bool = PrivateAttr(default=False)

    @field_validator("signing_keys")
    @classmethod
    def _check_keys(cls, keys: dict[str, str]) -> dict[str, str]:
        for key_id, x in keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise ValueError("a key id is 1 to 32 letters, digits, '.', '_' or '-'")
            if not is_key_text(x):
                raise ValueError(f"key {key_id}: an Ed25519 public key is 32 bytes, base64url")
        return keys

    def result_keys(self, code: str) -> list[VerifyKey]:
        """What documents issued by this agency are verified with (`services.agency_keys`)."""
        secret = self.secret_bytes if self.secret is not None else None
        return verify_keys(code, self.signing_keys, secret=secret, production=self._production)

    @property
    def secret_bytes(self) -> bytes:
        assert self.secret is not None
        return self.secret.get_secret_value().encode()


class InsecureAgencyUrl(ValueError):
    """An agency base URL citizens' data would cross in clear text (`superapp serve` refuses to start)."""


def check_transport(code: str, base_url: str, *, production: bool) -> None:
    """https always in production; outside production, http only to loopback (the sandboxes)."""
    url = urlsplit(base_url)
    if url.scheme == "https" and url.hostname:
        return
    where = f"{url.scheme}://{url.hostname or ''}"
    if production:
        raise InsecureAgencyUrl(f"{env_prefix(code)}BASE_URL must be https in production (got {where}...)")
    if url.scheme != "http" or url.hostname not in _LOOPBACK:
        raise InsecureAgencyUrl(f"{env_prefix(code)}BASE_URL must be https, or http to 127.0.0.1 or localhost "
                                f"outside production (got {where}...)")


def env_prefix(code: str) -> str:
    return f"SUPERAPP_AGENCY_{code.upper()}_"


def sandbox_url(default_base_url: str, offset: int) -> str:
    """A loopback default URL with its port moved by `offset` (other URLs are returned as they are)."""
    url = urlsplit(default_base_url)
    if offset == 0 or url.hostname not in _LOOPBACK or url.port is None:
        return default_base_url
    port = url.port + offset
    if not 0 < port < 65536:
        raise ValueError(f"SUPERAPP_SANDBOX_PORT_OFFSET {offset} moves port {url.port} out of range")
    return urlunsplit(url._replace(netloc=f"{url.hostname}:{port}"))


def load_agency_settings(code: str, *, production: bool, default_base_url: str | None,
                         override: Mapping[str, Any] | None = None, sandbox_port_offset: int = 0) -> AgencySettings:
    """Environment first, then `override` (tests, embedding); raises ValueError or ValidationError."""
    settings = AgencySettings(_env_prefix=env_prefix(code), **dict(override or {}))
    if settings.base_url is None:
        if production or default_base_url is None:
            raise ValueError(f"{env_prefix(code)}BASE_URL is not set")
        settings.base_url = sandbox_url(default_base_url, sandbox_port_offset)
    check_transport(code, settings.base_url, production=production)
    if settings.secret is None:
        if production:
            raise ValueError(f"{env_prefix(code)}SECRET is not set")
        settings.secret = SecretStr(f"dev-secret-{code}")
    settings._production = production
    return settings
