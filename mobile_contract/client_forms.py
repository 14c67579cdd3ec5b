"""The forms in which standard clients send a persisted document, so that their hashes match ours.

Apollo Client (v4) and urql parse an operation, add `__typename` to every selection set below the root,
print it with graphql-js's printer and hash that text; comments and the file's layout are gone. Neither can
be told to send the file's text instead. graphql-core's printer is a port of graphql-js's and prints the
same text (the Node tests in `tests/js/` compare it with Apollo's own manifest generator), so the server
can recognise every such form of a trusted document.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
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


def forms(text: str) -> tuple[str, ...]:
    """Every text under which a client may send this trusted document (the file's own text first)."""
    return tuple(dict.fromkeys((text, printed(text), with_typename(text))))
