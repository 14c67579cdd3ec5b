"""The server's own signing keys and the key ring verifiers check signatures against.

One key signs (the first of `SUPERAPP_SIGNING_KEYS`); every other configured key, and the public-only
retired ones, stay published so that what they signed keeps verifying after a rotation. Outside production
an unset `SUPERAPP_SIGNING_KEYS` means a development key generated once and kept in `SUPERAPP_DATA_DIR`,
so a restart does not invalidate every receipt a tester has scanned.

The ring has pluggable sources (`KeySource`): the server's keys are one; agencies' document keys are
another, added where the app builds its ring (`api.keys.verification_ring`). A kid names one key across all
sources: server kids are plain (`srv-2026-1`), agency kids carry their prefix (`agency:<service>:<n>`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.settings import Settings
from core.signatures import SigningKey, VerifyKey, is_key_text, seed_of

DEV_KID = "dev-1"
DEV_KEY_FILE = "dev-signing-key.json"
# A kid travels inside QR payloads: short, printable, without the payload's "." separator at either end.
KID_PATTERN = re.compile(r"[A-Za-z0-9_:-][A-Za-z0-9_:.-]{0,62}[A-Za-z0-9_:-]|[A-Za-z0-9_:-]")

KeySource = Callable[[], Iterable[VerifyKey]]


class KeyConfigError(ValueError):
    """A `SUPERAPP_SIGNING_*` value that cannot be read; the message names the setting, never the seed."""


def check_kid(kid: str) -> str:
    if not KID_PATTERN.fullmatch(kid):
        raise KeyConfigError(f"key id {kid!r} must be 1-64 of A-Z a-z 0-9 _ : - . (no dot at either end)")
    return kid


def _entries(text: str, setting: str) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kid, sep, value = item.rpartition(":")
        if not sep or not kid:
            raise KeyConfigError(f"{setting}: each entry is kid:base64url")
        entries.append((check_kid(kid), value))
    return entries


def parse_signing_keys(text: str) -> list[SigningKey]:
    keys: list[SigningKey] = []
    for kid, seed in _entries(text, "SUPERAPP_SIGNING_KEYS"):
        try:
            keys.append(SigningKey.from_seed(kid, seed))
        except ValueError as error:
            raise KeyConfigError(f"SUPERAPP_SIGNING_KEYS: the seed of {kid!r} is not 32 bytes of base64url") from error
    return keys


def parse_public_keys(text: str) -> list[VerifyKey]:
    keys: list[VerifyKey] = []
    for kid, x in _entries(text, "SUPERAPP_SIGNING_RETIRED_KEYS"):
        if not is_key_text(x):
            raise KeyConfigError(f"SUPERAPP_SIGNING_RETIRED_KEYS: the key of {kid!r} is not 32 bytes of base64url")
        keys.append(VerifyKey(kid, x))
    return keys


def _dev_key(data_dir: Path) -> SigningKey:
    """Created once with O_EXCL, so two workers starting together agree on one key."""
    path = data_dir / DEV_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = SigningKey.generate(DEV_KID)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"kid": fresh.kid, "seed": seed_of(fresh)}, out)
    stored: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return SigningKey.from_seed(check_kid(str(stored["kid"])), str(stored["seed"]))


@dataclass(frozen=True)
class ServerKeys:
    """`signing` signs; `published` is every public key of the server a verifier may meet (signing first)."""

    signing: SigningKey
    published: tuple[VerifyKey, ...]

    def source(self) -> Iterable[VerifyKey]:
        return self.published


@lru_cache(maxsize=8)
def _load(keys_text: str, retired_text: str, data_dir: Path, production: bool) -> ServerKeys:
    signing = parse_signing_keys(keys_text)
    if not signing:
        if production:
            raise KeyConfigError("production needs SUPERAPP_SIGNING_KEYS")
        signing = [_dev_key(data_dir)]
    published = [key.public() for key in signing] + parse_public_keys(retired_text)
    kids = [key.kid for key in published]
    if len(set(kids)) != len(kids):
        raise KeyConfigError("SUPERAPP_SIGNING_KEYS and SUPERAPP_SIGNING_RETIRED_KEYS repeat a key id")
    return ServerKeys(signing=signing[0], published=tuple(published))


def server_keys(settings: Settings) -> ServerKeys:
    """Read once per configuration (cached): signing is on every dossier read, parsing is not."""
    return _load(settings.signing.keys.get_secret_value(), settings.signing.retired_keys,
                 settings.data_dir.resolve(), settings.is_production)


class KeyRing:
    """The public keys a verifier trusts, by kid, gathered from its sources on every look-up (a source may
    change: an agency rotates its keys), first source first when two claim one kid."""

    def __init__(self, sources: Sequence[KeySource]) -> None:
        self._sources = list(sources)

    def keys(self) -> list[VerifyKey]:
        seen: dict[str, VerifyKey] = {}
        for source in self._sources:
            for key in source():
                seen.setdefault(key.kid, key)
        return list(seen.values())

    def find(self, kid: str) -> VerifyKey | None:
        for key in self.keys():
            if key.kid == kid:
                return key
        return None

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.jwk() for key in self.keys()]}

    @classmethod
    def from_jwks(cls, document: Any) -> KeyRing:
        """A ring from a published JWKS (an offline verifier's copy); Ed25519 OKP keys only, others skipped.
        Raises ValueError when the document is not a JWKS at all."""
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWKS: no 'keys' list")
        keys = [VerifyKey(str(k["kid"]), str(k["x"])) for k in document["keys"]
                if isinstance(k, dict) and k.get("kty") == "OKP" and k.get("crv") == "Ed25519"
                and isinstance(k.get("kid"), str) and isinstance(k.get("x"), str)]
        return cls([lambda: keys])
