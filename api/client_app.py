"""Which app is calling: name, platform and version, from the headers Apollo's client awareness uses.

Operators steer app versions (a minimum per platform) and roll features out per app version, and the
contract keeps a field only while a supported version still uses it; all of that needs to know the caller's
app. The headers are `apollographql-client-name` (e.g. "dichvucong-android", its platform after the last
"-": android | ios | web) and `apollographql-client-version` (semantic version "MAJOR.MINOR.PATCH").
A request without them is an unknown app: served, never counted against a version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

NAME_HEADER = "apollographql-client-name"
VERSION_HEADER = "apollographql-client-version"
PLATFORMS = ("android", "ios", "web")
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,62}")
_VERSION = re.compile(r"(\d{1,4})\.(\d{1,4})\.(\d{1,6})")


@dataclass(frozen=True)
class ClientApp:
    name: str
    platform: str  # one of PLATFORMS, or "other"
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


def client_app(headers: Mapping[str, str]) -> ClientApp | None:
    """The calling app, or None when the headers are missing or malformed (never an error here: whether an
    unknown app is served is the version policy's decision)."""
    name = (headers.get(NAME_HEADER) or "").strip().lower()
    version = _VERSION.fullmatch((headers.get(VERSION_HEADER) or "").strip())
    if not _NAME.fullmatch(name) or version is None:
        return None
    platform = name.rsplit("-", 1)[-1]
    return ClientApp(name=name, platform=platform if platform in PLATFORMS else "other",
                     version=(int(version[1]), int(version[2]), int(version[3])))
