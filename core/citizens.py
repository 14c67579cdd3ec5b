"""Citizens as the e-ID provider vouches for them, and the profile that pre-fills their forms.

The profile is first what the e-ID token said. A token may leave gaps (no name, no address): a
`ProfileSource` (an agency that vouches for the citizen, such as the national population database, given
to core by the service registry) fills the gaps it declares. Core never imports a plug-in.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.errors import DomainError
from core.models import Citizen

log = logging.getLogger("superapp.citizens")

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


PROFILE_FIELDS = frozenset({"id_number", "full_name", "birth_date", "sex", "hometown", "permanent_address",
                            "phone", "email"})


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


def known(value: Any) -> bool:
    """A profile or form value that says something: not None, not an empty or whitespace-only string."""
    return value is not None and not (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class ProfileSource:
    """An agency that vouches for some profile fields (`fields`, keys of `profile_of`); `fetch` returns
    them for one citizen and raises a DomainError (AGENCY_UNAVAILABLE, AGENCY_TIMEOUT) when it cannot."""

    name: str
    fields: frozenset[str]
    fetch: Callable[[Citizen], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class Profile:
    """The values a form's `x-prefill` may name; `unavailable` maps a gap that stayed open because its
    source failed to the source's typed error, so a form that cannot do without it can say why."""

    values: Mapping[str, Any]
    unavailable: Mapping[str, DomainError] = field(default_factory=dict)

    @classmethod
    def own(cls, citizen: Citizen) -> Profile:
        """What the e-ID token said, asking no one."""
        return cls(profile_of(citizen))


async def citizen_profile(citizen: Citizen, sources: Collection[ProfileSource], *,
                          wanted: Collection[str] | None = None) -> Profile:
    """The citizen's own profile with its gaps filled by the sources that vouch for them.

    A source is asked only for a gap it declares and (given `wanted`, the fields a form pre-fills) one the
    form needs, so most requests ask no agency. A failing source leaves its gaps open (the form falls
    back to what the citizen types) and is remembered in `unavailable`.
    """
    values = profile_of(citizen)
    unavailable: dict[str, DomainError] = {}
    for source in sources:
        gaps = {name for name in source.fields if not known(values.get(name))}
        if wanted is not None:
            gaps &= set(wanted)
        if not gaps:
            continue
        try:
            found = await source.fetch(citizen)
        except DomainError as error:
            log.warning("pre-fill source %s unavailable (%s); its fields stay empty", source.name, error.code)
            unavailable.update(dict.fromkeys(gaps, error))
            continue
        for name in gaps:
            if known(found.get(name)):
                values[name] = found[name]
                unavailable.pop(name, None)
    return Profile(values, unavailable)
