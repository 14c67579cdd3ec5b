"""Dossier codes `<agency>-<yymmdd>-<NNNN>`: shape, daily sequences, and safety under concurrency."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import col, func, select

from core.catalogue import procedure_by_code
from core.db import Database
from core.deadlines import HolidayCalendar
from core.dossier_codes import format_code, next_dossier_code
from core.dossiers import Submission, submit_dossier
from core.errors import DomainError, ErrorCode
from core.models import Agency, Citizen, Dossier
from core.settings import Settings
from tests.core.factories import (
    PROCEDURE_CODE,
    create_citizen,
    create_citizens,
    free_day,
    morning_of,
    new_agency_code,
    sample_form,
)

# `<V1V2V3.Z1Z2.Y1Y2.MX1X2>-<YYMMDD>-<NNNN>` as ARCHITECTURE.md describes it.
_SHAPE = re.compile(r"[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[0-9A-Z]{3}-[0-9]{6}-[0-9]{4}")


def test_the_documented_example() -> None:
    assert format_code("000.00.15.H29", date(2024, 11, 5), 12) == "000.00.15.H29-241105-0012"


@pytest.mark.parametrize(
    ("sequence", "suffix"), [(1, "0001"), (42, "0042"), (999, "0999"), (1000, "1000"), (9999, "9999")]
)
def test_sequence_is_four_digits(sequence: int, suffix: str) -> None:
    code = format_code("000.20.31.H26", date(2031, 1, 9), sequence)
    assert code == f"000.20.31.H26-310109-{suffix}"
    assert _SHAPE.fullmatch(code)


@pytest.mark.parametrize("sequence", [0, -1, 10_000, 123_456])
def test_sequence_outside_1_9999_is_refused(sequence: int) -> None:
    with pytest.raises(ValueError, match="sequence"):
        format_code("000.00.15.H29", date(2024, 11, 5), sequence)


@pytest.mark.parametrize(
    "agency",
    [
        "",
        "000.00.15",
        "000.00.15.h29",
        "00.00.15.H29",
        "0000.00.15.H29",
        "000.000.15.H29",
        "000.00.155.H29",
        "000.00.15.H290",
        "000.00.15.H2",
        "000-00-15-H29",
        "000.00.15.H29 ",
        " 000.00.15.H29",
        "000.00.15.H29\n",
        "000.00.15.Ｈ29",
        "000.00.15.H29-241105",
    ],
)
def test_malformed_agency_codes_are_refused(agency: str) -> None:
    with pytest.raises(ValueError, match="agency code"):
        format_code(agency, date(2024, 11, 5), 1)


async def test_sequence_counts_per_agency_and_per_day(db: Database) -> None:
    agency, other = new_agency_code(), new_agency_code()
    day = date(2031, 1, 9)
    async with db.write() as session:
        first = [await next_dossier_code(session, agency_code=agency, received=day) for _ in range(3)]
    assert first == [f"{agency}-310109-0001", f"{agency}-310109-0002", f"{agency}-310109-0003"]
    async with db.write() as session:
        assert await next_dossier_code(session, agency_code=agency, received=day) == f"{agency}-310109-0004"
        # A new day starts again at 1; so does another agency on the same day.
        assert await next_dossier_code(session, agency_code=agency, received=day + timedelta(days=1)) == (
            f"{agency}-310110-0001")
        assert await next_dossier_code(session, agency_code=other, received=day) == f"{other}-310109-0001"
        assert await next_dossier_code(session, agency_code=agency, received=day) == f"{agency}-310109-0005"


async def test_a_rolled_back_transaction_gives_its_number_back(db: Database) -> None:
    agency, day = new_agency_code(), date(2031, 2, 3)

    class Abort(Exception):
        pass

    async def take_then_abort() -> None:
        async with db.write() as session:
            assert await next_dossier_code(session, agency_code=agency, received=day) == f"{agency}-310203-0002"
            raise Abort

    async with db.write() as session:
        assert await next_dossier_code(session, agency_code=agency, received=day) == f"{agency}-310203-0001"
    with pytest.raises(Abort):
        await take_then_abort()
    async with db.write() as session:
        assert await next_dossier_code(session, agency_code=agency, received=day) == f"{agency}-310203-0002"


async def _counter(db: Database, agency: str, day: date) -> int | None:
    async with db.read() as session:
        value = (await session.execute(
            text("SELECT value FROM dossier_sequence WHERE agency_code = :agency AND day = :day"),
            {"agency": agency, "day": f"{day:%y%m%d}"},
        )).scalar_one_or_none()
    return None if value is None else int(value)


async def test_the_daily_sequence_is_exhausted_after_9999(db: Database) -> None:
    agency, day = new_agency_code(), date(2031, 4, 7)
    async with db.write() as session:
        await next_dossier_code(session, agency_code=agency, received=day)
        await session.execute(
            text("UPDATE dossier_sequence SET value = 9998 WHERE agency_code = :agency AND day = :day"),
            {"agency": agency, "day": f"{day:%y%m%d}"},
        )
    async with db.write() as session:
        assert await next_dossier_code(session, agency_code=agency, received=day) == f"{agency}-310407-9999"
    assert await _counter(db, agency, day) == 9999

    with pytest.raises(DomainError) as info:
        async with db.write() as session:
            await next_dossier_code(session, agency_code=agency, received=day)
    error = info.value
    assert error.code is ErrorCode.DAILY_SEQUENCE_EXHAUSTED
    assert error.message_vi
    assert error.message_en
    assert error.message_vi != error.message_en
    # The failed transaction rolled back, and the next day is unaffected.
    assert await _counter(db, agency, day) == 9999
    async with db.write() as session:
        assert await next_dossier_code(session, agency_code=agency, received=day + timedelta(days=1)) == (
            f"{agency}-310408-0001")


async def test_concurrent_transactions_take_distinct_numbers(db: Database) -> None:
    agency, day = new_agency_code(), date(2031, 5, 5)

    async def take() -> str:
        async with db.write() as session:
            return await next_dossier_code(session, agency_code=agency, received=day)

    codes = await asyncio.gather(*(take() for _ in range(30)))
    assert sorted(codes) == [f"{agency}-310505-{n:04d}" for n in range(1, 31)]


async def _submit_concurrently(db: Database, calendar: HolidayCalendar, settings: Settings,
                               citizens: list[Citizen], day: date) -> list[str]:
    now = morning_of(day)

    async def submit(citizen: Citizen) -> str:
        async with db.write() as session:
            dossier = await submit_dossier(
                session, citizen=citizen, now=now, calendar=calendar, tz_name=settings.timezone,
                submission=Submission(procedure_code=PROCEDURE_CODE, form_data=sample_form()),
            )
            return dossier.code

    return list(await asyncio.gather(*(submit(c) for c in citizens)))


async def _agency_of(db: Database, procedure_code: str) -> str:
    async with db.read() as session:
        procedure = await procedure_by_code(session, procedure_code)
        assert procedure is not None
        agency = await session.get(Agency, procedure.agency_id)
        assert agency is not None
        return agency.code


async def test_fifty_concurrent_submissions_get_sequences_1_to_50(
    db: Database, calendar: HolidayCalendar, settings: Settings
) -> None:
    agency = await _agency_of(db, PROCEDURE_CODE)
    day = await free_day(db, agency, date(2031, 6, 2))
    citizens = await create_citizens(db, 50)

    codes = await _submit_concurrently(db, calendar, settings, citizens, day)

    prefix = f"{agency}-{day:%y%m%d}-"
    assert len(set(codes)) == 50
    assert all(code.startswith(prefix) and _SHAPE.fullmatch(code) for code in codes)
    assert sorted(int(code.rsplit("-", 1)[1]) for code in codes) == list(range(1, 51))
    async with db.read() as session:
        stored = (await session.execute(
            select(func.count()).where(col(Dossier.code).startswith(prefix))
        )).scalar_one()
    assert stored == 50
    assert await _counter(db, agency, day) == 50


async def test_fifty_concurrent_submissions_by_one_citizen(
    db: Database, calendar: HolidayCalendar, settings: Settings
) -> None:
    agency = await _agency_of(db, PROCEDURE_CODE)
    day = await free_day(db, agency, date(2032, 6, 1))
    citizen = await create_citizen(db)

    codes = await _submit_concurrently(db, calendar, settings, [citizen] * 50, day)

    assert sorted(codes) == [f"{agency}-{day:%y%m%d}-{n:04d}" for n in range(1, 51)]
    async with db.read() as session:
        mine = (await session.execute(
            select(func.count()).where(col(Dossier.citizen_id) == citizen.id)
        )).scalar_one()
    assert mine == 50
