"""Dossier codes: `<receiving agency code>-<yymmdd received>-<4-digit daily sequence of that agency>`.

The sequence comes from one upsert per agency on `dossier_sequence` inside the transaction that stores the
dossier. On PostgreSQL the conflicting insert takes the row lock, so concurrent submissions queue on it and
each sees the previous one's increment; on SQLite writers are serialized by `BEGIN IMMEDIATE`. A rolled-back
submission gives its number back, so codes stay gapless per agency and day. A submission that needs several
codes (an interconnected one) takes them all in one call, in ascending agency order, before it stamps
anything in a sync scope: the lock order of `core.locks`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import DomainError, ErrorCode
from core.locks import Lock, take
from core.models import DossierSequence
from core.upsert import insert_into

MAX_DAILY_SEQUENCE = 9999
_AGENCY = r"[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[0-9A-Z]{3}"
AGENCY_CODE = re.compile(_AGENCY)
DOSSIER_CODE = re.compile(rf"(?P<agency>{_AGENCY})-(?P<day>[0-9]{{6}})-(?P<seq>[0-9]{{4}})")

def format_code(agency_code: str, received: date, sequence: int) -> str:
    if not AGENCY_CODE.fullmatch(agency_code):
        raise ValueError(f"agency code {agency_code!r} is not shaped V1V2V3.Z1Z2.Y1Y2.MX1X2")
    if not 1 <= sequence <= MAX_DAILY_SEQUENCE:
        raise ValueError(f"daily sequence {sequence} outside 1..{MAX_DAILY_SEQUENCE}")
    return f"{agency_code}-{received:%y%m%d}-{sequence:04d}"


async def next_dossier_codes(session: AsyncSession, *, agency_codes: Sequence[str], received: date) -> list[str]:
    """One code per entry of `agency_codes` (an agency may repeat), in the caller's transaction.

    One statement per agency, in ascending order; an agency named twice gets consecutive numbers, in the
    order it is named.
    """
    wanted = Counter(agency_codes)
    day = f"{received:%y%m%d}"
    ordered = take(session, Lock.DAILY_SEQUENCE, [f"{agency}/{day}" for agency in wanted])
    following: dict[str, int] = {}
    for key in ordered:
        agency = key.split("/")[0]
        count = wanted[agency]
        statement = (insert_into(session, DossierSequence).values(agency_code=agency, day=day, value=count)
                     .on_conflict_do_update(index_elements=["agency_code", "day"],
                                            set_={"value": col(DossierSequence.value) + count})
                     .returning(col(DossierSequence.value)))
        result = await session.execute(statement)
        last = int(result.scalar_one())
        if last > MAX_DAILY_SEQUENCE:
            raise DomainError(ErrorCode.DAILY_SEQUENCE_EXHAUSTED)
        following[agency] = last - wanted[agency] + 1
    codes = []
    for agency in agency_codes:
        codes.append(format_code(agency, received, following[agency]))
        following[agency] += 1
    return codes


async def next_dossier_code(session: AsyncSession, *, agency_code: str, received: date) -> str:
    """Take the agency's next number for `received`, in the caller's transaction."""
    return (await next_dossier_codes(session, agency_codes=[agency_code], received=received))[0]
