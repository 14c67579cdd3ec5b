"""Persisted documents: the app's operations, keyed by the SHA-256 of their exact text.

The manifest is what a production server runs (trusted documents): the app ships hashes, the server
holds the texts, and nothing else executes. `superapp contract build` writes two files from `operations/`:
`persisted.json` (SHA-256 of the file's text -> text) and `persisted-query-manifest.json`, the same
operations in the format of Apollo's `@apollo/generate-persisted-query-manifest` (the text Apollo Client
and urql send, with `__typename`), which their tooling reads. The server loads either format.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode, parse

from mobile_contract.client_forms import with_typename
from mobile_contract.snapshot import CONTRACT_DIR

OPERATIONS = CONTRACT_DIR / "operations"
MANIFEST = CONTRACT_DIR / "persisted.json"
APOLLO_MANIFEST = CONTRACT_DIR / "persisted-query-manifest.json"
APOLLO_FORMAT = "apollo-persisted-query-manifest"
BUILD_COMMAND = "superapp contract build"


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def operation_text(path: Path) -> str:
    """The text the app sends: the file without trailing whitespace, so editors cannot change the hash."""
    return path.read_text(encoding="utf-8").rstrip() + "\n"


def operation_files(directory: Path = OPERATIONS) -> list[Path]:
    return sorted(directory.glob("*.graphql"))


def build(directory: Path = OPERATIONS) -> dict[str, str]:
    return build_texts([operation_text(p) for p in operation_files(directory)])


def build_texts(texts: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each document's text -> the text (the `persisted.json` format)."""
    return {document_hash(t): t for t in sorted(texts)}


def render(manifest: dict[str, str]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def build_apollo(directory: Path = OPERATIONS) -> dict[str, Any]:
    """The operations as `@apollo/generate-persisted-query-manifest` writes them (sorted by name)."""
    return build_apollo_texts([operation_text(p) for p in operation_files(directory)])


def build_apollo_texts(texts: Iterable[str]) -> dict[str, Any]:
    """Documents' texts in the Apollo manifest format: the text Apollo Client sends (`__typename` added)."""
    operations = []
    for text in texts:
        body = with_typename(text)
        for definition in parse(body).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name is not None:
                operations.append({"id": document_hash(body), "name": definition.name.value,
                                   "type": definition.operation.value, "body": body})
    operations.sort(key=lambda o: (o["name"], o["type"]))
    return {"format": APOLLO_FORMAT, "version": 1, "operations": operations}


def render_apollo(manifest: dict[str, Any]) -> str:
    """Byte for byte what Apollo's generator writes (`JSON.stringify(manifest, null, 2)`)."""
    return json.dumps(manifest, indent=2, ensure_ascii=False)


def write(directory: Path = OPERATIONS) -> int:
    """`superapp contract build`: both manifests from `operations/`; returns how many documents."""
    built = build(directory)
    MANIFEST.write_text(render(built), encoding="utf-8")
    APOLLO_MANIFEST.write_text(render_apollo(build_apollo(directory)), encoding="utf-8")
    return len(built)


def _texts(data: object, path: Path) -> dict[str, str]:
    """SHA-256 -> text from either format; a key that is not the hash of its text is refused."""
    if isinstance(data, dict) and data.get("format") == APOLLO_FORMAT:
        operations = data.get("operations")
        if data.get("version") != 1 or not isinstance(operations, list) or not all(
                isinstance(o, dict) and isinstance(o.get("body"), str) for o in operations):
            raise ValueError(f"{path} is not an Apollo persisted query manifest (version 1)")
        found = {str(o.get("id")): str(o["body"]) for o in operations}
    elif isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        found = {str(k): v for k, v in data.items()}
    else:
        raise ValueError(f"{path} is not a manifest of sha256 -> document text; run `{BUILD_COMMAND}`")
    if any(document_hash(text) != digest for digest, text in found.items()):
        raise ValueError(f"{path}: an id is not the SHA-256 of its document; run `{BUILD_COMMAND}`")
    return found


def load(path: Path = MANIFEST) -> dict[str, str]:
    """One manifest file, ours (`persisted.json`) or Apollo's format; a missing file is empty."""
    if not path.exists():
        return {}
    return _texts(json.loads(path.read_text(encoding="utf-8")), path)


def load_all(paths: list[Path] | None = None) -> dict[str, str]:
    """The trusted documents of every manifest (by default both of `mobile_contract/`)."""
    documents: dict[str, str] = {}
    for path in paths if paths is not None else [MANIFEST, APOLLO_MANIFEST]:
        documents.update(load(path))
    return documents
