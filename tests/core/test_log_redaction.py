"""Every log record of every library loses ID numbers, phones and tokens; database error texts never reach
a log line (only their class and SQLSTATE)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import asyncpg
import pytest
import sqlalchemy.exc
from sqlalchemy import text

from core.db import Database
from core.log_redaction import install, redact
from core.seed_data import CITIZENS

AN = CITIZENS[0]
TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIwMDEwODUwMTIzNDUifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """What a handler on the root logger, and one on a logger that does not propagate (as uvicorn's), print."""
    install()  # as create_app and `superapp` do at start-up
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root, lonely = logging.getLogger(), logging.getLogger("test.lonely")
    lonely.propagate = False
    root.addHandler(handler)
    lonely.addHandler(handler)
    yield stream
    root.removeHandler(handler)
    lonely.removeHandler(handler)


def test_records_of_every_logger_lose_id_numbers_phones_and_tokens(output: io.StringIO) -> None:
    id_number, phone = AN["id_number"], AN["phone"]
    logging.getLogger("httpx").warning('HTTP Request: GET %s "HTTP/1.1 200 OK"',
                                       f"http://agency/citizens/{id_number}?phone={phone}")
    logging.getLogger("test.lonely").warning("%s - %s", "Authorization: Bearer " + TOKEN, ValueError(id_number))
    logging.getLogger("superapp.agency").error(f"f-string with {id_number} and +84 912 345 678")
    printed = output.getvalue()
    assert printed.splitlines() == [
        'httpx HTTP Request: GET http://agency/citizens/001*******45?phone=[redacted phone] "HTTP/1.1 200 OK"',
        "test.lonely Authorization: Bearer [redacted] - builtins.ValueError: 001*******45",
        "superapp.agency f-string with 001*******45 and [redacted phone]",
    ]


def test_redact_leaves_other_numbers_alone() -> None:
    kept = "dossier 000.00.00.G12-261128-0001 took 0.912345678 s, port 55433, ts 1764300000, 13 digits 1764300000123"
    assert redact(kept) == kept


async def _database_error(db: Database) -> sqlalchemy.exc.DBAPIError:
    """A database error whose driver text quotes the bound value, as asyncpg's DataError does despite
    `hide_parameters`. PostgreSQL raises it for real; SQLite's texts quote no values, so there it is built
    exactly as SQLAlchemy wraps asyncpg's."""
    if db.dialect == "postgresql":
        try:
            async with db.read() as session:
                await session.execute(text("SELECT CAST(:v AS INTEGER)"), {"v": AN["full_name"]})
        except sqlalchemy.exc.DBAPIError as error:
            return error
        raise AssertionError("PostgreSQL accepted a name as an integer")
    driver = asyncpg.exceptions.DataError(f"invalid input for query argument $1: {AN['full_name']!r} "
                                          "('str' object cannot be interpreted as an integer)")
    try:
        try:
            raise driver
        except asyncpg.exceptions.DataError as orig:
            raise sqlalchemy.exc.DBAPIError.instance("SELECT CAST($1 AS INTEGER)", [AN["full_name"]], orig,
                                                     asyncpg.exceptions.PostgresError, hide_parameters=True) from orig
    except sqlalchemy.exc.DBAPIError as error:
        return error


async def test_database_error_texts_never_reach_a_log_line(output: io.StringIO, db: Database) -> None:
    error = await _database_error(db)
    assert AN["full_name"] in str(error)  # what the driver says quotes the value
    try:
        raise error
    except sqlalchemy.exc.DBAPIError:
        logging.getLogger("superapp.graphql").exception("unexpected error in me (reference abc)")
    printed = output.getvalue()
    assert "unexpected error in me (reference abc)" in printed
    assert "Traceback (most recent call last):" in printed
    assert AN["full_name"] not in printed
    assert "[text withheld: database errors can quote bound values] SQLSTATE 22" in printed
