"""Structured logs (issue 11 item 6): `superapp serve` with `SUPERAPP_LOG_FORMAT=json` writes one JSON object
per line, every line of a request carries its request id (the client's `X-Request-Id` when usable, returned
in the response), and no line shows an ID number or a token, whichever logger wrote it (uvicorn's access
log, httpx, ours). The real server's output is captured and read."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.log_format import JsonFormatter, install_request_ids, request_id
from core.log_redaction import install
from core.settings import Settings
from tests.support import citizen, new_id_number

PROJECT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(settings: Settings, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    env.update(SUPERAPP_ENV="test", SUPERAPP_DATA_DIR=str(settings.data_dir),
               SUPERAPP_DATABASE_URL=settings.database_url, SUPERAPP_LOG_FORMAT="json", SUPERAPP_LOG_LEVEL="INFO",
               SUPERAPP_SANDBOX_PORT_OFFSET="41000")  # no sandbox there: agency calls fail, and say so in the log
    return subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env, cwd=PROJECT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, "superapp serve exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("superapp serve did not start")


def test_the_served_log_is_json_with_a_request_id_on_every_line_and_nothing_personal(
        settings: Settings, db: object) -> None:
    who = citizen(settings)
    stranger = new_id_number()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start(settings, port)
    try:
        _wait_until_up(url, process)
        with httpx.Client(base_url=url, timeout=60) as http:
            answered = http.post("/graphql", headers={**who.headers, "X-Request-Id": "edge-log-1"},
                                 json={"query": "{ me { idNumber populationRecord { fullName } } }"})
            refused_id = http.get(f"/nothing/{stranger}", headers={"X-Request-Id": who.id_number})
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert answered.status_code == 200
    assert answered.headers["x-request-id"] == "edge-log-1"
    assert answered.json()["data"]["me"]["idNumber"] == who.id_number
    # An ID number is no request id: a fresh one is made (and the ID is not echoed anywhere).
    assert re.fullmatch(r"[0-9a-f]{32}", refused_id.headers["x-request-id"])

    lines = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line is one JSON object
    assert lines
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    mine = [line for line in lines if line["request_id"] == "edge-log-1"]
    loggers = {line["logger"] for line in mine}
    assert "uvicorn.access" in loggers  # the access line belongs to its request
    assert any(line["level"] == "WARNING" and "residence" in line["message"] for line in mine), mine
    assert any(line["request_id"] == refused_id.headers["x-request-id"] and line["logger"] == "uvicorn.access"
               for line in lines)
    for secret in (who.id_number, who.token, stranger):
        assert secret not in err
    assert f"{stranger[:3]}*******{stranger[-2:]}" in err  # the 404's path, masked in the JSON line


def test_json_fields_are_redacted_whatever_set_them() -> None:
    install()
    install_request_ids()
    id_number = new_id_number()
    token = request_id.set("edge-unit")
    try:
        record = logging.getLogger("superapp.test").makeRecord(
            "superapp.test", logging.WARNING, __file__, 1, "citizen %s phone %s", (id_number, "0912345678"), None)
    finally:
        request_id.reset(token)
    record.msg = f"late edit {id_number}"  # set after creation: the formatter redacts again
    record.args = None
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "edge-unit"
    assert id_number not in json.dumps(line)
    assert line["message"] == f"late edit {id_number[:3]}*******{id_number[-2:]}"
