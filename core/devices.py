"""Push devices and notification preferences of a citizen.

A token identifies one app install. Registering a token another citizen holds moves it (a shared family
phone now belongs to whoever signed in last), so a push never reaches the previous owner's phone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, delete, select

from core.errors import DomainError, ErrorCode
from core.models import Device, NotificationPreference
from core.text import ascii_digits
from core.upsert import insert_into

PLATFORMS = frozenset({"android", "ios", "web"})
LOCALES = frozenset({"vi", "en"})
MAX_TOKEN_LENGTH = 4096


def _check(token: str, platform: str, locale: str) -> None:
    if not token.strip() or len(token) > MAX_TOKEN_LENGTH or any(c.isspace() for c in token):
        raise DomainError(ErrorCode.INVALID_DEVICE_TOKEN, field="token")
    if platform not in PLATFORMS:
        raise DomainError(ErrorCode.UNSUPPORTED_PLATFORM, field="platform", platform=platform[:20])
    if locale not in LOCALES:
        raise DomainError(ErrorCode.UNSUPPORTED_LOCALE, field="locale", locale=locale[:20])


async def register_device(session: AsyncSession, *, citizen_id: int, token: str, platform: str, locale: str,
                          now: datetime) -> Device:
    """Insert or take over the token in one statement, so concurrent registrations cannot collide."""
    _check(token, platform, locale)
    values = {"citizen_id": citizen_id, "token": token, "platform": platform, "locale": locale,
              "created_at": now, "last_seen_at": now}
    statement = insert_into(session, Device).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[Device.__table__.c.token],  # type: ignore[attr-defined]
        set_={"citizen_id": citizen_id, "platform": platform, "locale": locale, "last_seen_at": now},
    )
    await session.execute(statement)
    device = (await session.execute(
        select(Device).where(Device.token == token).execution_options(populate_existing=True)
    )).scalars().one()
    return device


async def unregister_device(session: AsyncSession, *, citizen_id: int, token: str) -> bool:
    """Forget the token if this citizen holds it; someone else's token is left alone (and looks absent)."""
    result = await session.execute(delete(Device).where(col(Device.token) == token,
                                                        col(Device.citizen_id) == citizen_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def devices_of(session: AsyncSession, citizen_id: int) -> list[Device]:
    query = select(Device).where(Device.citizen_id == citizen_id).order_by(col(Device.id))
    return list((await session.execute(query)).scalars())


def parse_clock(value: str | None, field: str) -> int | None:
    """`HH:MM` -> minutes after midnight."""
    if value is None:
        return None
    hours, _, minutes = value.partition(":")
    well_formed = ascii_digits(hours) and ascii_digits(minutes) and len(minutes) == 2
    if not (well_formed and int(hours) < 24 and int(minutes) < 60):
        raise DomainError(ErrorCode.INVALID_QUIET_HOURS, field=field)
    return int(hours) * 60 + int(minutes)


async def set_preferences(session: AsyncSession, *, citizen_id: int, now: datetime, push_enabled: bool | None,
                          sms_fallback: bool | None, quiet_start: str | None, quiet_end: str | None,
                          clear_quiet_hours: bool = False) -> NotificationPreference:
    """Change what is given and keep the rest; quiet hours are set (both ends) or cleared together."""
    start, end = parse_clock(quiet_start, "quietHoursStart"), parse_clock(quiet_end, "quietHoursEnd")
    if (start is None) != (end is None):
        raise DomainError(ErrorCode.INVALID_QUIET_HOURS, field="quietHoursStart" if start is None else "quietHoursEnd")
    preference = await session.get(NotificationPreference, citizen_id, with_for_update=True) \
        or NotificationPreference(citizen_id=citizen_id)
    if push_enabled is not None:
        preference.push_enabled = push_enabled
    if sms_fallback is not None:
        preference.sms_fallback = sms_fallback
    if start is not None:
        preference.quiet_start_minute, preference.quiet_end_minute = start, end
    elif clear_quiet_hours:
        preference.quiet_start_minute = preference.quiet_end_minute = None
    preference.updated_at = now
    session.add(preference)
    await session.flush()
    return preference
