"""Persisted documents: the app's operations, keyed by the SHA-256 of their exact text.

The manifest is what a production server runs (trusted documents): the app ships hashes, the server
holds the texts, and nothing else executes. `superapp contract build` writes it from `operations/`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mobile_contract.snapshot import CONTRACT_DIR

OPERATIONS = CONTRACT_DIR / "operations"
MANIFEST = CONTRACT_DIR / "persisted.json"
BUILD_COMMAND = "superapp contract build"


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def operation_text(path: Path) -> str:
    """The text the app sends: the file without trailing whitespace, so editors cannot change the hash."""
    return path.read_text(encoding="utf-8").rstrip() + "\n"


def operation_files(directory: Path = OPERATIONS) -> list[Path]:
    return sorted(directory.glob("*.graphql"))


def build(directory: Path = OPERATIONS) -> dict[str, str]:
    texts = [operation_text(p) for p in operation_files(directory)]
    return {document_hash(t): t for t in sorted(texts)}


def render(manifest: dict[str, str]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def load(path: Path = MANIFEST) -> dict[str, str]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or any(document_hash(v) != k for k, v in data.items()):
        raise ValueError(f"{path} is not a manifest of sha256 -> document text; run `{BUILD_COMMAND}`")
    return data
