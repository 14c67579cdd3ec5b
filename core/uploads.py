"""The `upload` rows (attachments, uploads/tus.py): who owns an upload, how far it got, and which dossier
took it. Every read is scoped by the owner: another citizen's upload is indistinguishable from one that
does not exist. The bytes are never here: they are the storage backend's (core/storage.py)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.errors import DomainError, ErrorCode
from core.models import Upload

UPLOADING, COMPLETE = "uploading", "complete"
SUBMIT, SUPPLEMENT = "submit", "supplement"
ID_MAX = 43


def new_upload_id() -> str:
    """192 random bits, URL-safe: the upload URL names nothing about the citizen and cannot be guessed."""
    return secrets.token_urlsafe(24)


def looks_like_upload_id(value: object) -> bool:
    return (isinstance(value, str) and 16 <= len(value) <= ID_MAX
            and all(c.isascii() and (c.isalnum() or c in "-_") for c in value))


async def owned(session: AsyncSession, *, citizen_id: int, upload_id: str) -> Upload | None:
    if not looks_like_upload_id(upload_id):
        return None
    row = await session.get(Upload, upload_id)
    return row if row is not None and row.citizen_id == citizen_id else None


async def count_unused(session: AsyncSession, citizen_id: int) -> int:
    """Uploads the citizen holds that no dossier took yet (unfinished or complete)."""
    query = select(func.count()).select_from(Upload).where(Upload.citizen_id == citizen_id,
                                                          col(Upload.dossier_id).is_(None))
    return int((await session.execute(query)).scalar_one())


def create(session: AsyncSession, *, citizen_id: int, length: int, filename: str, now: datetime,
           expires_in: timedelta) -> Upload:
    row = Upload(id=new_upload_id(), citizen_id=citizen_id, length=length, filename=filename, created_at=now,
                 expires_at=now + expires_in)
    session.add(row)
    return row


async def take_lease(session: AsyncSession, *, upload_id: str, offset: int, now: datetime,
                     until: datetime) -> bool:
    """Only one PATCH writes an upload at a time, whichever worker it reached: the lease is taken by one
    conditional update, and only at the offset the client named."""
    statement = (update(Upload).where(col(Upload.id) == upload_id, col(Upload.offset) == offset,
                                      col(Upload.state) == UPLOADING,
                                      or_(col(Upload.locked_until).is_(None), col(Upload.locked_until) < now))
                 .values(locked_until=until))
    result: Any = await session.execute(statement)
    return bool(result.rowcount == 1)


async def advance(session: AsyncSession, *, upload_id: str, offset: int) -> None:
    """The bytes up to `offset` are stored; the lease ends."""
    await session.execute(update(Upload).where(col(Upload.id) == upload_id)
                          .values(offset=offset, locked_until=None))


async def mark_complete(session: AsyncSession, *, upload_id: str, content_type: str, sha256: str, now: datetime,
                        keep_for: timedelta) -> None:
    await session.execute(update(Upload).where(col(Upload.id) == upload_id)
                          .values(state=COMPLETE, content_type=content_type, sha256=sha256, completed_at=now,
                                  expires_at=now + keep_for, locked_until=None))


async def remove(session: AsyncSession, upload_id: str) -> None:
    row = await session.get(Upload, upload_id)
    if row is not None:
        await session.delete(row)


async def attach(session: AsyncSession, *, citizen_id: int, upload_ids: Sequence[str], dossier_id: int,
                 attached_as: str, maximum: int, now: datetime,
                 forward_job_id: int | None = None) -> list[Upload]:
    """The dossier takes the citizen's complete uploads, in the caller's transaction: each at most once
    (UPLOAD_ALREADY_ATTACHED), only the caller's and unexpired (UPLOAD_NOT_FOUND: `superapp maintenance`
    deletes expired ones) and only whole (UPLOAD_INCOMPLETE)."""
    ids = list(dict.fromkeys(upload_ids))
    if len(ids) > maximum:
        raise DomainError(ErrorCode.TOO_MANY_ATTACHMENTS, field="attachments", maximum=maximum)
    rows: list[Upload] = []
    for index, upload_id in enumerate(ids):
        field = f"attachments.{index}"
        row = None
        if looks_like_upload_id(upload_id):
            query = select(Upload).where(Upload.id == upload_id).with_for_update()
            row = (await session.execute(query)).scalars().first()
        if row is None or row.citizen_id != citizen_id or (row.dossier_id is None and row.expires_at < now):
            raise DomainError(ErrorCode.UPLOAD_NOT_FOUND, field=field)
        if row.state != COMPLETE:
            raise DomainError(ErrorCode.UPLOAD_INCOMPLETE, field=field, upload_id=row.id)
        if row.dossier_id is not None:
            raise DomainError(ErrorCode.UPLOAD_ALREADY_ATTACHED, field=field, upload_id=row.id)
        row.dossier_id, row.attached_as, row.forward_job_id = dossier_id, attached_as, forward_job_id
        session.add(row)
        rows.append(row)
    await session.flush()
    return rows


def check_ids(upload_ids: Sequence[object], *, maximum: int) -> tuple[str, ...]:
    """Attachment ids as the app sent them, checked at the boundary (count, shape) before any query."""
    if len(upload_ids) > maximum:
        raise DomainError(ErrorCode.TOO_MANY_ATTACHMENTS, field="attachments", maximum=maximum)
    for index, value in enumerate(upload_ids):
        if not looks_like_upload_id(value):
            raise DomainError(ErrorCode.UPLOAD_NOT_FOUND, field=f"attachments.{index}")
    return tuple(dict.fromkeys(str(v) for v in upload_ids))


async def of_dossiers(session: AsyncSession, dossier_ids: Sequence[int]) -> dict[int, list[Upload]]:
    query = (select(Upload).where(col(Upload.dossier_id).in_(list(dossier_ids)))
             .order_by(col(Upload.completed_at), col(Upload.id)))
    found: dict[int, list[Upload]] = {i: [] for i in dossier_ids}
    for row in (await session.execute(query)).scalars():
        assert row.dossier_id is not None
        found[row.dossier_id].append(row)
    return found
