"""Persisted documents: Apollo's automatic persisted queries and GraphQL-over-HTTP `documentId`.

The manifests (`mobile_contract/persisted.json` and its Apollo-format twin) hold the app's own operations.
Each trusted document is known under every form a standard client sends it in (the file's text, printed,
printed with `__typename`: see `mobile_contract/client_forms.py`), so Apollo Client and urql work unchanged.
Outside persisted-only mode, APQ may also register new documents in a bounded in-memory cache; in
persisted-only mode (production by default) the manifests are the whole list of what runs, on every
transport (HTTP and WebSocket), so an ad-hoc document is refused.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

from core.errors import WIRE_MESSAGES, ErrorCode
from mobile_contract.client_forms import forms
from mobile_contract.manifest import document_hash

PUBLIC_ROOT_FIELDS = frozenset({"procedures", "procedure", "services", "screen", "serviceDirectory", "__typename"})
_HEX64 = re.compile(r"[0-9a-f]{64}")


class PersistedDocumentError(Exception):
    def __init__(self, code: ErrorCode) -> None:
        super().__init__(code.value)
        self.code = code

    @property
    def wire_message(self) -> str | None:
        """The `message` standard clients expect for this code, if they expect one."""
        return WIRE_MESSAGES.get(self.code)


@dataclass(frozen=True)
class Lookup:
    """What a request turned out to ask for: the document text and whether it came persisted."""

    text: str | None
    persisted: bool
    public: bool


def _only_public(text: str) -> bool:
    """True when every operation is a query reading only public root fields (cacheable by anyone)."""
    try:
        document = parse(text)
    except GraphQLError:
        return False
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if definition.operation is not OperationType.QUERY:
            return False
        selections = definition.selection_set.selections
        if not all(isinstance(s, FieldNode) and s.name.value in PUBLIC_ROOT_FIELDS for s in selections):
            return False
    return True


class PersistedDocuments:
    def __init__(self, manifest: dict[str, str], *, persisted_only: bool, cache_size: int) -> None:
        self._manifest = trusted_index(manifest)
        self._public = {h: _only_public(t) for h, t in self._manifest.items()}
        self._registered: OrderedDict[str, str] = OrderedDict()
        self.persisted_only = persisted_only
        self._cache_size = cache_size

    def is_trusted(self, digest: str) -> bool:
        """A document of the manifests (never one APQ registered): what app-usage tracking records."""
        return digest in self._manifest

    def _known(self, digest: str) -> str | None:
        if digest in self._manifest:
            return self._manifest[digest]
        text = self._registered.get(digest)
        if text is not None:
            self._registered.move_to_end(digest)
        return text

    def _register(self, digest: str, text: str) -> None:
        if self._cache_size == 0:
            return
        self._registered[digest] = text
        self._registered.move_to_end(digest)
        while len(self._registered) > self._cache_size:
            self._registered.popitem(last=False)

    def _is_public(self, digest: str, text: str) -> bool:
        if digest not in self._public:
            self._public[digest] = _only_public(text)
        return self._public[digest]

    def resolve(self, *, query: str | None, extensions: dict[str, Any] | None,
                document_id: str | None) -> Lookup:
        digest = _requested_hash(extensions, document_id)
        if digest is None:
            if query is None:
                return Lookup(text=None, persisted=False, public=False)
            if self.persisted_only and document_hash(query) not in self._manifest:
                raise PersistedDocumentError(ErrorCode.PERSISTED_QUERY_REQUIRED)
            return Lookup(text=query, persisted=False, public=False)
        if query is not None:
            if document_hash(query) != digest:
                raise PersistedDocumentError(ErrorCode.PERSISTED_QUERY_HASH_MISMATCH)
            if self._known(digest) is None:
                if self.persisted_only:
                    raise PersistedDocumentError(ErrorCode.PERSISTED_QUERY_REQUIRED)
                self._register(digest, query)
            return Lookup(text=query, persisted=True, public=self._is_public(digest, query))
        text = self._known(digest)
        if text is None:
            raise PersistedDocumentError(ErrorCode.PERSISTED_QUERY_NOT_FOUND)
        return Lookup(text=text, persisted=True, public=self._is_public(digest, text))


def trusted_index(manifest: dict[str, str]) -> dict[str, str]:
    """Every hash a standard client may send for the manifest's documents -> the text under that hash."""
    return {document_hash(form): form for text in manifest.values() for form in _forms(text)}


def _forms(text: str) -> tuple[str, ...]:
    try:
        return forms(text)
    except GraphQLError:  # a manifest entry that does not parse can only ever be sent as it is
        return (text,)


def _requested_hash(extensions: dict[str, Any] | None, document_id: str | None) -> str | None:
    if document_id is not None:
        digest = document_id.removeprefix("sha256:").lower()
    else:
        persisted = (extensions or {}).get("persistedQuery")
        if not isinstance(persisted, dict):
            return None
        if persisted.get("version") != 1:
            raise PersistedDocumentError(ErrorCode.PERSISTED_QUERY_NOT_FOUND)
        digest = str(persisted.get("sha256Hash", "")).lower()
    if not _HEX64.fullmatch(digest):
        raise PersistedDocumentError(ErrorCode.PERSISTED_QUERY_NOT_FOUND)
    return digest
