"""The forms in which standard clients send a persisted document, so that their hashes match ours.

Apollo Client (v4) and urql parse an operation, add `__typename` to every selection set below the root,
print it with graphql-js's printer and hash that text; comments and the file's layout are gone. Neither can
be told to send the file's text instead. graphql-codegen's client preset (`persistedDocuments`) hashes
`printExecutableGraphQLDocument` of @graphql-tools/documents: selections, variables and directives sorted,
all on one line. graphql-core's printer is a port of graphql-js's and prints the same text, so the server
can recognise every such form of a trusted document (the Node tests in `tests/js/` compare these forms with
Apollo's manifest generator and with @graphql-tools/documents).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NameNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

_TYPENAME = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())


class _AddTypename(Visitor):
    """Apollo's `addTypenameToDocument`: every selection set but an operation's root one asks for
    `__typename`, unless it already selects it (or another `__` field), or its field is `@export`ed."""

    def enter_selection_set(self, node: SelectionSetNode, _key: Any, parent: Any, *_: Any) -> Any:
        if isinstance(parent, OperationDefinitionNode):
            return None
        if any(isinstance(s, FieldNode) and s.name.value.startswith("__") for s in node.selections):
            return None
        if isinstance(parent, FieldNode) and any(d.name.value == "export" for d in parent.directives or ()):
            return None
        return SelectionSetNode(selections=(*node.selections, _TYPENAME))


def printed(text: str) -> str:
    """The document as graphql-js prints it: no comments, canonical layout."""
    return print_ast(parse(text))


def with_typename(text: str) -> str:
    """The document as Apollo Client and urql send and hash it."""
    document: DocumentNode = visit(parse(text), _AddTypename())
    return print_ast(document)


# ICU's root order of the characters a printed selection holds: space, punctuation, digits, letters.
_ICU_ORDER = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"


def _collation(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """JavaScript's `localeCompare` (ICU root collation) as it orders GraphQL text: case ignored first
    (then lower case first); a character outside `_ICU_ORDER` sorts last."""
    primary = tuple(_ICU_ORDER.find(c.lower()) % (len(_ICU_ORDER) + 1) for c in text)
    return primary, tuple(int(c.isupper()) for c in text)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _selection_key(node: SelectionNode) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if isinstance(node, FieldNode):
        return _collation("0" + node.name.value)
    if isinstance(node, FragmentSpreadNode):
        return _collation("1" + node.name.value)
    assert isinstance(node, InlineFragmentNode)
    condition = node.type_condition.name.value if node.type_condition else ""
    inner = _one_line(" ".join(print_ast(s) for s in _sorted_selections(node.selection_set.selections)))
    return _collation("2" + condition + inner)


def _sorted_selections(selections: Sequence[SelectionNode]) -> list[SelectionNode]:
    return sorted(selections, key=_selection_key)


def _directives(nodes: Sequence[DirectiveNode] | None) -> tuple[DirectiveNode, ...]:
    return tuple(sorted((DirectiveNode(name=d.name, arguments=tuple(sorted(d.arguments or (),
                                                                            key=lambda a: _collation(a.name.value))))
                         for d in nodes or ()), key=lambda d: _collation(d.name.value)))


def _variables(nodes: Sequence[VariableDefinitionNode] | None) -> tuple[VariableDefinitionNode, ...]:
    return tuple(sorted(nodes or (), key=lambda v: _collation(v.variable.name.value)))


def _sort(node: Node, *, keep_order: bool = False) -> Any:
    """@graphql-tools/documents' `sortExecutableDocument`; a mutation's root fields keep their order (they
    run in order), as does an inline fragment directly in it. Field arguments are not sorted."""
    if isinstance(node, SelectionSetNode):
        selections = [_sort(s, keep_order=keep_order) for s in node.selections]
        return SelectionSetNode(selections=tuple(selections if keep_order else _sorted_selections(selections)))
    if isinstance(node, FieldNode):
        return FieldNode(alias=node.alias, name=node.name, arguments=node.arguments,
                         directives=_directives(node.directives),
                         selection_set=_sort(node.selection_set) if node.selection_set else None)
    if isinstance(node, InlineFragmentNode):
        return InlineFragmentNode(type_condition=node.type_condition, directives=_directives(node.directives),
                                  selection_set=_sort(node.selection_set, keep_order=keep_order))
    if isinstance(node, FragmentSpreadNode):
        return FragmentSpreadNode(name=node.name, directives=_directives(node.directives))
    if isinstance(node, OperationDefinitionNode):
        return OperationDefinitionNode(
            operation=node.operation, name=node.name, variable_definitions=_variables(node.variable_definitions),
            directives=_directives(node.directives),
            selection_set=_sort(node.selection_set, keep_order=node.operation is OperationType.MUTATION))
    if isinstance(node, FragmentDefinitionNode):
        return FragmentDefinitionNode(name=node.name, type_condition=node.type_condition,
                                      variable_definitions=_variables(node.variable_definitions),
                                      directives=_directives(node.directives), selection_set=_sort(node.selection_set))
    return node


def executable(document: DocumentNode) -> str:
    """graphql-codegen's persisted-document text (`printExecutableGraphQLDocument`): fragments first, then
    operations by name, everything sorted, on one line."""
    definitions = sorted(document.definitions, key=lambda d: (
        _collation(d.kind.replace("_", "")), _collation(getattr(getattr(d, "name", None), "value", "") or "")))
    return _one_line(print_ast(DocumentNode(definitions=tuple(_sort(d) for d in definitions))))


def forms(text: str) -> tuple[str, ...]:
    """Every text under which a client may send this trusted document (the file's own text first)."""
    document = parse(text)
    typed: DocumentNode = visit(document, _AddTypename())
    return tuple(dict.fromkeys((text, print_ast(document), print_ast(typed), executable(document),
                                executable(typed))))
