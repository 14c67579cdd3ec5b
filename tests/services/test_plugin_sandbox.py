"""`superapp sandbox` runs an installed plug-in's sandbox (`ServicePlugin.sandbox`) on the port its settings
name, beside the built-in ones, and says which sandboxes run and why the others do not."""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.support import new_id_number


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _lines_until(process: subprocess.Popen[str], count: int, seconds: float = 60) -> list[str]:
    """The first `count` lines the command prints (the plan), or fewer if it prints no more in `seconds`."""
    assert process.stdout is not None
    stream = process.stdout
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    said: list[str] = []
    deadline = time.monotonic() + seconds
    with contextlib.suppress(queue.Empty):
        while len(said) < count:
            said.append(lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
    return said


def test_superapp_sandbox_runs_the_example_plugins_sandbox_on_its_configured_port(tmp_path: Path):
    library, fines = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    env.update({"SUPERAPP_DATA_DIR": str(tmp_path), "SUPERAPP_SERVICES": "public_library,traffic_fines,not_here",
                "SUPERAPP_AGENCY_PUBLIC_LIBRARY_BASE_URL": f"http://127.0.0.1:{library}",
                "SUPERAPP_AGENCY_TRAFFIC_FINES_BASE_URL": f"http://127.0.0.1:{fines}"})
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "sandbox"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        lines = _lines_until(process, 4, seconds=30)
        assert lines[1:] == [f"sandbox public_library on http://127.0.0.1:{library}",
                             f"sandbox traffic_fines on http://127.0.0.1:{fines}",
                             "no sandbox for not_here: the service did not load (not installed)"], lines
        id_number = new_id_number()
        deadline = time.monotonic() + 20
        while True:
            try:
                card = httpx.post(f"http://127.0.0.1:{library}/cards/lookup", json={"id_number": id_number})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the library sandbox did not start"
                time.sleep(0.1)
        assert card.status_code == 200
        assert card.json() == {"number": f"TV-{id_number[-6:]}", "branch": "Thư viện Hà Nội"}
        filed = httpx.post(f"http://127.0.0.1:{library}/dossiers", headers={"Idempotency-Key": "k-1"},
                           json={"dossier_code": "000.00.31.H26-261128-0001"})
        assert filed.status_code == 201
        assert filed.json()["reference"].startswith("PUBLIC_LIBRARY-")
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_superapp_sandbox_says_when_there_is_no_sandbox_to_run(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    env.update({"SUPERAPP_DATA_DIR": str(tmp_path), "SUPERAPP_SERVICES": "public_library",
                "SUPERAPP_AGENCY_PUBLIC_LIBRARY_BASE_URL": "https://library.example.vn",
                # A real payment gateway too: otherwise the loopback sandbox gateway would be there to run.
                "SUPERAPP_PAYMENT_GATEWAY_URL": "https://pay.example.vn"})
    done = subprocess.run([sys.executable, "-m", "api.cli", "sandbox"], env=env, text=True, capture_output=True,
                          timeout=120, check=False)
    assert done.returncode == 1
    assert done.stdout.splitlines()[1:] == [
        "no sandbox for public_library: its base URL is not a loopback URL with a port", "no sandbox to run"]
