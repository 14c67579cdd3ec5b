"""Citizens as the e-ID provider vouches for them, and the profile that pre-fills their forms."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.models import Citizen

FULL_NAME_MAX = 255


def _claimed_birth_date(value: Any) -> date | None:
    """OpenID Connect allows `1990` or `0000-03-12`; only a full, real date is kept."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


async def citizen_by_id_number(session: AsyncSession, id_number: str) -> Citizen | None:
    result = await session.execute(select(Citizen).where(Citizen.id_number == id_number))
    return result.scalars().first()


async def enrol_citizen(session: AsyncSession, *, id_number: str, claims: dict[str, Any]) -> Citizen:
    """First sign-in of a citizen we have no record of: keep what the e-ID token says about them.

    Two first requests may race; the loser finds the winner's row instead of failing.
    """
    gender = claims.get("gender")
    citizen = Citizen(
        id_number=id_number,
        full_name=str(claims.get("name") or "")[:FULL_NAME_MAX],
        birth_date=_claimed_birth_date(claims.get("birthdate")),
        sex=gender if gender in ("male", "female") else None,
    )
    try:
        async with session.begin_nested():
            session.add(citizen)
    except IntegrityError:
        existing = await citizen_by_id_number(session, id_number)
        if existing is None:
            raise
        return existing
    return citizen


def profile_of(citizen: Citizen) -> dict[str, Any]:
    """The values a form's `x-prefill` may name."""
    return {
        "id_number": citizen.id_number,
        "full_name": citizen.full_name,
        "birth_date": citizen.birth_date.isoformat() if citizen.birth_date else None,
        "sex": citizen.sex,
        "hometown": citizen.hometown,
        "permanent_address": citizen.permanent_address,
        "phone": citizen.phone,
        "email": citizen.email,
    }
