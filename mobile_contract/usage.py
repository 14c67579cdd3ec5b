"""Which schema fields the operations of each app version use, so a field is removed only when no supported
version still sends an operation that reads it.

The server records the trusted documents each app name and version sends (`app_operation_usage`,
core/app_usage.py). This module turns those records into schema coordinates by walking each document against
a schema with graphql-core's `TypeInfo`: `Type.field` for every field selected, `Type.field(arg)` for every
argument given, `Enum.VALUE` for enum literals and `Input.field` for input-object literals (values passed in
variables cannot be seen, so an enum value or input field sent only through variables is not counted).

The same records travel as a usage file (`superapp contract usage --export FILE`, format below), so CI can run
the breaking-change guard offline: `superapp schema check --usage FILE`. A record carries its document text,
so the file needs no manifest. Format (JSON): `{"format": "superapp-operation-usage", "version": 1,
"generatedAt": ISO time, "minimums": {platform: {"minimumVersion", "storeUrl"}}, "operations": [{"appName",
"platform", "appVersion", "supported", "operationHash", "operationName", "count", "firstSeen", "lastSeen",
"document"}]}`; `document` is null for a hash the manifests no longer hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from graphql import (
    ArgumentNode,
    EnumValueNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLSchema,
    ObjectFieldNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    validate,
    visit,
)

FORMAT = "superapp-operation-usage"


@dataclass(frozen=True)
class UsedOperation:
    """One trusted document one app version sent."""

    app_name: str
    platform: str
    app_version: str
    supported: bool
    operation_hash: str
    operation_name: str | None
    count: int
    first_seen: str
    last_seen: str
    document: str | None

    @property
    def who(self) -> str:
        return f"{self.app_name} {self.app_version}"

    @property
    def label(self) -> str:
        return f"{self.who} ({self.operation_name or self.operation_hash[:12]})"


class _Coordinates(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info, self.found = type_info, set[str]()
        self.fields: list[str | None] = []  # the coordinate of each field being visited, innermost last

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent = self.type_info.get_parent_type()
        coordinate = None
        if parent is not None and self.type_info.get_field_def() is not None:
            coordinate = f"{parent.name}.{node.name.value}"
            self.found.add(coordinate)
        self.fields.append(coordinate)

    def leave_field(self, *_: Any) -> None:
        self.fields.pop()

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        if self.type_info.get_directive() is None and self.fields and self.fields[-1] is not None \
                and self.type_info.get_argument() is not None:
            self.found.add(f"{self.fields[-1]}({node.name.value})")

    def enter_enum_value(self, node: EnumValueNode, *_: Any) -> None:
        named = get_named_type(self.type_info.get_input_type())
        if isinstance(named, GraphQLEnumType):
            self.found.add(f"{named.name}.{node.value}")

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        parent = get_named_type(self.type_info.get_parent_input_type())
        if isinstance(parent, GraphQLInputObjectType):
            self.found.add(f"{parent.name}.{node.name.value}")


def coordinates(schema: GraphQLSchema, document: str) -> set[str]:
    """The schema coordinates `document` reads against `schema` (what it does not fit is left out)."""
    try:
        parsed = parse(document)
    except GraphQLError:
        return set()
    type_info = TypeInfo(schema)
    collector = _Coordinates(type_info)
    visit(parsed, TypeInfoVisitor(type_info, collector))
    return collector.found


def validation_errors(schema: GraphQLSchema, document: str) -> list[str]:
    try:
        return [error.message for error in validate(schema, parse(document))]
    except GraphQLError as error:
        return [error.message]


def users(schema: GraphQLSchema, operations: Iterable[UsedOperation]) -> dict[str, list[UsedOperation]]:
    """Coordinate -> the operations (of any version) whose documents read it."""
    found: dict[str, list[UsedOperation]] = {}
    for operation in operations:
        if operation.document is None:
            continue
        for coordinate in coordinates(schema, operation.document):
            found.setdefault(coordinate, []).append(operation)
    return found


def supported_users(schema: GraphQLSchema, operations: Iterable[UsedOperation]) -> dict[str, list[str]]:
    """Coordinate -> `app version (Operation)` of each supported version whose operations read it: what the
    breaking-change guard keeps (mobile_contract/compatibility.py)."""
    return {coordinate: sorted({o.label for o in ops if o.supported})
            for coordinate, ops in users(schema, operations).items() if any(o.supported for o in ops)}


def export(path: Path, *, generated_at: str, minimums: Mapping[str, Mapping[str, str]],
           operations: Sequence[UsedOperation]) -> None:
    data = {"format": FORMAT, "version": 1, "generatedAt": generated_at, "minimums": dict(minimums),
            "operations": [_wire(o) for o in operations]}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _wire(operation: UsedOperation) -> dict[str, object]:
    names = {"app_name": "appName", "app_version": "appVersion", "operation_hash": "operationHash",
             "operation_name": "operationName", "first_seen": "firstSeen", "last_seen": "lastSeen"}
    return {names.get(key, key): value for key, value in asdict(operation).items()}


def load(path: Path) -> list[UsedOperation]:
    """A usage file's operations; ValueError when it is not one."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != 1 \
            or not isinstance(data.get("operations"), list):
        raise ValueError(f"{path} is not a usage file (format {FORMAT!r}, version 1); "
                         "write one with `superapp contract usage --export FILE`")
    try:
        return [UsedOperation(app_name=str(o["appName"]), platform=str(o["platform"]),
                              app_version=str(o["appVersion"]), supported=bool(o["supported"]),
                              operation_hash=str(o["operationHash"]), operation_name=o.get("operationName"),
                              count=int(o["count"]), first_seen=str(o["firstSeen"]), last_seen=str(o["lastSeen"]),
                              document=o.get("document"))
                for o in data["operations"]]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: an operation lacks {error}") from error
