"""docs/PLUGGING_IN_A_SERVICE.md is the agencies' contract: its example runs and its tables match the code."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from importlib import import_module
from pathlib import Path

import pytest

from api.agency_events import OUTCOME_DETAIL, Refusal
from core.dossier_status import DossierStatus
from services.registry import BUILT_IN_SERVICES, ServicePlugin
from tests.support import SUBMIT, citizen, gql, sandbox_secret, until_received

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "PLUGGING_IN_A_SERVICE.md").read_text(encoding="utf-8")
STATUS = "query($c: String!) { dossier(code: $c) { status } }"


def _block_after(marker: str) -> str:
    """The fenced block that follows an HTML comment containing `marker`."""
    found = re.search(r"<!--[^>]*" + re.escape(marker) + r"[^>]*-->\s*```(\w*)\n(.*?)```", GUIDE, re.DOTALL)
    assert found is not None, f"no block after a comment with {marker!r} in the guide"
    return found.group(2)


async def _run_bash(script: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", script, env={"PATH": os.environ["PATH"], **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode or 0, out.decode(), err.decode()


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("openssl")), reason="needs curl and openssl")
async def test_the_curl_and_openssl_example_moves_a_dossier(client, settings, sandboxes, server):
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": "1.004194", "f": {"new_address": "Số 9 Phúc Xá, Ba Đình, Hà Nội"}},
                     who=who)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await until_received(sandboxes["residence"], code)
    script = _block_after("send-event example")
    env = {"URL": server, "SECRET": sandbox_secret("residence").decode(), "DOSSIER": code}
    answers = [await _run_bash(script, env), await _run_bash(script, {**env, "STATUS": "4"})]
    assert answers == [(0, '{"outcome":"applied"} 200\n', ""), (0, '{"outcome":"applied"} 200\n', "")]
    assert (await gql(client, STATUS, {"c": code}, who=who))["data"]["dossier"]["status"] == "PROCESSING"
    assert "It prints `{\"outcome\":\"applied\"} 200`" in GUIDE


def test_the_status_word_table_is_each_built_in_services_vocabulary():
    table = _table_after("vocabulary table")
    documented = {(row[0], row[1], row[2]) for row in table}
    plugins = _built_in_plugins()
    actual = {(p.code, word, status.name) for p in plugins for word, status in p.vocabulary.items()}
    assert documented == actual
    silent = sorted(p.code for p in plugins if not p.vocabulary)
    assert silent == ["traffic_fines"]
    assert "`traffic_fines` receives no dossiers and sends no events" in GUIDE
    assert all(name in DossierStatus.__members__ for _, _, name in documented)


def test_every_refusal_reason_and_problem_code_is_documented():
    reasons = [r.value for r in Refusal] + [d["reason"] for d in OUTCOME_DETAIL.values()]
    assert [r for r in reasons if f'"reason": "{r}"' not in GUIDE] == []
    codes = ["REQUIRED", "INVALID_TYPE", "INVALID_LENGTH", "INVALID_CHARACTER", "INVALID_FORMAT", "UNKNOWN_STATUS",
             "INVALID_VALUE"]
    assert [c for c in codes if f"`{c}`" not in GUIDE] == []


def _table_after(marker: str) -> list[list[str]]:
    section = GUIDE[GUIDE.index(marker):]
    rows: list[list[str]] = []
    for line in section.splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        if cells[0] not in ("service", "---"):
            rows.append(cells)
    return rows


def _built_in_plugins() -> list[type[ServicePlugin]]:
    found = []
    for code in BUILT_IN_SERVICES:
        module = import_module(f"services.{code}")
        found += [v for v in vars(module).values()
                  if isinstance(v, type) and issubclass(v, ServicePlugin) and v is not ServicePlugin]
    return found
