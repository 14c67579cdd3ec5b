"""A plug-in's own operations reach production: the server trusts the operations every enabled plug-in ships
(validated against the schema it serves; a bad one makes that service FAILED), and the deployment's
manifests and snapshot, written by `superapp contract build --deployment`, cover its operations and fields
for `superapp schema check --deployment`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry

from api.app import create_app
from core.settings import Environment, Settings
from mobile_contract import manifest
from mobile_contract.client_forms import with_typename
from services.registry import GROUP, ServicePlugin, load_registry
from tests.support import citizen, serve, until_received

EXAMPLE_OPERATIONS = (Path(__file__).resolve().parents[2] / "examples" / "superapp-example-library"
                      / "superapp_example_library" / "operations")
LIBRARY_CARD = manifest.operation_text(EXAMPLE_OPERATIONS / "LibraryCard.graphql")
FILE_CARD = manifest.operation_text(EXAMPLE_OPERATIONS / "FileLibraryCardRequest.graphql")
AD_HOC = "query AdHoc { me { libraryCard { number } } }"


def _apq(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": manifest.document_hash(text)}}


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


@pytest.fixture(scope="module")
def persisted_only_server(settings: Settings, sandboxes) -> Iterator[str]:
    """A server in persisted-only mode (what production runs), on the same database, the example installed."""
    only = Settings(env=Environment.TEST, data_dir=settings.data_dir, database_url=settings.database_url,
                    graphql={"persisted_only": True}, agencies={"forward_poll_seconds": 0.2})
    agencies = {"public_library": {"base_url": sandboxes["public_library"].url, "secret": "s"}}
    with serve(create_app(only, agencies=agencies)) as url:
        yield url


def test_the_example_ships_its_operations_in_its_package():
    from superapp_example_library import LibraryService

    assert LibraryService.operation_documents() == {
        "FileLibraryCardRequest": (EXAMPLE_OPERATIONS / "FileLibraryCardRequest.graphql").read_text(encoding="utf-8"),
        "LibraryCard": (EXAMPLE_OPERATIONS / "LibraryCard.graphql").read_text(encoding="utf-8"),
        "LibraryLoans": (EXAMPLE_OPERATIONS / "LibraryLoans.graphql").read_text(encoding="utf-8")}
    assert ServicePlugin.operation_documents() == {}  # a package without operations/ ships none
    pyproject = (EXAMPLE_OPERATIONS.parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert 'superapp_example_library = ["py.typed", "operations/*.graphql"]' in pyproject  # in the wheel too


async def test_a_plug_ins_operation_runs_by_id_in_persisted_only_mode(persisted_only_server: str,
                                                                      settings: Settings, sandboxes):
    who = citizen(settings)
    expected = {"data": {"me": {"libraryCard": {"number": f"TV-{who.id_number[-6:]}", "branch": "Thư viện Hà Nội"}}}}
    async with httpx.AsyncClient(base_url=persisted_only_server, headers=who.headers, timeout=30) as http:
        got = await http.get("/graphql", params={"operationName": "LibraryCard",
                                                 "extensions": json.dumps(_apq(LIBRARY_CARD))})
        assert got.json() == expected, got.text
        posted = await http.post("/graphql", json={"extensions": _apq(LIBRARY_CARD)})
        assert posted.json() == expected
        apollo = with_typename(LIBRARY_CARD)  # what Apollo Client hashes and sends
        typed = await http.post("/graphql", json={"extensions": _apq(apollo)})
        assert typed.json()["data"]["me"]["libraryCard"]["__typename"] == "LibraryCard"
        refused = await http.post("/graphql", json={"query": AD_HOC})
        assert _code(refused) == "PERSISTED_QUERY_REQUIRED"
        registered = await http.post("/graphql", json={"query": AD_HOC, "extensions": _apq(AD_HOC)})
        assert _code(registered) == "PERSISTED_QUERY_REQUIRED"
        filed = (await http.post("/graphql", json={"extensions": _apq(FILE_CARD),
                                                   "variables": {"clientMutationId": "card-1"}})).json()
    assert filed["data"]["submitDossier"]["errors"] == [], filed
    await until_received(sandboxes["public_library"], filed["data"]["submitDossier"]["dossier"]["code"])


@strawberry.type
class _MeShelf:
    @strawberry.field
    def shelf(self) -> str:
        return "A-12"


def _plugin(code: str, operations: Mapping[str, str]) -> EntryPoint:
    """A plug-in shipping `operations`, reachable as an entry point of this module."""
    plugin = type(f"_Plugin_{code}", (ServicePlugin,), {
        "code": code, "name_vi": code, "name_en": code, "calls_agency": False,
        "me_fields": _MeShelf if code == "shelves" else None,
        "operation_documents": classmethod(lambda cls: dict(operations))})
    globals()[plugin.__name__] = plugin
    return EntryPoint(name=code, value=f"{__name__}:{plugin.__name__}", group=GROUP)


async def test_a_plug_in_whose_operation_cannot_run_is_failed_with_the_reason(settings: Settings, db):
    good = "query Shelf { me { shelf } }"
    entries = [
        _plugin("shelves", {"Shelf": good}),
        _plugin("wrong_field", {"Missing": "query Missing { me { nothingHere } }"}),
        _plugin("wrong_name", {"Named": "query OtherName { me { id } }"}),
        _plugin("two_in_one", {"Two": "query Two { me { id } } query Three { me { id } }"}),
        _plugin("not_graphql", {"Broken": "query Broken { me {"}),
        _plugin("takes_core", {"Wallet": "query Wallet { me { id } }"}),
        _plugin("zz_takes_other", {"Shelf": "query Shelf { me { id } }"}),
    ]
    app = create_app(settings, registry=load_registry(settings, entries=entries))
    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            ready = (await http.get("/readyz")).json()
            listed = await http.post("/graphql", json={"query": "{ services { code state reason } }"})
            shelf = await http.post("/graphql", json={"extensions": _apq(good + "\n")},
                                    headers=citizen(settings).headers)
            missing = await http.post("/graphql", json={"extensions": _apq("query Two { me { id } }\n")})
    failures = {
        "wrong_field": "operation Missing does not validate against the schema: Cannot query field 'nothingHere' "
                       "on type 'Me'.",
        "wrong_name": "operations/Named.graphql must hold exactly one operation, named Named",
        "two_in_one": "operations/Two.graphql must hold exactly one operation, named Two",
        "not_graphql": "operation Broken does not parse: Syntax Error: Expected Name, found <EOF>.",
        "takes_core": "operation Wallet is already defined by the app's own operations",
        "zz_takes_other": "operation Shelf is already defined by service 'shelves'"}
    assert ready.get("failures") == failures, ready
    assert ready["services"]["shelves"] == "ready"
    rows = {row["code"]: (row["state"], row["reason"]) for row in listed.json()["data"]["services"]}
    assert rows == {"shelves": ("READY", None), **{code: ("FAILED", why) for code, why in failures.items()}}
    assert shelf.json() == {"data": {"me": {"shelf": "A-12"}}}, shelf.text
    assert _code(missing) == "PERSISTED_QUERY_NOT_FOUND"  # a refused service's operations are not trusted


def _cli(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SUPERAPP_")}
    clean.update({"SUPERAPP_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=clean, text=True, capture_output=True,
                          timeout=240, check=False)


def test_the_deployment_contract_covers_the_plug_ins_operations_and_fields(tmp_path: Path):
    contract = tmp_path / "contract"
    built = _cli("contract", "build", "--deployment", str(contract), tmp_path=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "(3 of plug-ins: public_library)" in built.stdout
    documents = manifest.load(contract / "persisted.json")
    apollo = json.loads((contract / "persisted-query-manifest.json").read_text(encoding="utf-8"))
    assert manifest.document_hash(LIBRARY_CARD) in documents
    assert {o["name"]: o["id"] for o in apollo["operations"]}["LibraryCard"] == manifest.document_hash(
        with_typename(LIBRARY_CARD))
    assert set(manifest.build()) < set(documents)  # the app's own operations are there too
    assert "libraryCard: LibraryCard" in (contract / "schema.graphql").read_text(encoding="utf-8")
    assert manifest.MANIFEST.read_text(encoding="utf-8") == manifest.render(manifest.build())  # built-ins only

    checked = _cli("schema", "check", "--deployment", str(contract), tmp_path=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The example's field gone (its plug-in disabled): breaking, like a core field, and its operation is named.
    without = _cli("schema", "check", "--deployment", str(contract), tmp_path=tmp_path,
                   SUPERAPP_SERVICES="civil_status,residence,social_insurance,traffic_fines")
    assert without.returncode == 1, without.stdout + without.stderr
    assert "FIELD_REMOVED: Field Me.libraryCard was removed." in without.stdout
    assert "BREAKING operation LibraryCard no longer validates: Cannot query field 'libraryCard' on type 'Me'." \
        in without.stdout
    assert f"breaks the deployment's contract {contract / 'schema.graphql'}" in without.stderr
