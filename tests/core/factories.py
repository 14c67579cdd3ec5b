"""Small builders the core database tests share: fresh citizens, fresh agency codes and free days."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text

from core.db import Database
from core.id_numbers import Sex
from core.models import Citizen
from core.seed_data import PROCEDURES
from tests.support import new_id_number

# The seeded procedure most tests submit: temporary residence registration.
PROCEDURE_CODE = "1.004206"


def sample_form(code: str = PROCEDURE_CODE) -> dict[str, Any]:
    """The catalogue's sample form data for `code` (a copy)."""
    return dict(next(p["sample"] for p in PROCEDURES if p["code"] == code))


async def create_citizens(db: Database, count: int = 1, *, phone: str | None = "0912000111") -> list[Citizen]:
    """Fresh citizens with unique valid ID numbers, committed."""
    birth = date(1990, 1, 1)
    citizens = [
        Citizen(id_number=new_id_number(birth_date=birth, sex=Sex.FEMALE), full_name=f"Công Dân Thử {n}",
                birth_date=birth, sex=Sex.FEMALE.value, phone=phone)
        for n in range(count)
    ]
    async with db.write() as session:
        session.add_all(citizens)
        await session.flush()
    return citizens


async def create_citizen(db: Database, *, phone: str | None = "0912000111") -> Citizen:
    (citizen,) = await create_citizens(db, 1, phone=phone)
    return citizen


def new_agency_code() -> str:
    """An agency code shaped like `000.00.15.H29` that no other test uses."""
    token = uuid.uuid4().hex.upper()
    return f"{token[:3]}.{token[3:5]}.{token[5:7]}.{token[7:10]}"


async def free_day(db: Database, agency_code: str, start: date) -> date:
    """The first day from `start` on which `agency_code` has not numbered any dossier yet."""
    day = start
    async with db.read() as session:
        while (await session.execute(
            text("SELECT count(*) FROM dossier_sequence WHERE agency_code = :agency AND day = :day"),
            {"agency": agency_code, "day": f"{day:%y%m%d}"},
        )).scalar_one():
            day += timedelta(days=1)
    return day


def morning_of(day: date) -> datetime:
    """10:00 in Hà Nội (03:00 UTC) on `day`: the local date is `day` itself."""
    return datetime.combine(day, time(3, 0), tzinfo=UTC)
