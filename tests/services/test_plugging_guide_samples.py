"""Every code block of docs/PLUGGING_IN_A_SERVICE.md runs. The guide's Python, TOML and GraphQL blocks are
assembled, as written, into the package `superapp-land-registry` (installed on sys.path with its entry point);
the server discovers it, runs its sandbox, serves its field and its operations in production (persisted-only)
mode, and a dossier filed through its operation is forwarded by its `forward`, moved by its sandbox's signed
events and withdrawn through its `forward_action`. Shell, HTTP and output blocks are run too; a block that no
test runs fails `test_every_block_of_the_guide_is_run`."""

from __future__ import annotations

import ast
import asyncio
import importlib
import json
import os
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from api.app import create_app
from api.auth import load_dev_private_key
from core.models import Citizen
from core.settings import Environment, Settings
from mobile_contract.manifest import OPERATIONS, document_hash, operation_text
from services.registry import BUILT_IN_SERVICES, GROUP, ServicePlugin, load_registry
from services.sandbox_runner import plan_sandboxes
from services.screens import descriptor_problems
from services.tiles import ScreenKind
from tests.support import RunningSandbox, agency_overrides, citizen, serve, until_received

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "PLUGGING_IN_A_SERVICE.md").read_text(encoding="utf-8")
PACKAGE = "superapp_land_registry"
SECRET = "land-registry-test-secret"

# Blocks no test runs, each with the reason it is only illustrative. Keep it tiny (empty is best).
ILLUSTRATIVE: dict[str, str] = {
    "PASS  land_registry        declaration            READY; 1 procedure(s), 2 type(s), 6 status word(s)":
        "what the kit prints, a failing line included; its line format is pinned by test_conformance_faults.py",
    "pip install -e path/to/superapp -e .   # the super-app and your package (its entry point registered)":
        "the kit as a pytest plug-in, in an agency's own CI; tests/services/test_conformance.py runs that plug-in",
    '{"event_id": "6f1c...", "dossier_ref": "000.20.31.H26-261020-0007", "status": "DA_TRA_KET_QUA",':
        "an event with a signed result, elided signature; tests/services/test_wallet_results.py sends real ones "
        "through the sandboxes and test_agency_api_doc.py pins the IssuedResult schema",
}


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    marker: str  # the HTML comment right before the block, if any

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0]


def _blocks() -> list[Block]:
    found = re.finditer(r"(?:<!--(?P<marker>[^>]*)-->\s*\n)?^```(?P<lang>\w*)\n(?P<text>.*?)^```\s*$", GUIDE,
                        re.DOTALL | re.MULTILINE)
    return [Block(m["lang"], m["text"], (m["marker"] or "").strip()) for m in found]


def _runner(block: Block) -> str | None:
    """Which test runs this block (None: none does)."""
    if block.language in ("python", "toml", "graphql") and block.first_line.startswith(
            ("# superapp_land_registry/", "# pyproject.toml")):
        return "test_the_guides_plug_in_files_a_dossier_in_production_mode"
    if block.language == "bash" and block.marker.startswith("send-event example"):
        return "tests/services/test_plugging_doc.py::test_the_curl_and_openssl_example_moves_a_dossier"
    if block.language == "bash" and block.marker.startswith("deployment commands"):
        return "test_the_guides_deployment_commands_cover_the_plug_in"
    if block.language == "http":
        return "test_the_guides_lookup_request_is_what_a_sandbox_answers"
    if block.language == "bash" and block.first_line.startswith("superapp plugin check land_registry"):
        return "test_the_guides_plug_in_passes_the_conformance_kit"
    if block.language == "text" and block.first_line.startswith("agency sandboxes starting"):
        return "test_the_guides_superapp_sandbox_output_is_what_it_prints"
    return None


def test_every_block_of_the_guide_is_run():
    blocks = _blocks()
    assert len(blocks) == GUIDE.count("\n```") // 2, "a fenced block the pattern does not see"
    unrun = [b.first_line for b in blocks if _runner(b) is None and b.first_line not in ILLUSTRATIVE]
    assert unrun == [], "blocks of the guide that no test runs (run them, or list them in ILLUSTRATIVE)"
    assert set(ILLUSTRATIVE) <= {b.first_line for b in blocks}, "ILLUSTRATIVE names a block the guide lost"


def _write_package(root: Path) -> type[ServicePlugin]:
    """The guide's blocks as files under `root` (on sys.path), with the entry point its pyproject declares."""
    files: dict[str, list[str]] = {}
    additions: dict[str, list[str]] = {}
    hoisted: dict[str, list[str]] = {}
    project: dict[str, object] = {}
    for block in _blocks():
        head = block.first_line.removeprefix("# ")
        if block.language == "toml" and head == "pyproject.toml":
            project = tomllib.loads(block.text)
            continue
        if not head.startswith(f"{PACKAGE}/"):
            continue
        path, _, where = head.partition(", ")
        if where:
            assert where == "inside class LandRegistryService", where
            lines = block.text.split("\n")[1:]
            hoisted.setdefault(path, []).extend(line for line in lines if line and not line[0].isspace())
            additions.setdefault(path, []).extend(line for line in lines if not line or line[0].isspace())
        else:
            files.setdefault(path, []).append(block.text)
    for path, parts in files.items():
        text = "\n".join(parts)
        if path in additions:
            tree = ast.parse(text)
            last = tree.body[-1]
            assert isinstance(last, ast.ClassDef)
            assert last.name == "LandRegistryService"
            future = "from __future__ import annotations\n"
            text = text.replace(future, future + "\n" + "\n".join(hoisted[path]) + "\n", 1)
            text = text.rstrip("\n") + "\n\n" + "\n".join(additions[path]).rstrip("\n") + "\n"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    assert sorted(files) == sorted({*files, *additions}), "an addition to a file the guide never shows"
    # The pyproject: the entry point names the class, the package ships its operations.
    entry_point = project["project"]["entry-points"][GROUP]  # type: ignore[index]
    assert entry_point == {"land_registry": f"{PACKAGE}:LandRegistryService"}
    assert project["tool"]["setuptools"]["packages"] == [PACKAGE]  # type: ignore[index]
    assert project["tool"]["setuptools"]["package-data"] == {PACKAGE: ["operations/*.graphql"]}  # type: ignore[index]
    info = root / "superapp_land_registry-0.1.0.dist-info"  # what `pip install` would leave
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['project']['name']}\n"  # type: ignore[index]
                                   "Version: 0.1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\nland_registry = {entry_point['land_registry']}\n",
                                           encoding="utf-8")
    [entry] = [e for e in entry_points(group=GROUP) if e.name == "land_registry"]
    plugin: type[ServicePlugin] = entry.load()
    assert plugin.code == "land_registry"
    for path in files:  # every module the guide shows runs, even one the service itself would not import
        if path.endswith(".py"):
            importlib.import_module(path.removesuffix(".py").removesuffix("/__init__").replace("/", "."))
    return plugin


@pytest.fixture
def land_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[ServicePlugin]]:
    """The guide's plug-in, installed for this test only."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    try:
        yield _write_package(root)
    finally:
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _production(settings: Settings, tmp_path: Path) -> Settings:
    """Production's contract (persisted documents only, a public e-ID key) with the loopback sandboxes'
    plain-http URLs, which production itself refuses (its agencies are https)."""
    public_pem = tmp_path / "eid-public.pem"
    public_pem.write_bytes(load_dev_private_key(settings.dev_key_path).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return Settings(env=Environment.TEST, data_dir=settings.data_dir, database_url=settings.database_url,
                    auth={"eid_public_key_file": public_pem, "eid_accept_dev_key": True},
                    graphql={"persisted_only": True},
                    agencies={"forward_poll_seconds": 0.2, "forward_max_backoff_seconds": 0.5})


def _apq(text: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": document_hash(text)}}


def _operation(root: Path, name: str) -> str:
    return operation_text(root / PACKAGE / "operations" / f"{name}.graphql")


async def test_the_guides_plug_in_files_a_dossier_in_production_mode(
        land_registry: type[ServicePlugin], settings: Settings, db, sandboxes, tmp_path: Path):
    production = _production(settings, tmp_path)
    assert production.graphql.persisted_only
    sandbox = land_registry.sandbox(secret=SECRET.encode(), callback_url="http://127.0.0.1:9", advance_seconds=0)
    assert sandbox is not None
    root = tmp_path / "site"
    parcels, file_title = _operation(root, "LandParcels"), _operation(root, "FileLandTitle")
    detail = operation_text(OPERATIONS / "DossierDetail.graphql")
    withdraw = operation_text(OPERATIONS / "WithdrawDossier.graphql")
    tile_screen = operation_text(OPERATIONS / "TileScreen.graphql")
    who = citizen(settings)
    with serve(sandbox.app()) as sandbox_url:
        agencies = {**agency_overrides(sandboxes), "land_registry": {"base_url": sandbox_url, "secret": SECRET}}
        app = create_app(production, agencies=agencies)
        with serve(app) as url:
            sandbox.callback_url = url
            running = RunningSandbox(sandbox, sandbox_url)
            async with httpx.AsyncClient(base_url=url, timeout=30, headers=who.headers) as http:
                ready = (await http.get("/readyz")).json()
                assert ready["services"]["land_registry"] == "ready", ready
                ad_hoc = await http.post("/graphql", json={"query": "{ me { landParcels { address } } }"})
                assert ad_hoc.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
                # Apollo-style GET by id: the plug-in's field, answered by its sandbox's lookup.
                got = await http.get("/graphql", params={"operationName": "LandParcels",
                                                         "extensions": json.dumps(_apq(parcels))})
                assert got.json() == {"data": {"me": {"landParcels": [{
                    "parcelNumber": "TD-05-012", "address": "Thửa 12, tờ bản đồ số 5, Đông Anh, Hà Nội",
                    "areaM2": 120.5}]}}}, got.text
                # Its tiles open their screens, by the app's TileScreen id, valid against their kinds' schemas.
                for tile in land_registry.tiles:
                    shown = (await http.post("/graphql", json={"extensions": _apq(tile_screen),
                                                               "variables": {"tileId": tile.id}})).json()
                    assert descriptor_problems(shown["data"]["screen"]["descriptor"]) == [], shown
                assert {t.screen for t in land_registry.tiles} == {ScreenKind.FORM, ScreenKind.RECORD_LIST,
                                                                   ScreenKind.HELP_PAGE}
                # File through the plug-in's own operation, by id (POST).
                filed = (await http.post("/graphql", json={"extensions": _apq(file_title), "variables": {
                    "formData": {}, "clientMutationId": "land-1"}})).json()
                assert filed["data"]["submitDossier"]["errors"] == [], filed
                code = filed["data"]["submitDossier"]["dossier"]["code"]
                assert code.startswith("000.00.00.G15-")
                await until_received(running, code)  # delivered by the guide's `forward`
                assert sandbox.dossier(code).body["procedure_code"] == "1.003003"  # type: ignore[union-attr]
                await running.advance(code)  # a signed TIEP_NHAN event, translated by the guide's vocabulary
                assert await _status(http, detail, code) == "ACCEPTED"
                withdrawn = (await http.post("/graphql", json={"extensions": _apq(withdraw), "variables": {
                    "input": {"code": code}}})).json()
                assert withdrawn["data"]["withdrawDossier"]["errors"] == [], withdrawn
                async with asyncio.timeout(10):  # delivered by the guide's `forward_action`
                    while not any(a.dossier_code == code for a in sandbox.actions.values()):
                        await asyncio.sleep(0.05)
                await running.advance(code)  # the sandbox's stop word after a withdrawal
                assert await _status(http, detail, code) == "PROCESSING_STOPPED"
    # The guide's profile_values asks the sandbox's owner lookup.
    with serve(sandbox.app()) as sandbox_url:
        registry = load_registry(production.updated(agencies={"services": "land_registry"}),
                                 overrides={"land_registry": {"base_url": sandbox_url, "secret": SECRET}})
        plugin = registry.require("land_registry")
        try:
            values = await plugin.profile_values(Citizen(id_number=who.id_number, full_name=""))
        finally:
            await registry.aclose()
    assert values == {"permanent_address": "Số 1 Cổ Loa, Đông Anh, Hà Nội"}


async def _status(http: httpx.AsyncClient, detail: str, code: str) -> str:
    body = (await http.post("/graphql", json={"extensions": _apq(detail), "variables": {"code": code}})).json()
    return str(body["data"]["dossier"]["status"])


def test_the_guides_sandbox_port_is_nobody_elses(land_registry: type[ServicePlugin], settings: Settings):
    taken = {8000, settings.notifications.standin_fcm_port, settings.notifications.standin_sms_port}
    for entry in entry_points(group=GROUP):
        plugin = entry.load()
        if plugin is not land_registry and plugin.default_base_url:
            taken.add(urlsplit(plugin.default_base_url).port)
    assert land_registry.default_base_url == "http://127.0.0.1:8120"
    assert 8120 not in taken
    assert set(BUILT_IN_SERVICES) <= {e.name for e in entry_points(group=GROUP)}


def test_the_guides_superapp_sandbox_output_is_what_it_prints(land_registry: type[ServicePlugin], settings: Settings,
                                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("SUPERAPP_AGENCY_PUBLIC_LIBRARY_BASE_URL", "https://library.example.vn")
    local = Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path)
    plan = plan_sandboxes(local)
    printed = [f"agency sandboxes starting; status events go to {local.agencies.sandbox_callback_url}",
               *plan.lines()]
    [block] = [b for b in _blocks() if _runner(b) == "test_the_guides_superapp_sandbox_output_is_what_it_prints"]
    shown = [line for line in block.text.splitlines() if line != "..."]
    assert [line for line in printed if line in shown] == shown, printed


async def test_the_guides_lookup_request_is_what_a_sandbox_answers(sandboxes):
    [block] = [b for b in _blocks() if b.language == "http"]
    head, _, body = block.text.partition("\n\n")
    request_line, *header_lines = head.splitlines()
    method, path, _ = request_line.split(" ")
    headers = dict(line.split(": ", 1) for line in header_lines)
    async with httpx.AsyncClient(base_url=sandboxes["residence"].url, timeout=10) as http:
        answer = await http.request(method, path, headers=headers, content=body.encode())
    assert answer.status_code == 200, answer.text
    assert answer.json()["id_number"] == json.loads(body)["id_number"]


async def test_the_guides_deployment_commands_cover_the_plug_in(land_registry: type[ServicePlugin], tmp_path: Path):
    [block] = [b for b in _blocks() if b.marker.startswith("deployment commands")]
    site = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    env.update({"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(site),
                "SUPERAPP_DATA_DIR": str(tmp_path / "data")})
    script = f"cd {tmp_path}\n{block.text}"
    code, out, err = await _run(script, env)
    assert code == 0, out + err
    contract = tmp_path / "deploy" / "contract"
    apollo = json.loads((contract / "persisted-query-manifest.json").read_text(encoding="utf-8"))
    names = {o["name"] for o in apollo["operations"]}
    assert {"LandParcels", "FileLandTitle", "LibraryCard", "SubmitDossier"} <= names
    assert "areaM2: Float!" in (contract / "schema.graphql").read_text(encoding="utf-8")
    # Rename the plug-in's field: the check fails on the field and on the operation that used it.
    schema_file = site / PACKAGE / "schema.py"
    schema_file.write_text(schema_file.read_text(encoding="utf-8").replace("area_m2", "area"), encoding="utf-8")
    code, out, err = await _run(script.replace("superapp contract build", "# superapp contract build"), env)
    assert code == 1, out + err
    assert "FIELD_REMOVED: Field LandParcel.areaM2 was removed." in out
    assert "operation LandParcels no longer validates: Cannot query field 'areaM2' on type 'LandParcel'." in out
    assert "SCHEMA CHECK FAILED" in err


async def test_the_guides_plug_in_passes_the_conformance_kit(land_registry: type[ServicePlugin], tmp_path: Path):
    """The block's first command, as an agency engineer runs it: every check passes or says why it does not
    apply (a SQLite database of its own, the guide's sandbox, a real server)."""
    [block] = [b for b in _blocks() if b.first_line.startswith("superapp plugin check land_registry")]
    command = block.first_line.split("#", 1)[0].strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    env.update({"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                "PYTHONPATH": str(tmp_path / "site"), "SUPERAPP_DATA_DIR": str(tmp_path / "data")})
    code, out, err = await _run(f"cd {tmp_path}\n{command}", env)
    assert code == 0, out + err
    lines = [line.split(None, 3) for line in out.splitlines() if line.startswith(("PASS", "FAIL", "SKIP"))]
    assert {line[1] for line in lines} == {"land_registry"}
    assert not [line for line in lines if line[0] == "FAIL"], out
    passed = {line[2] for line in lines if line[0] == "PASS"}
    assert {"declaration", "sandbox", "lookups", "forwarding", "actions", "events", "personal-data",
            "operations", "screens"} <= passed, out


async def _run(script: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", script, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=240)
    return process.returncode or 0, out.decode(), err.decode()
