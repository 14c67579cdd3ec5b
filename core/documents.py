"""The document wallet: issued results and cards, only ever read for their owner."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.change_log import citizen_scope, stamp
from core.models import Document, Dossier

# What a document kind looks like (agencies' results and forms' `x-document-kind` alike).
DOCUMENT_KIND = re.compile(r"[a-z][a-z0-9_]{0,63}")


async def citizen_documents(session: AsyncSession, *, citizen_id: int, kind: str | None = None) -> list[Document]:
    query = select(Document).where(Document.citizen_id == citizen_id)
    if kind is not None:
        query = query.where(Document.kind == kind)
    query = (query
             .order_by(col(Document.issued_at).desc(), col(Document.id).desc()))
    return list((await session.execute(query)).scalars())


async def documents_for_dossiers(
    session: AsyncSession, dossier_ids: Sequence[int]
) -> dict[int, list[Document]]:
    """Each dossier's documents; an interconnected parent's are its parts' (the citizen follows the parent)."""
    query = (select(Document, Dossier.parent_id).join(Dossier, col(Document.dossier_id) == col(Dossier.id))
             .where(or_(col(Document.dossier_id).in_(dossier_ids), col(Dossier.parent_id).in_(dossier_ids)))
             .order_by(col(Document.id)))
    grouped: dict[int, list[Document]] = {i: [] for i in dossier_ids}
    for document, parent_id in (await session.execute(query)).all():
        if document.dossier_id in grouped:
            grouped[document.dossier_id].append(document)
        if parent_id in grouped:
            grouped[parent_id].append(document)
    return grouped


async def citizen_document(session: AsyncSession, *, citizen_id: int, document_id: int) -> Document | None:
    query = select(Document).where(Document.id == document_id, Document.citizen_id == citizen_id)
    return (await session.execute(query)).scalars().first()


async def issue_document(
    session: AsyncSession, *, citizen_id: int, agency_id: int, kind: str, title_vi: str, title_en: str,
    number: str, issued_at: datetime, dossier_id: int | None = None, valid_until: date | None = None,
    valid_from: date | None = None, signed_payload: dict[str, Any] | None = None, signature: str | None = None,
    signing_kid: str | None = None, verification: str = "UNSIGNED",
) -> Document:
    """Put an issued result or card in the wallet (and in the change log, so devices receive it)."""
    document = Document(citizen_id=citizen_id, dossier_id=dossier_id, agency_id=agency_id, kind=kind,
                        title_vi=title_vi, title_en=title_en, number=number, issued_at=issued_at,
                        valid_until=valid_until, valid_from=valid_from, signed_payload=signed_payload,
                        signature=signature, signing_kid=signing_kid, verification=verification)
    session.add(document)
    await session.flush()
    assert document.id is not None
    await stamp(session, scope=citizen_scope(citizen_id), record_type="document", record_id=document.id, version=1)
    return document
