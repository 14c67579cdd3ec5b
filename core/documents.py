"""The document wallet: issued results and cards, only ever read for their owner."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.models import Document


async def citizen_documents(session: AsyncSession, *, citizen_id: int) -> list[Document]:
    query = (select(Document).where(Document.citizen_id == citizen_id)
             .order_by(col(Document.issued_at).desc(), col(Document.id).desc()))
    return list((await session.execute(query)).scalars())


async def documents_for_dossiers(
    session: AsyncSession, dossier_ids: Sequence[int]
) -> dict[int, list[Document]]:
    query = select(Document).where(col(Document.dossier_id).in_(dossier_ids)).order_by(col(Document.id))
    grouped: dict[int, list[Document]] = {i: [] for i in dossier_ids}
    for document in (await session.execute(query)).scalars():
        if document.dossier_id is not None:
            grouped[document.dossier_id].append(document)
    return grouped


async def citizen_document(session: AsyncSession, *, citizen_id: int, document_id: int) -> Document | None:
    query = select(Document).where(Document.id == document_id, Document.citizen_id == citizen_id)
    return (await session.execute(query)).scalars().first()
