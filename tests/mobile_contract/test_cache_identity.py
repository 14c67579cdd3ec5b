"""Every object a shipped operation reads is selected with its `id` when its type has one, so normalized
caches (Apollo, urql's graphcache) recognise it: a subscription's `dossier` then updates the cached
dossier in place, on every screen that shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    FieldNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    visit,
)

from api.graphql.schema import contract_schema
from core.settings import Settings
from mobile_contract.manifest import operation_files, operation_text


def _selects_id(selection_set: SelectionSetNode) -> bool:
    return any(isinstance(s, FieldNode) and s.name.value == "id" and s.alias is None
               for s in selection_set.selections)


def objects_without_id(schema: GraphQLSchema, text: str) -> list[str]:
    """`Type at path` for each selection of an object type with an `id` field that leaves `id` out."""
    info = TypeInfo(schema)
    missing: list[str] = []

    class _Check(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            named = get_named_type(info.get_type())
            if node.selection_set is None or not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                return
            if "id" in named.fields and not _selects_id(node.selection_set):
                missing.append(f"{named.name} at {node.name.value}")

    visit(parse(text), TypeInfoVisitor(info, _Check()))
    return missing


def test_the_check_finds_an_object_without_its_id(settings: Settings) -> None:
    schema = contract_schema(settings)._schema
    assert objects_without_id(schema, "subscription S { dossierStatusChanged { dossier { code } } }") == [
        "Dossier at dossier"]
    assert objects_without_id(schema, "subscription S { dossierStatusChanged { dossier { id code } } }") == []


@pytest.mark.parametrize("path", operation_files(), ids=lambda p: p.stem)
def test_every_object_with_an_id_is_selected_with_it(settings: Settings, path: Path) -> None:
    assert objects_without_id(contract_schema(settings)._schema, operation_text(path)) == []
