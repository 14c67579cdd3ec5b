"""Reusing wallet documents instead of certified copies.

A procedure's e-form may ask for a document the state itself issued: a top-level property with
`"x-document-kind": "<kind>"` (e.g. the child's birth certificate for the child's health-insurance card). The
app offers the citizen's matching wallet documents (`me.documents(kind:)`, those with `isValid`) and answers
the field with the chosen document's GraphQL `id`. At submission (and supplement) the reference must name a
document of the caller's, of that kind, VALID and inside its validity: a typed error per field otherwise. The
agency then receives the document as its issuer signed it, with the signature and key id, and checks it
itself: no certified copy is needed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.documents import DOCUMENT_KIND, citizen_document
from core.errors import DomainError, ErrorCode, FieldError
from core.models import Document
from core.text import ascii_digits
from core.wallet import Verification

DOCUMENT_KIND_KEYWORD = "x-document-kind"
_ID_MAX = 2**31 - 1  # document ids are 32-bit integers on every database
_REFERENCE_MAX = 64


def document_fields(schema: Mapping[str, Any]) -> dict[str, str]:
    """Field name -> the document kind it asks for, for each top-level property with `x-document-kind`."""
    properties = schema.get("properties", {})
    found: dict[str, str] = {}
    if not isinstance(properties, Mapping):
        return found
    for name, prop in properties.items():
        kind = prop.get(DOCUMENT_KIND_KEYWORD) if isinstance(prop, Mapping) else None
        if isinstance(kind, str) and DOCUMENT_KIND.fullmatch(kind):
            found[name] = kind
    return found


def document_key(value: object) -> int | None:
    """The row id a reference names: the Document's GraphQL id (base64 of `Document:<n>`); None otherwise."""
    if not isinstance(value, str) or not 0 < len(value) <= _REFERENCE_MAX:
        return None
    try:
        decoded = base64.b64decode(value.encode("ascii"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    kind, _, key = decoded.partition(":")
    if kind != "Document" or not ascii_digits(key) or len(key) > 10:
        return None
    number = int(key)
    return number if 0 < number <= _ID_MAX else None


def _usable_problem(document: Document | None, kind: str, today: date) -> tuple[ErrorCode, dict[str, str]] | None:
    if document is None:
        return ErrorCode.DOCUMENT_NOT_FOUND, {}
    if document.kind != kind:
        return ErrorCode.DOCUMENT_KIND_MISMATCH, {"kind": kind}
    if document.verification != Verification.VALID:
        return ErrorCode.DOCUMENT_NOT_VERIFIED, {}
    if (document.valid_from is not None and today < document.valid_from) or (
            document.valid_until is not None and today > document.valid_until):
        return ErrorCode.DOCUMENT_EXPIRED, {}
    return None


async def check_document_references(session: AsyncSession, *, schema: Mapping[str, Any], form: Mapping[str, Any],
                                    citizen_id: int, today: date, only: Collection[str] | None = None) -> None:
    """Raise one DomainError listing every reference that does not name a usable document of the citizen's.
    Another citizen's document is answered exactly like one that does not exist. `only`: the fields to check
    (a supplement's answers); default all."""
    errors: list[FieldError] = []
    for name, kind in document_fields(schema).items():
        if name not in form or (only is not None and name not in only):
            continue
        key = document_key(form[name])
        document = await citizen_document(session, citizen_id=citizen_id, document_id=key) if key else None
        problem = _usable_problem(document, kind, today)
        if problem is not None:
            code, params = problem
            errors.append(FieldError.of(code, f"formData.{name}", **params))
    if errors:
        raise DomainError.from_fields(errors)


async def forwarded_documents(session: AsyncSession, *, schema: Mapping[str, Any], form: Mapping[str, Any],
                              citizen_id: int, only: Collection[str] | None = None) -> list[dict[str, Any]]:
    """What the agency receives for each document reference: the document as signed, signature and key id."""
    out: list[dict[str, Any]] = []
    for name, kind in document_fields(schema).items():
        if name not in form or (only is not None and name not in only):
            continue
        key = document_key(form[name])
        document = await citizen_document(session, citizen_id=citizen_id, document_id=key) if key else None
        if document is None or document.signed_payload is None:
            continue
        out.append({"field": name, "kind": kind, "document": document.signed_payload,
                    "signature": document.signature, "kid": document.signing_kid})
    return out
