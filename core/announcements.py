"""Announcements: agencies' notices to everyone, or to the people of some provinces, for a window of time.

They are shown to anonymous callers too, so they must never be personal: no citizen is ever tied to one, and
text holding a 12-digit ID number or a phone number is refused where it enters (`ANNOUNCEMENT_PERSONAL_DATA`),
from an operator's CLI or an agency alike. Every limit is checked here, before the database, so SQLite and
PostgreSQL answer the same (PostgreSQL would refuse an over-long varchar or a NUL; SQLite would store it).

Visibility is a function of time: shown while `starts_at <= now < ends_at` and not withdrawn. `now` comes from
the caller (`core.clock.utc_now` at the edge), so tests move the clock instead of sleeping. Expired and
withdrawn ones are pruned by `superapp maintenance` after `SUPERAPP_RETENTION_ANNOUNCEMENT_DAYS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.errors import DomainError, ErrorCode, FieldError
from core.id_numbers import PROVINCE_CODES
from core.log_redaction import PHONE
from core.models import Agency, Announcement

TITLE_MAX = 120
BODY_MAX = 1000
PRIORITY_MAX = 100
LONGEST_WINDOW = timedelta(days=366)
SHOWN_AT_MOST = 10  # one home screen shows the highest-priority ten
EXTERNAL_ID_MAX = 128

# Twelve digits in a row, or split by spaces, dots or dashes as people write them (001 090 123 456).
ID_NUMBER_LIKE = re.compile(r"(?<![0-9])[0-9](?:[ .-]?[0-9]){11}(?![0-9])")
# Control characters other than a line break (NUL included: PostgreSQL cannot store it).
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Draft:
    """What an operator or an agency asks to announce, before it is checked."""

    agency_code: str
    title_vi: str
    title_en: str
    body_vi: str
    body_en: str
    starts_at: datetime
    ends_at: datetime
    provinces: Sequence[str] = ()
    priority: int = 0


def province_error(province: str) -> DomainError:
    return DomainError(ErrorCode.UNKNOWN_PROVINCE, field="province", province=province[:8])


def check_province(province: str | None) -> str | None:
    """A caller's province filter: a known 3-digit code, or None for "nationwide only"."""
    if province is None:
        return None
    if province not in PROVINCE_CODES:
        raise province_error(province)
    return province


def _text_errors(field: str, label: str, value: str, maximum: int) -> list[FieldError]:
    stripped = value.strip()
    if not stripped or len(value) > maximum or CONTROL.search(value):
        return [FieldError.of(ErrorCode.INVALID_LENGTH if not CONTROL.search(value) else ErrorCode.INVALID_VALUE,
                              field, label=label, label_en=f"{label} (1-{maximum} characters, no control "
                                                           "characters)")]
    if ID_NUMBER_LIKE.search(value):
        return [FieldError.of(ErrorCode.ANNOUNCEMENT_PERSONAL_DATA, field, field_name=field,
                              what="số định danh cá nhân", what_en="a personal identification number")]
    if PHONE.search(value):
        return [FieldError.of(ErrorCode.ANNOUNCEMENT_PERSONAL_DATA, field, field_name=field,
                              what="số điện thoại", what_en="a phone number")]
    return []


def _province_list(provinces: Iterable[str]) -> tuple[str, list[FieldError]]:
    codes = sorted({p.strip() for p in provinces if p.strip()})
    unknown = [p for p in codes if p not in PROVINCE_CODES]
    if unknown:
        return "", [FieldError.of(ErrorCode.UNKNOWN_PROVINCE, "provinces", province=unknown[0][:8])]
    return ("," + ",".join(codes) + ",") if codes else "", []


def validate(draft: Draft) -> tuple[Announcement, list[FieldError]]:
    """The row to store, or every problem with the draft (the row is then not to be stored)."""
    errors = [*_text_errors("titleVi", "title_vi", draft.title_vi, TITLE_MAX),
              *_text_errors("titleEn", "title_en", draft.title_en, TITLE_MAX),
              *_text_errors("bodyVi", "body_vi", draft.body_vi, BODY_MAX),
              *_text_errors("bodyEn", "body_en", draft.body_en, BODY_MAX)]
    if not 0 < len(draft.agency_code) <= 32 or CONTROL.search(draft.agency_code):
        errors.append(FieldError.of(ErrorCode.INVALID_LENGTH, "agencyCode", label="agency_code"))
    if draft.starts_at.tzinfo is None or draft.ends_at.tzinfo is None:
        errors.append(FieldError.of(ErrorCode.INVALID_FORMAT, "endsAt", label="starts_at/ends_at (with a UTC "
                                                                               "offset)"))
    elif not timedelta(0) < draft.ends_at - draft.starts_at <= LONGEST_WINDOW:
        errors.append(FieldError.of(ErrorCode.OUT_OF_RANGE, "endsAt",
                                    label="ends_at (after starts_at, at most 366 days later)"))
    if not 0 <= draft.priority <= PRIORITY_MAX:
        errors.append(FieldError.of(ErrorCode.OUT_OF_RANGE, "priority", label=f"priority (0-{PRIORITY_MAX})"))
    provinces, province_errors = _province_list(draft.provinces)
    errors += province_errors
    row = Announcement(agency_code=draft.agency_code, title_vi=draft.title_vi.strip(),
                       title_en=draft.title_en.strip(), body_vi=draft.body_vi.strip(), body_en=draft.body_en.strip(),
                       starts_at=draft.starts_at, ends_at=draft.ends_at, provinces=provinces, priority=draft.priority)
    return row, errors


async def create(session: AsyncSession, draft: Draft, *, source: str = "operator", service_code: str | None = None,
                 external_id: str | None = None) -> Announcement:
    """Check and store one announcement; raises `DomainError` with every problem. The agency must be in the
    catalogue: an announcement names who stands behind it."""
    row, errors = validate(draft)
    if not errors:
        known = (await session.execute(select(Agency.id).where(Agency.code == draft.agency_code))).first()
        if known is None:
            errors.append(FieldError.of(ErrorCode.NOT_FOUND, "agencyCode", what="cơ quan " + draft.agency_code,
                                        what_en="Agency " + draft.agency_code))
    if errors:
        raise DomainError.from_fields(errors)
    row.source, row.service_code, row.external_id = source, service_code, external_id
    session.add(row)
    await session.flush()
    return row


async def withdraw(session: AsyncSession, *, announcement_id: int, now: datetime) -> Announcement | None:
    """Stop showing one at once; None when there is no such announcement or it was already withdrawn."""
    row = await session.get(Announcement, announcement_id)
    if row is None or row.withdrawn_at is not None:
        return None
    row.withdrawn_at = now
    session.add(row)
    return row


async def every(session: AsyncSession) -> list[Announcement]:
    """All stored ones, newest first (the operators' list)."""
    query = select(Announcement).order_by(col(Announcement.starts_at).desc(), col(Announcement.id).desc())
    return list((await session.execute(query)).scalars())


def state(row: Announcement, now: datetime) -> str:
    """`withdrawn`, `scheduled` (not yet valid), `active` or `expired`: what the operators' list says."""
    if row.withdrawn_at is not None:
        return "withdrawn"
    if now < row.starts_at:
        return "scheduled"
    return "active" if now < row.ends_at else "expired"


async def visible(session: AsyncSession, *, now: datetime, province: str | None,
                  limit: int = SHOWN_AT_MOST) -> list[Announcement]:
    """What a home screen shows at `now`: valid, not withdrawn, nationwide or aimed at `province`; highest
    priority first, then the newest. `province` must already be checked (`check_province`)."""
    where = [col(Announcement.withdrawn_at).is_(None), col(Announcement.starts_at) <= now,
             col(Announcement.ends_at) > now]
    if province is None:
        where.append(col(Announcement.provinces) == "")
    else:
        where.append(or_(col(Announcement.provinces) == "", col(Announcement.provinces).contains(f",{province},")))
    query = (select(Announcement).where(*where)
             .order_by(col(Announcement.priority).desc(), col(Announcement.starts_at).desc(),
                       col(Announcement.id).desc()).limit(limit))
    return list((await session.execute(query)).scalars())


def province_codes(row: Announcement) -> list[str]:
    return [p for p in row.provinces.split(",") if p]


async def prune(session: AsyncSession, limit: int, *, cutoff: datetime) -> int:
    """Announcements that ended, or were withdrawn, before `cutoff` (a retention rule, core/retention.py)."""
    ids = list((await session.execute(
        select(Announcement.id).where(or_(col(Announcement.ends_at) < cutoff, col(Announcement.withdrawn_at) < cutoff))
        .order_by(col(Announcement.id)).limit(limit))).scalars())
    if ids:
        await session.execute(delete(Announcement).where(col(Announcement.id).in_(ids)))
    return len(ids)


class Published(StrEnum):
    """What an agency's announcement did (`POST /agencies/{service}/announcements`)."""

    CREATED = "created"
    DUPLICATE = "duplicate"  # the same id with the same content: a redelivery, nothing changed
    CONFLICT = "conflict"  # the same id with other content: refused, the agency must use a new id
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"  # a withdrawal of an id this service never sent


def _same(row: Announcement, checked: Announcement) -> bool:
    return all(getattr(row, name) == getattr(checked, name) for name in (
        "agency_code", "title_vi", "title_en", "body_vi", "body_en", "starts_at", "ends_at", "provinces", "priority"))


async def _by_external(session: AsyncSession, service_code: str, external_id: str) -> Announcement | None:
    query = select(Announcement).where(Announcement.service_code == service_code,
                                       Announcement.external_id == external_id)
    return (await session.execute(query)).scalars().first()


async def publish(session: AsyncSession, draft: Draft, *, service_code: str, external_id: str) -> Published:
    """An agency's announcement, idempotent by its own id: a redelivery changes nothing, a reused id with other
    content is a conflict (never a silent overwrite of what citizens already saw). Raises `DomainError` with
    every problem of the text, exactly as for operators."""
    existing = await _by_external(session, service_code, external_id)
    if existing is not None:
        checked, errors = validate(draft)
        if errors:
            raise DomainError.from_fields(errors)
        return Published.DUPLICATE if _same(existing, checked) else Published.CONFLICT
    await create(session, draft, source="agency", service_code=service_code, external_id=external_id)
    return Published.CREATED


async def withdraw_published(session: AsyncSession, *, service_code: str, external_id: str,
                             now: datetime) -> Published:
    row = await _by_external(session, service_code, external_id)
    if row is None:
        return Published.UNKNOWN
    if row.withdrawn_at is None:
        row.withdrawn_at = now
        session.add(row)
    return Published.WITHDRAWN
