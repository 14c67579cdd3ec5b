"""Server-driven screens: every tile of every installed plug-in opens a descriptor valid against its screen kind's
JSON Schema (mobile_contract/screens/), the example plug-in, installed as a package, reaches the app with no app
release (its tiles, their screens, a dossier filed through its form screen), and a plug-in whose screens could
not be drawn is FAILED at load."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib.metadata import EntryPoint
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from core.seed_data import PROCEDURES
from core.settings import Settings
from mobile_contract.manifest import OPERATIONS, document_hash, operation_text
from services.registry import GROUP, HelpPage, RecordList, ScreenKind, ServicePlugin, Tile, load_registry
from services.screens import (
    WIDGETS,
    _reconciled,
    default_ui_schema,
    descriptor,
    descriptor_problems,
    screen_problems,
    screen_schema,
)
from tests.support import citizen, gql

SCREEN = "query($t: String!) { screen(tileId: $t) { tileId kind schemaVersion descriptor } }"


def _installed_tiles(settings: Settings) -> list[tuple[type[ServicePlugin], Tile]]:
    """Every tile of every plug-in the test server loads (the same entry points), built-in or installed."""
    registry = load_registry(settings)
    return [(type(p), tile) for p in registry.plugins.values() for tile in type(p).tiles]


def test_each_screen_kind_has_a_valid_json_schema_in_the_contract():
    for kind in ScreenKind:
        schema = screen_schema(kind)
        Draft202012Validator.check_schema(schema)
        assert schema["properties"]["kind"] == {"const": kind.value}
        assert schema["properties"]["schemaVersion"] == {"const": 1}
    widgets = screen_schema(ScreenKind.FORM)["$defs"]["uiSchema"]["properties"]["fields"]["additionalProperties"]
    assert widgets["properties"]["widget"]["enum"] == list(WIDGETS)


async def test_every_tile_of_every_installed_plugin_opens_a_valid_descriptor(settings: Settings,
                                                                              client: httpx.AsyncClient):
    tiles = _installed_tiles(settings)
    assert {"public_library.card", "public_library.loans", "public_library.help"} <= {t.id for _, t in tiles}
    for plugin_class, tile in tiles:
        assert screen_problems(plugin_class) == []
        body = await gql(client, SCREEN, {"t": tile.id})
        assert "errors" not in body, (tile.id, body)
        screen = body["data"]["screen"]
        assert (screen["tileId"], screen["kind"], screen["schemaVersion"]) == (tile.id, tile.screen.name, 1)
        assert descriptor_problems(screen["descriptor"]) == [], tile.id
        if tile.screen is ScreenKind.FORM:  # the layout covers exactly the live form's fields
            ui, form = screen["descriptor"]["uiSchema"], screen["descriptor"]["formSchema"]
            laid_out = [name for section in ui["sections"] for name in section["fields"]]
            assert sorted(laid_out) == sorted(form.get("properties", {})) == sorted(ui["fields"]), tile.id


async def test_descriptors_are_the_same_signed_in_and_out(settings: Settings, client: httpx.AsyncClient):
    """Nothing personal can be in a descriptor: the citizen's own one equals the anonymous one."""
    who = citizen(settings)
    for _, tile in _installed_tiles(settings):
        anonymous = await gql(client, SCREEN, {"t": tile.id})
        signed_in = await gql(client, SCREEN, {"t": tile.id}, who=who)
        assert signed_in == anonymous
        assert who.id_number not in json.dumps(signed_in, ensure_ascii=False)


@pytest.mark.parametrize("tile_id", ["no_such.tile", "x" * 5000, "public_library"])
async def test_an_unknown_tile_answers_tile_not_found_in_both_languages(client: httpx.AsyncClient, tile_id: str):
    body = await gql(client, SCREEN, {"t": tile_id})
    assert body["data"] == {"screen": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "TILE_NOT_FOUND"
    assert error["extensions"]["messageVi"].startswith("Dịch vụ này hiện không có")
    assert error["extensions"]["messageEn"].startswith("This service is not available")
    assert error["path"] == ["screen"]


DIRECTORY = """query ($search: String) { serviceDirectory(province: "001", search: $search, first: 50) {
  tiles { edges { node { id screen target } } } } }"""

async def test_the_installed_example_reaches_the_app_and_files_a_dossier_through_its_form(
        settings: Settings, client: httpx.AsyncClient):
    """No app release: the example plug-in is a separate package found through its entry point. Its tile is in
    the app's service directory, its screens open, and a dossier is filed with exactly what the form screen says:
    its procedure, its fields, its submit operation."""
    example = {t.id: (cls, t) for cls, t in _installed_tiles(settings) if cls.code == "public_library"}
    assert example["public_library.card"][0].__module__ == "superapp_example_library"
    who = citizen(settings)
    listed = await gql(client, DIRECTORY, {"search": None}, who=who)
    tiles = {edge["node"]["id"]: edge["node"] for edge in listed["data"]["serviceDirectory"]["tiles"]["edges"]}
    assert set(example) <= set(tiles), listed
    assert (tiles["public_library.card"]["screen"], tiles["public_library.card"]["target"]) == ("FORM", "EX.000001")

    form = (await gql(client, SCREEN, {"t": "public_library.card"}))["data"]["screen"]["descriptor"]
    assert form["procedureCode"] == "EX.000001"
    assert form["uiSchema"]["sections"][0]["fields"] == ["branch", "note"]
    assert form["uiSchema"]["fields"]["branch"] == {
        "widget": "select", "help": {"vi": "Nơi bạn nhận thẻ.", "en": "Where you collect the card."}}
    submit_text = operation_text(OPERATIONS / f"{form['submit']['name']}.graphql")
    assert document_hash(submit_text) == form["submit"]["sha256Hash"]  # the id the app sends in production
    answers = {"branch": form["formSchema"]["properties"]["branch"]["enum"][0], "note": "Giao buổi sáng"}
    filed = await gql(client, submit_text, {"input": {"procedureCode": form["procedureCode"], "formData": answers}},
                      who=who)
    assert filed["data"]["submitDossier"]["errors"] == [], filed
    dossier = filed["data"]["submitDossier"]["dossier"]
    assert dossier["formData"] == answers
    assert dossier["status"] == "SUBMITTED"

    loans = (await gql(client, SCREEN, {"t": "public_library.loans"}))["data"]["screen"]["descriptor"]
    from superapp_example_library import LibraryService
    text = LibraryService.operation_documents()[loans["operation"]["name"]].rstrip() + "\n"
    assert document_hash(text) == loans["operation"]["sha256Hash"]
    rows: Any = (await gql(client, text, who=who))["data"]
    for step in loans["itemsPath"]:
        rows = rows[step]
    assert rows
    assert all(set(row) >= {c["field"] for c in loans["columns"]} for row in rows)

    page = (await gql(client, SCREEN, {"t": "public_library.help"}))["data"]["screen"]["descriptor"]
    assert page["markdown"]["en"].startswith("# Library card")


def test_a_form_without_a_ui_schema_gets_one_field_per_form_field_with_fitting_widgets():
    birth = next(p for p in PROCEDURES if p["code"] == "1.001193")["form_schema"]
    ui = default_ui_schema(birth)
    assert ui["sections"][0]["fields"] == list(birth["properties"])
    widgets = {name: entry["widget"] for name, entry in ui["fields"].items()}
    assert (widgets["child_sex"], widgets["child_birth_date"], widgets["applicant_id_number"], widgets["phone"],
            widgets["child_name"]) == ("radio", "date", "id_number", "phone", "text")


def test_the_live_form_wins_over_a_stale_ui_schema():
    ui = {"sections": [{"id": "a", "title": {"vi": "A", "en": "A"}, "fields": ["gone", "kept"]}],
          "fields": {"kept": {"widget": "number"}, "gone": {"widget": "text"}}}
    form = {"properties": {"kept": {"type": "string"}, "new": {"type": "integer"}}}
    fitted = _reconciled(ui, form)
    assert [s["fields"] for s in fitted["sections"]] == [["kept"], ["new"]]
    assert fitted["fields"] == {"kept": {"widget": "text"}, "new": {"widget": "number"}}


def _entry(plugin: type[ServicePlugin]) -> EntryPoint:
    globals()[plugin.__name__] = plugin
    return EntryPoint(name=plugin.code, value=f"{__name__}:{plugin.__name__}", group=GROUP)


def _broken(**declared: Any) -> type[ServicePlugin]:
    from superapp_example_library import LibraryService
    # In the example's package, so that its operations/ are the plug-in's, as for the real class.
    return type("BrokenLibrary", (LibraryService,), {"__module__": LibraryService.__module__, **declared})


def _help(markdown: str) -> tuple[HelpPage, ...]:
    return (HelpPage(id="library_card_help", title_vi="T", title_en="T", markdown_vi=markdown, markdown_en="ok"),)


def _with_tile(**changes: Any) -> tuple[Tile, ...]:
    from superapp_example_library import LibraryService
    return (*LibraryService.tiles[:2], replace(LibraryService.tiles[2], **changes))


BAD_DECLARATIONS: dict[str, tuple[dict[str, Any], str]] = {
    "script": ({"help_pages": _help("Hi <script>alert(1)</script>")}, "holds raw HTML '<script>'"),
    "inline-html": ({"help_pages": _help("Hi <img src=x onerror=alert(1)>")}, "holds raw HTML"),
    "javascript-link": ({"help_pages": _help("[tap](javascript:alert(1))")}, "links to 'javascript:alert(1)'"),
    "javascript-autolink": ({"help_pages": _help("<JavaScript:alert(1)>")}, "links to 'JavaScript:alert(1)'"),
    "relative-link": ({"help_pages": _help("[tap](/admin)")}, "links to '/admin'"),
    "image": ({"help_pages": _help("![x](https://tracker.example/p.png)")}, "holds an image"),
    "undeclared-page": ({"tiles": _with_tile(target="nowhere")}, "help page 'nowhere' is not in help_pages"),
    "document-kind": ({"tiles": _with_tile(screen=ScreenKind.DOCUMENT_VIEWER, target="library_card")},
                      "document kind 'library_card' is not in document_kinds"),
    "record-list": ({"tiles": _with_tile(screen=ScreenKind.RECORD_LIST, target="libraryCard")},
                    "'libraryCard' has no entry in record_lists"),
    "ui-unknown-field": ({"ui_schemas": {"EX.000001": {
        "sections": [{"id": "a", "title": {"vi": "A", "en": "A"}, "fields": ["branch", "note", "shoe"]}],
        "fields": {}}}}, "field 'shoe' is not in the procedure's form schema"),
    "ui-widget": ({"ui_schemas": {"EX.000001": {
        "sections": [{"id": "a", "title": {"vi": "A", "en": "A"}, "fields": ["branch", "note"]}],
        "fields": {"note": {"widget": "switch"}}}}}, "widget 'switch' does not fit field 'note'"),
    "ui-shape": ({"ui_schemas": {"EX.000001": {"sections": [], "fields": {"note": {"widget": "slider"}}}}},
                 "'slider' is not one of"),
    "column-not-selected": ({"record_lists": (RecordList(field="libraryLoans", operation="LibraryLoans", columns=(
        replace(_broken().record_lists[0].columns[0], field="isbn"),), empty_vi="-", empty_en="-"),)},
        "operation 'LibraryLoans' does not select column 'isbn'"),
    "no-such-operation": ({"record_lists": (replace(_broken().record_lists[0], operation="Nope"),)},
                          "operation 'Nope' is not in the plug-in's operations/"),
}


@pytest.mark.parametrize("case", list(BAD_DECLARATIONS))
def test_a_plugin_whose_screens_cannot_be_drawn_is_failed_at_load(settings: Settings, case: str):
    declared, reason = BAD_DECLARATIONS[case]
    registry = load_registry(settings, entries=[_entry(_broken(**declared))])
    assert registry.plugins == {}
    assert "screens:" in registry.failures["public_library"].error
    assert reason in registry.failures["public_library"].error


@pytest.mark.parametrize("markdown", ["Plain **bold**, a [site](https://x.vn), <https://y.vn>, "
                                      "[mail](mailto:a@b.vn) and [call](tel:+8424).", "`<b>` in code is text"])
def test_safe_markdown_passes(settings: Settings, markdown: str):
    assert screen_problems(_broken(help_pages=_help(markdown))) == []


async def test_a_document_viewer_shows_the_demo_citizens_birth_certificate(settings: Settings,
                                                                           client: httpx.AsyncClient):
    """The civil-status service declares the wallet's birth certificates; a DOCUMENT_VIEWER tile on them reads the
    Wallet operation the descriptor names and finds the demo citizen's certificate with every field it shows."""
    from api.auth import issue_dev_token
    from core.seed import DEMO_CITIZEN_ID_NUMBER
    from services.civil_status import CivilStatusService
    from tests.support import Citizen

    tile = Tile(id="civil_status.birth_certificate", title_vi="Giấy khai sinh", title_en="Birth certificate",
                icon="badge", category="civil_status", screen=ScreenKind.DOCUMENT_VIEWER, target="birth_certificate")
    viewer = type("CivilStatusWithViewer", (CivilStatusService,), {"tiles": (tile,)})
    assert screen_problems(viewer) == []
    built = descriptor(viewer, tile)
    assert descriptor_problems(built) == []
    text = operation_text(OPERATIONS / f"{built['operation']['name']}.graphql")
    assert document_hash(text) == built["operation"]["sha256Hash"]
    demo = Citizen(DEMO_CITIZEN_ID_NUMBER, issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER))
    items: Any = (await gql(client, text, who=demo))["data"]
    for step in built["itemsPath"]:
        items = items[step]
    shown = [d for d in items if d["kind"] == built["documentKind"]]
    assert shown
    assert all(f["field"] in shown[0] for f in built["fields"])


async def test_a_tile_screen_sent_by_get_is_cacheable_like_the_catalogue(client: httpx.AsyncClient):
    """Descriptors are public: TileScreen by hash over GET, without a token, gets an ETag and a 304 on repeat."""
    text = operation_text(OPERATIONS / "TileScreen.graphql")
    params = {"documentId": f"sha256:{document_hash(text)}", "variables": json.dumps({"tileId": "public_library.help"})}
    first = await client.get("/graphql", params=params)
    assert first.json()["data"]["screen"]["kind"] == "HELP_PAGE"
    assert first.headers["cache-control"] == "public, max-age=300"
    again = await client.get("/graphql", params=params, headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
