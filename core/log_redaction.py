"""The last line of defence for personal data in logs: every record of every library is redacted.

Our own log lines mask identifiers at the source (`core.id_numbers.mask`), agency calls never put one in a
URL, and the database engine hides bound parameters. Libraries are not ours to fix, and a driver's exception
text can quote the values it was given (asyncpg's `DataError: invalid input for query argument $1: '...'`
ignores `hide_parameters`). So, whatever the source, a record loses on creation:
- 12-digit ID numbers (masked like `mask`: `001*******45`), Vietnamese phone numbers, bearer and JWT tokens,
  in its message, its arguments, its traceback and its stack;
- the message of every database error in its traceback, replaced by the error's class and SQLSTATE.

**Why at creation and not only as a filter on the root logger:** a logger's filters see only the records
logged on that very logger, never those propagated from `httpx` or `superapp.agency`, and uvicorn's loggers
do not propagate at all. `install()` puts `RedactingFilter` on the root logger and also runs it from the
log-record factory, so no record of any logger escapes it. Names and addresses have no shape to recognise:
keeping them out is the sources' duty (tests/log_leaks.py checks the whole suite's logs for them).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.exc import StatementError

ID_NUMBER = re.compile(r"(?<![0-9])([0-9]{3})[0-9]{7}([0-9]{2})(?![0-9])")
PHONE = re.compile(r"(?<![0-9A-Za-z+])(?:\+84|84|0)[ -]?[1-9](?:[ .-]?[0-9]){8}(?![0-9])")
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
_DATABASE_MODULES = ("asyncpg", "sqlite3", "_sqlite3", "aiosqlite", "psycopg", "sqlalchemy.dialects",
                     "sqlalchemy.connectors")
_SAFE_ARGS = (int, float, bool, type(None))
_MARK = "_superapp_redacted"
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def redact(text: str) -> str:
    """`text` without ID numbers, phone numbers or tokens."""
    text = BEARER.sub(r"\1 [redacted]", text)
    text = JWT.sub("[redacted token]", text)
    text = ID_NUMBER.sub(r"\1*******\2", text)
    return PHONE.sub("[redacted phone]", text)


def _is_database_error(error: BaseException) -> bool:
    if isinstance(error, StatementError):
        return True
    return any(cls.__module__.startswith(_DATABASE_MODULES) for cls in type(error).__mro__[:-2])


def _sqlstate(error: BaseException) -> str:
    for candidate in (error, getattr(error, "orig", None), error.__cause__):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None) \
            or getattr(candidate, "sqlite_errorname", None)
        if isinstance(code, str) and code:
            return code
    return "unknown"


def describe(error: BaseException) -> str:
    """What a log may say about an exception: a database error by its class and SQLSTATE only (its text can
    quote bound values), anything else by its redacted text."""
    name = f"{type(error).__module__}.{type(error).__qualname__}"
    if _is_database_error(error):
        orig = getattr(error, "orig", None)
        driver = f" from {type(orig).__qualname__}" if orig is not None else ""
        return f"{name}: [text withheld: database errors can quote bound values] SQLSTATE {_sqlstate(error)}{driver}"
    return f"{name}: {redact(str(error))}"


def exception_text(error: BaseException) -> str:
    """The traceback logging would print, with every message in the chain passed through `describe`."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    parts: list[str] = []
    for exc, link in reversed(chain):
        frames = "".join(traceback.format_tb(exc.__traceback__))
        parts.append(("Traceback (most recent call last):\n" + frames if frames else "") + describe(exc) + "\n")
        parts.append(link)
    return redact("".join(parts).rstrip("\n"))


def _arg(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, _SAFE_ARGS):
        return value
    if isinstance(value, BaseException):
        return describe(value)
    text = str(value)
    clean = redact(text)
    return value if clean == text else clean


def scrub(record: logging.LogRecord) -> None:
    """Redact one record in place (once)."""
    if getattr(record, _MARK, False):
        return
    setattr(record, _MARK, True)
    record.msg = redact(record.msg) if isinstance(record.msg, str) else _arg(record.msg)
    if isinstance(record.args, Mapping):
        record.args = {key: _arg(value) for key, value in record.args.items()}
    elif isinstance(record.args, tuple):
        record.args = tuple(_arg(value) for value in record.args)
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: logging reports it when the record is emitted
        message = None
    if message is not None and redact(message) != message:  # an argument rendered something after all
        record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = exception_text(record.exc_info[1])
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """Redacts, never drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        return True


_installed = False


def installed() -> bool:
    return _installed


def install() -> None:
    """Redact every log record of the process from now on (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    logging.getLogger().addFilter(RedactingFilter())
    make: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        scrub(record)
        return record

    logging.setLogRecordFactory(redacting_factory)
