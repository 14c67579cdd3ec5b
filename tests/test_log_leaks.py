"""The suite-wide check for personal data in the logs (tests/log_leaks.py) really catches a leak, and one
leak fails the whole run."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from core.log_redaction import scrub
from core.seed_data import CITIZENS
from tests.log_leaks import LeakWatch

ROOT = Path(__file__).resolve().parent.parent
AN = CITIZENS[0]  # Nguyễn Văn An: ID number, name and phone seeded
TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIwMDEwODUwMTIzNDUifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def _record(logger: str, msg: str, *args: object, exc_text: str | None = None) -> logging.LogRecord:
    """A record made directly, so neither the redaction nor the session's own watch sees it."""
    record = logging.LogRecord(logger, logging.DEBUG, __file__, 1, msg, args, None)
    record.exc_text = exc_text
    return record


def _watch() -> LeakWatch:
    return LeakWatch(id_numbers={AN["id_number"]}, phones={AN["phone"][-9:]}, words={AN["full_name"]},
                     tokens={TOKEN})


def test_the_watch_finds_each_kind_of_personal_data_wherever_it_is() -> None:
    watch = _watch()
    assert [leak.kind for leak in watch.inspect(_record("uvicorn.access", '%s - "%s %s"', "127.0.0.1:5", "GET",
                                                        f"/citizens/{AN['id_number']}"))] == ["ID number"]
    assert [leak.kind for leak in watch.inspect(_record("httpx", "to %s", AN["full_name"]))] == ["name or e-mail"]
    assert [leak.kind for leak in watch.inspect(_record("sqlalchemy.engine", "phone 0912 345 678"))] == ["phone"]
    assert {leak.kind for leak in watch.inspect(_record("asyncpg", "boom", exc_text=f"Bearer {TOKEN}"))} == {"token"}
    assert watch.inspect(_record("superapp.agency", "agency residence POST /citizens/lookup failed")) == []
    assert watch.count == 4
    assert AN["id_number"] not in watch.report()  # the report itself shows values masked


def test_redaction_removes_what_has_a_shape_and_the_watch_still_sees_a_name() -> None:
    watch = _watch()
    shaped = _record("httpx", "GET %s (%s) %s", f"/cards/{AN['id_number']}", AN["phone"], f"Bearer {TOKEN}")
    scrub(shaped)
    assert watch.inspect(shaped) == []
    assert shaped.getMessage() == "GET /cards/001*******45 ([redacted phone]) Bearer [redacted]"
    named = _record("httpx", "applicant %s", AN["full_name"])
    scrub(named)
    assert [leak.kind for leak in watch.inspect(named)] == ["name or e-mail"]


def _run_inner_suite(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(body, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.log_leaks", "-p", "no:cacheprovider",
                           "test_inner.py"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
                          timeout=120)


def test_one_leaked_name_fails_a_run_whose_tests_all_pass(tmp_path: Path) -> None:
    leaking = _run_inner_suite(tmp_path, f'''
import logging

def test_passes():
    logging.getLogger("somelibrary.deep").debug("row: %s", {AN["full_name"]!r})
''')
    assert leaking.returncode == 1, leaking.stdout
    assert "1 passed" in leaking.stdout
    assert "PERSONAL DATA IN THE LOGS" in leaking.stdout
    assert "DEBUG somelibrary.deep: name or e-mail Ngu" in leaking.stdout
    clean = _run_inner_suite(tmp_path, '''
import logging

def test_passes():
    logging.getLogger("somelibrary.deep").debug("nothing personal here")
''')
    assert clean.returncode == 0, clean.stdout
