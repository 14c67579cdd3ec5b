"""A pytest plug-in: every log record of the whole test run, of every logger (ours, uvicorn, httpx, httpcore,
SQLAlchemy, asyncpg, aiosqlite, ...), at DEBUG and up, is checked for personal data; one leak fails the run.

Personal data means the seeded citizens' ID numbers, names, phones and e-mails (core/seed_data.py, with the
catalogue's sample answers), every ID number, name and token the tests make (tests/support.py), and any
JWT at all. The watch wraps the log-record factory, so it sees every record, including those of loggers
that do not propagate to the root (uvicorn's), which a handler on the root logger alone would miss; it
judges each as a handler would get it: redacted once the app has installed `core.log_redaction`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from core import log_redaction
from core.seed_data import CITIZENS, PROCEDURES
from tests.support import ISSUED_ID_NUMBERS, ISSUED_NAMES, ISSUED_TOKENS

_DIGIT_RUN = re.compile(r"[0-9]{9,}")
_BETWEEN_DIGITS = re.compile(r"(?<=[0-9])[ .-](?=[0-9])")
_TOKEN_PART = re.compile(r"[A-Za-z0-9_-]{20,}")
_MAX_KEPT = 20


@dataclass(frozen=True)
class Leak:
    logger: str
    level: str
    kind: str
    value: str  # shown masked: the report must not leak it again

    def __str__(self) -> str:
        return f"{self.level} {self.logger}: {self.kind} {self.value}"


def _masked(value: str) -> str:
    return value[:3] + "*" * max(len(value) - 5, 3) + value[-2:]


def _national(phone: str) -> str:
    """The 9 significant digits of a Vietnamese phone number, however it is written."""
    digits = re.sub(r"[^0-9]", "", phone)
    return digits[-9:]


@dataclass
class LeakWatch:
    """Checks records for the values it is given; the sets may grow while it watches (citizens made later)."""

    id_numbers: set[str]
    phones: set[str]  # as their 9 significant digits
    words: set[str]  # names, e-mail addresses
    tokens: set[str]
    leaks: list[Leak] = field(default_factory=list)  # the first ones, as examples
    count: int = 0  # records with a leak
    by_source: Counter[tuple[str, str]] = field(default_factory=Counter)  # (logger, kind) -> records

    @classmethod
    def for_suite(cls) -> LeakWatch:
        """The seeded people and sample answers, plus everything tests/support.py issues (its live sets)."""
        phones: set[str] = set()
        for person in CITIZENS:
            ISSUED_ID_NUMBERS.add(person["id_number"])
            ISSUED_NAMES.update(v for v in (person["full_name"], person.get("email")) if v)
            if person.get("phone"):
                phones.add(_national(person["phone"]))
        for procedure in PROCEDURES:
            for key, value in procedure.get("sample", {}).items():
                if isinstance(value, str) and key.endswith("id_number"):
                    ISSUED_ID_NUMBERS.add(value)
                elif isinstance(value, str) and key.endswith("_name"):
                    ISSUED_NAMES.add(value)
        return cls(id_numbers=ISSUED_ID_NUMBERS, phones=phones, words=ISSUED_NAMES, tokens=ISSUED_TOKENS)

    def inspect(self, record: logging.LogRecord) -> list[Leak]:
        """The leaks in one record as a handler would format it (message, traceback, stack)."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: judge what is there
            message = f"{record.msg} {record.args}"
        text = "\n".join(part for part in (message, record.exc_text, record.stack_info) if part)
        found = [Leak(record.name, record.levelname, kind, _masked(value))
                 for kind, value in dict.fromkeys(self._scan(text))]
        if found:
            self.count += 1
            self.by_source.update({(leak.logger, leak.kind) for leak in found})
            self.leaks.extend(found[: max(_MAX_KEPT - len(self.leaks), 0)])
        return found

    def _scan(self, text: str) -> Iterable[tuple[str, str]]:
        for variant in {text, _BETWEEN_DIGITS.sub("", text)}:
            for run in _DIGIT_RUN.findall(variant):
                for start in range(len(run) - 8):
                    if run[start:start + 12] in self.id_numbers and len(run) - start >= 12:
                        yield "ID number", run[start:start + 12]
                    if run[start:start + 9] in self.phones:
                        yield "phone", run[start:start + 9]
        for word in self.words:
            if word in text:
                yield "name or e-mail", word
        jwt = log_redaction.JWT.search(text)
        if jwt:
            yield "token", jwt.group(0)
        parts = {part for token in self.tokens for part in token.split(".")[1:]}
        for run in _TOKEN_PART.findall(text):
            if run in parts:
                yield "token", run

    def install(self) -> None:
        """Watch every record created from now on, after redaction."""
        make: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def watching_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            if log_redaction.installed():  # the app installed it (create_app): judge what it leaves
                log_redaction.scrub(record)  # (idempotent: whichever factory runs first does the work)
            self.inspect(record)
            return record

        logging.setLogRecordFactory(watching_factory)

    def report(self) -> str:
        lines = [f"{self.count} log record(s) of the test run carried personal data, by logger and kind:"]
        lines += [f"  {n:6d}  {logger}: {kind}" for (logger, kind), n in self.by_source.most_common()]
        lines.append("first ones:")
        lines += [f"  {leak}" for leak in self.leaks]
        return "\n".join(lines)


_WATCH_KEY = pytest.StashKey[LeakWatch]()


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().setLevel(logging.DEBUG)
    watch = LeakWatch.for_suite()
    watch.install()
    config.stash[_WATCH_KEY] = watch


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    watch = session.config.stash.get(_WATCH_KEY, None)
    if watch is None or not watch.count:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("=", "PERSONAL DATA IN THE LOGS", red=True, bold=True)
        reporter.write_line(watch.report())
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
