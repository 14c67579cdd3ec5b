"""What a tile opens: the screen descriptor, data the app draws with one of its screen kinds.

The app ships a renderer per `ScreenKind`; the server sends a descriptor, versioned per kind
(`SCHEMA_VERSIONS`), whose shape is a JSON Schema in `mobile_contract/screens/<kind>.v<N>.schema.json`. A new
agency service therefore reaches the app with its plug-in alone: the plug-in declares, as data, what its
screens need beyond the tile (`ServicePlugin.ui_schemas`, `record_lists`, `help_pages`, `document_kinds`),
`screen_problems` checks it at load (a service with a bad screen is FAILED, never half-drawn), and
`descriptor` builds the screen from the tile, the live catalogue and these declarations.

Descriptors are the same for every caller: they carry no personal data (a record list names the operation the
app runs for the citizen's records; it never holds them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, SelectionSetNode, parse
from jsonschema import Draft202012Validator

from mobile_contract.manifest import OPERATIONS, document_hash, operation_text
from services.markdown import markdown_problems
from services.tiles import ScreenKind, Tile

if TYPE_CHECKING:
    from services.registry import ServicePlugin

SCREENS_DIR = Path(__file__).resolve().parents[1] / "mobile_contract" / "screens"
# The descriptor version the server sends per kind. A change the app of that version cannot draw is a new
# version (a new schema file); adding an optional key is not (apps ignore keys they do not know).
SCHEMA_VERSIONS: dict[ScreenKind, int] = {kind: 1 for kind in ScreenKind}

# The widgets the app draws form fields with, and which JSON Schema field each fits.
WIDGETS = ("text", "textarea", "number", "date", "select", "radio", "switch", "phone", "email", "id_number")
# How a record list formats a column's value.
COLUMN_FORMATS = ("text", "number", "date", "datetime", "money_vnd", "boolean")
# The wallet document's fields a document viewer may show, with their labels (the `Wallet` operation's).
DOCUMENT_FIELDS: dict[str, tuple[str, str]] = {
    "title": ("Tên giấy tờ", "Document"),
    "number": ("Số", "Number"),
    "issuedAt": ("Ngày cấp", "Issued on"),
    "validUntil": ("Có giá trị đến", "Valid until"),
}
SUBMIT_OPERATION = "SubmitDossier"  # the contract's mutation a form screen files through
WALLET_OPERATION = "Wallet"  # the contract's query a document viewer reads the wallet with
_ID = re.compile(r"[a-z][a-z0-9_]{0,62}")
_MAX_TEXT = 500


@dataclass(frozen=True)
class HelpPage:
    """A static help page (CommonMark, no raw HTML, http(s)/mailto/tel links only, no images)."""

    id: str
    title_vi: str
    title_en: str
    markdown_vi: str
    markdown_en: str


@dataclass(frozen=True)
class Column:
    """One column of a record list: `field` is a dotted path inside one record (`dueDate`, `branch.name`)."""

    field: str
    label_vi: str
    label_en: str
    format: str = "text"


@dataclass(frozen=True)
class RecordList:
    """How the app lists the citizen's records of a `Me` field: `operation` names one of the plug-in's
    operations (its `operations/` directory) that selects `me { <field> { ...columns } }`."""

    field: str
    operation: str
    columns: tuple[Column, ...]
    empty_vi: str
    empty_en: str


@dataclass(frozen=True)
class DocumentKind:
    """A kind of wallet document the service issues (`Document.kind`), what its viewer shows, and whether the
    app can check its signature without a network (the document carries the agency's signature)."""

    kind: str
    fields: tuple[str, ...] = ("title", "number", "issuedAt", "validUntil")
    verifies_offline: bool = False


def _localized(vi: str, en: str) -> dict[str, str]:
    return {"vi": vi, "en": en}


@cache
def screen_schema(kind: ScreenKind, version: int = 1) -> dict[str, Any]:
    """The JSON Schema of a screen kind's descriptor, as the contract publishes it."""
    loaded: dict[str, Any] = json.loads((SCREENS_DIR / f"{kind.value}.v{version}.schema.json").read_text("utf-8"))
    return loaded


@cache
def _ui_schema_validator() -> Draft202012Validator:
    form = screen_schema(ScreenKind.FORM)
    return Draft202012Validator({"$ref": "#/$defs/uiSchema", "$defs": form["$defs"]})


@cache
def _contract_operation(name: str) -> str | None:
    path = OPERATIONS / f"{name}.graphql"
    return operation_text(path) if path.is_file() else None


def _operation_text(plugin_class: type[ServicePlugin], name: str) -> str | None:
    """A plug-in's own operation (as the server trusts it: trailing whitespace dropped), else the contract's."""
    own = plugin_class.operation_documents().get(name)
    return own.rstrip() + "\n" if own is not None else _contract_operation(name)


def _operation_ref(text: str, name: str) -> dict[str, str]:
    return {"name": name, "sha256Hash": document_hash(text)}


# ---- form fields and widgets -------------------------------------------------------------------------------

def _properties(form_schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    properties = form_schema.get("properties")
    return dict(properties) if isinstance(properties, Mapping) else {}


def widget_fits(widget: str, spec: Mapping[str, Any]) -> bool:
    kind = spec.get("type")
    if widget in ("select", "radio"):
        return isinstance(spec.get("enum"), list)
    if widget == "number":
        return kind in ("integer", "number")
    if widget == "switch":
        return kind == "boolean"
    if widget == "date":
        return kind == "string" and spec.get("format") == "date"
    return kind == "string"


def default_widget(spec: Mapping[str, Any]) -> str:
    """The widget a field gets when the plug-in names none: from its type, choices and format."""
    choices = spec.get("enum")
    if isinstance(choices, list):
        return "radio" if len(choices) <= 3 else "select"
    kind, shape = spec.get("type"), spec.get("format")
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "switch"
    if shape == "date":
        return "date"
    if shape == "id-number":
        return "id_number"
    if shape == "email" or spec.get("x-prefill") == "email":
        return "email"
    if spec.get("x-prefill") == "phone":
        return "phone"
    return "text"


def default_ui_schema(form_schema: Mapping[str, Any]) -> dict[str, Any]:
    """One section with every field in the form's order, each with its default widget."""
    properties = _properties(form_schema)
    return {"sections": [{"id": "main", "title": _localized("Thông tin", "Details"), "fields": list(properties)}]
            if properties else [],
            "fields": {name: {"widget": default_widget(spec)} for name, spec in properties.items()}}


def _reconciled(ui_schema: Mapping[str, Any], form_schema: Mapping[str, Any]) -> dict[str, Any]:
    """The plug-in's UI schema fitted to the form the catalogue holds now: the form is the truth, so a field
    the form lost is dropped, a field it gained is added in a last section, and a widget that no longer fits
    its field becomes the default one. Load checks make this a no-op for a plug-in's own procedures."""
    properties = _properties(form_schema)
    sections: list[dict[str, Any]] = []
    placed: set[str] = set()
    for section in ui_schema.get("sections", ()):
        kept = [f for f in section["fields"] if f in properties and f not in placed]
        placed.update(kept)
        if kept:
            sections.append({**section, "fields": kept})
    missing = [name for name in properties if name not in placed]
    if missing:
        sections.append({"id": "more", "title": _localized("Thông tin khác", "More details"), "fields": missing})
    declared = ui_schema.get("fields", {})
    fields: dict[str, Any] = {}
    for name, spec in properties.items():
        entry = dict(declared.get(name) or {})
        if not widget_fits(str(entry.get("widget", "")), spec):
            entry["widget"] = default_widget(spec)
        fields[name] = entry
    return {"sections": sections, "fields": fields}


# ---- load-time checks --------------------------------------------------------------------------------------

def _ui_schema_problems(code: str, ui_schema: object, form_schema: Mapping[str, Any] | None) -> list[str]:
    where = f"ui_schemas[{code!r}]"
    errors = sorted(_ui_schema_validator().iter_errors(ui_schema), key=lambda e: list(e.absolute_path))
    if errors:
        return [f"{where}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:5]]
    assert isinstance(ui_schema, Mapping)
    problems: list[str] = []
    listed = [name for section in ui_schema["sections"] for name in section["fields"]]
    for name in {n for n in listed if listed.count(n) > 1}:
        problems.append(f"{where}: field {name!r} is in more than one section")
    for name in ui_schema["fields"]:
        if name not in listed:
            problems.append(f"{where}: field {name!r} has a widget but is in no section")
    if form_schema is None:
        return problems
    properties = _properties(form_schema)
    for name in dict.fromkeys([*listed, *ui_schema["fields"]]):
        if name not in properties:
            problems.append(f"{where}: field {name!r} is not in the procedure's form schema")
    for name, entry in ui_schema["fields"].items():
        if name in properties and not widget_fits(entry["widget"], properties[name]):
            problems.append(f"{where}: widget {entry['widget']!r} does not fit field {name!r}")
    for name in properties:
        if name not in listed:
            problems.append(f"{where}: form field {name!r} is in no section")
    return problems


def _text_problems(where: str, *texts: object) -> list[str]:
    bad = [t for t in texts if not isinstance(t, str) or not t.strip() or len(t) > _MAX_TEXT or "\x00" in t]
    return [f"{where}: texts must be non-empty, at most {_MAX_TEXT} characters"] if bad else []


def _help_problems(page: object) -> list[str]:
    if not isinstance(page, HelpPage):
        return ["help_pages must hold HelpPage entries"]
    where = f"help page {page.id!r}"
    problems = [] if isinstance(page.id, str) and _ID.fullmatch(page.id) else [
        f"{where}: id must be lower-case letters, digits and _"]
    problems += _text_problems(where, page.title_vi, page.title_en)
    for language, text in (("vi", page.markdown_vi), ("en", page.markdown_en)):
        problems += [f"{where} ({language}): Markdown {p}" for p in markdown_problems(text)]
    return problems


def _selection_at(text: str, path: Sequence[str]) -> SelectionSetNode | None:
    """The selection set below `path` (unaliased fields from the query's root), or None."""
    try:
        document = parse(text)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return None
    selection: SelectionSetNode | None = operations[0].selection_set
    for name in path:
        found = [s for s in (selection.selections if selection else ())
                 if isinstance(s, FieldNode) and s.name.value == name and s.alias is None]
        selection = found[0].selection_set if found else None
        if selection is None:
            return None
    return selection


def _selects(selection: SelectionSetNode, dotted: str) -> bool:
    head, _, rest = dotted.partition(".")
    for node in selection.selections:
        if isinstance(node, FieldNode) and node.name.value == head and node.alias is None:
            if not rest:
                return node.selection_set is None
            return node.selection_set is not None and _selects(node.selection_set, rest)
    return False


def _record_list_problems(plugin_class: type[ServicePlugin], entry: object, me_fields: Sequence[str]) -> list[str]:
    if not isinstance(entry, RecordList):
        return ["record_lists must hold RecordList entries"]
    where = f"record list {entry.field!r}"
    problems = _text_problems(where, entry.empty_vi, entry.empty_en)
    if entry.field not in me_fields:
        problems.append(f"{where}: {entry.field!r} is not a field the service adds to Me")
    text = _operation_text(plugin_class, entry.operation)
    if text is None:
        return [*problems, f"{where}: operation {entry.operation!r} is not in the plug-in's operations/"]
    items = _selection_at(text, ("me", entry.field))
    if items is None:
        return [*problems, f"{where}: operation {entry.operation!r} is not one query selecting me {{ {entry.field} }}"]
    if not entry.columns:
        problems.append(f"{where}: needs at least one column")
    for column in entry.columns:
        problems += _text_problems(f"{where}, column {column.field!r}", column.label_vi, column.label_en)
        if column.format not in COLUMN_FORMATS:
            problems.append(f"{where}: column {column.field!r} has format {column.format!r}, not one of "
                            f"{', '.join(COLUMN_FORMATS)}")
        if not _selects(items, column.field):
            problems.append(f"{where}: operation {entry.operation!r} does not select column {column.field!r}")
    return problems


def _document_kind_problems(entry: object) -> list[str]:
    if not isinstance(entry, DocumentKind):
        return ["document_kinds must hold DocumentKind entries"]
    problems = [] if isinstance(entry.kind, str) and _ID.fullmatch(entry.kind) else [
        f"document kind {entry.kind!r}: must be lower-case letters, digits and _"]
    unknown = [f for f in entry.fields if f not in DOCUMENT_FIELDS]
    if unknown or not entry.fields:
        problems.append(f"document kind {entry.kind!r}: fields must be some of {', '.join(DOCUMENT_FIELDS)}")
    return problems


def screen_problems(plugin_class: type[ServicePlugin]) -> list[str]:
    """Why the plug-in's screens could not be drawn (empty: every tile opens a screen the app can draw).
    Called when the registry loads a service (a problem makes it FAILED) and by the conformance kit."""
    from services.registry import graphql_field_names

    me_fields = graphql_field_names(plugin_class.me_fields) if plugin_class.me_fields is not None else []
    declared_forms = {str(p.get("code")): p.get("form_schema") for p in plugin_class.procedures}
    problems: list[str] = []
    if not isinstance(plugin_class.ui_schemas, Mapping):
        return ["ui_schemas must map procedure codes to UI schemas"]
    for code, ui_schema in plugin_class.ui_schemas.items():
        if code not in declared_forms and code not in plugin_class.procedure_codes:
            problems.append(f"ui_schemas[{code!r}]: the service neither declares nor forwards that procedure")
        form = declared_forms.get(code)
        problems += _ui_schema_problems(code, ui_schema, form if isinstance(form, Mapping) else None)
    pages = {getattr(p, "id", None): p for p in plugin_class.help_pages}
    lists = {getattr(r, "field", None): r for r in plugin_class.record_lists}
    kinds = {getattr(k, "kind", None): k for k in plugin_class.document_kinds}
    for page in plugin_class.help_pages:
        problems += _help_problems(page)
    for entry in plugin_class.record_lists:
        problems += _record_list_problems(plugin_class, entry, me_fields)
    for kind in plugin_class.document_kinds:
        problems += _document_kind_problems(kind)
    for tile in plugin_class.tiles:
        where = f"tile {tile.id!r}"
        if tile.screen is ScreenKind.HELP_PAGE and tile.target not in pages:
            problems.append(f"{where}: help page {tile.target!r} is not in help_pages")
        elif tile.screen is ScreenKind.RECORD_LIST and tile.target not in lists:
            problems.append(f"{where}: {tile.target!r} has no entry in record_lists")
        elif tile.screen is ScreenKind.DOCUMENT_VIEWER and tile.target not in kinds:
            problems.append(f"{where}: document kind {tile.target!r} is not in document_kinds")
        elif tile.screen is ScreenKind.FORM and not (isinstance(tile.target, str) and tile.target.strip()):
            problems.append(f"{where}: a form tile names a procedure code")
    return problems


# ---- descriptors -------------------------------------------------------------------------------------------

def descriptor(plugin_class: type[ServicePlugin], tile: Tile, *,
               form_schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The screen `tile` opens, as the contract's JSON Schema of its kind describes it. A FORM tile needs the
    procedure's form schema as the catalogue holds it now (`form_schema`)."""
    head = {"kind": tile.screen.value, "schemaVersion": SCHEMA_VERSIONS[tile.screen], "tileId": tile.id,
            "title": _localized(tile.title_vi, tile.title_en)}
    if tile.screen is ScreenKind.FORM:
        form = dict(form_schema or {})
        declared = plugin_class.ui_schemas.get(tile.target)
        ui = _reconciled(declared, form) if declared is not None else default_ui_schema(form)
        submit = _contract_operation(SUBMIT_OPERATION)
        assert submit is not None
        return {**head, "procedureCode": tile.target, "formSchema": form, "uiSchema": ui,
                "submit": _operation_ref(submit, SUBMIT_OPERATION)}
    if tile.screen is ScreenKind.RECORD_LIST:
        entry = next(r for r in plugin_class.record_lists if r.field == tile.target)
        text = _operation_text(plugin_class, entry.operation)
        assert text is not None
        return {**head, "operation": _operation_ref(text, entry.operation), "itemsPath": ["me", entry.field],
                "columns": [{"field": c.field, "label": _localized(c.label_vi, c.label_en), "format": c.format}
                            for c in entry.columns],
                "emptyText": _localized(entry.empty_vi, entry.empty_en)}
    if tile.screen is ScreenKind.DOCUMENT_VIEWER:
        kind = next(k for k in plugin_class.document_kinds if k.kind == tile.target)
        wallet = _contract_operation(WALLET_OPERATION)
        assert wallet is not None
        return {**head, "documentKind": kind.kind, "operation": _operation_ref(wallet, WALLET_OPERATION),
                "itemsPath": ["me", "documents"],
                "fields": [{"field": f, "label": _localized(*DOCUMENT_FIELDS[f])} for f in kind.fields],
                "verifiesOffline": kind.verifies_offline}
    page = next(p for p in plugin_class.help_pages if p.id == tile.target)
    return {**head, "pageId": page.id, "pageTitle": _localized(page.title_vi, page.title_en),
            "markdown": _localized(page.markdown_vi, page.markdown_en)}


def descriptor_problems(built: Mapping[str, Any]) -> list[str]:
    """Where a descriptor departs from its kind's JSON Schema (used by the tests and the conformance kit)."""
    kind = ScreenKind(built["kind"])
    validator = Draft202012Validator(screen_schema(kind, int(built["schemaVersion"])))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(built)]
