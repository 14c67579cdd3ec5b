from __future__ import annotations

import json

import pytest

from mobile_contract import manifest


def test_committed_manifest_is_built_from_the_operations() -> None:
    committed = json.loads(manifest.MANIFEST.read_text(encoding="utf-8"))
    assert committed == manifest.build(), f"persisted.json is stale; run `{manifest.BUILD_COMMAND}`"


def test_every_key_is_the_sha256_of_its_text() -> None:
    for digest, text in manifest.load().items():
        assert manifest.document_hash(text) == digest


def test_a_tampered_manifest_is_refused(tmp_path) -> None:
    path = tmp_path / "persisted.json"
    path.write_text(json.dumps({"0" * 64: "query { __typename }"}), encoding="utf-8")
    with pytest.raises(ValueError, match="contract build"):
        manifest.load(path)
