"""A deployment's contract: the app's own operations plus those of every enabled plug-in, and its schema.

Production runs only persisted documents, so a plug-in's fields reach the app through the operations it
ships (`ServicePlugin.operation_documents`, files in its package's `operations/`). The server adds them to
its trusted documents at start-up, each validated against the schema it serves; `superapp contract build
--deployment DIR` writes the same documents as the deployment's manifests, with its schema snapshot, for the
front-end team and for `superapp schema check --deployment DIR`. The repository's own `mobile_contract/`
stays the built-in services' contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate

from mobile_contract import manifest
from mobile_contract.snapshot import sdl

if TYPE_CHECKING:
    import strawberry

    from services.registry import ServicePlugin

SNAPSHOT_NAME = "schema.graphql"


@dataclass
class PluginOperations:
    """The plug-ins' operations that may run ({name: text}), whose they are, and the services refused."""

    documents: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def operation_names(texts: Iterable[str]) -> set[str]:
    """The names of the operations defined in these documents (a text that does not parse has none)."""
    names: set[str] = set()
    for text in texts:
        try:
            definitions = parse(text).definitions
        except GraphQLError:
            continue
        names |= {d.name.value for d in definitions if isinstance(d, OperationDefinitionNode) and d.name}
    return names


def plugin_operations(plugins: Sequence[type[ServicePlugin]], schema: GraphQLSchema,
                      taken: Iterable[str]) -> PluginOperations:
    """Each plug-in's operations, checked in the given (precedence) order: one named operation per file,
    named like the file, a name nobody took before, valid against `schema`. A plug-in with one bad operation
    is refused whole (its reason names the operation), so the app never holds half of a service's calls."""
    found = PluginOperations()
    core = set(taken)
    for plugin in plugins:
        try:
            shipped = {name: text.rstrip() + "\n" for name, text in plugin.operation_documents().items()}
        except Exception as error:  # third-party code: a broken package fails that one service
            found.refused[plugin.code] = f"its operations cannot be read: {type(error).__name__}: {error}"[:300]
            continue
        problems = (_problem(name, text, schema, core, found.owners) for name, text in shipped.items())
        reason = next((p for p in problems if p is not None), None)
        if reason is not None:
            found.refused[plugin.code] = reason[:300]
            continue
        found.documents.update(shipped)
        found.owners.update(dict.fromkeys(shipped, plugin.code))
    return found


def _problem(name: str, text: str, schema: GraphQLSchema, core: set[str], owners: Mapping[str, str]) -> str | None:
    try:
        document = parse(text)
    except GraphQLError as error:
        return f"operation {name} does not parse: {error.message}"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].name is None or operations[0].name.value != name:
        return f"operations/{name}.graphql must hold exactly one operation, named {name}"
    if name in core:
        return f"operation {name} is already defined by the app's own operations"
    if name in owners:
        return f"operation {name} is already defined by service {owners[name]!r}"
    errors = validate(schema, document)
    if errors:
        return f"operation {name} does not validate against the schema: {errors[0].message}"
    return None


def write(directory: Path, *, core: Mapping[str, str], plugins: Mapping[str, str],
          schema: strawberry.Schema) -> int:
    """`superapp contract build --deployment DIR`: both manifests of the app's and the plug-ins' operations
    ({name: text}) and the schema snapshot; returns how many documents."""
    directory.mkdir(parents=True, exist_ok=True)
    texts = [*core.values(), *plugins.values()]
    built = manifest.build_texts(texts)
    (directory / manifest.MANIFEST.name).write_text(manifest.render(built), encoding="utf-8")
    (directory / manifest.APOLLO_MANIFEST.name).write_text(
        manifest.render_apollo(manifest.build_apollo_texts(texts)), encoding="utf-8")
    (directory / SNAPSHOT_NAME).write_text(sdl(schema), encoding="utf-8")
    return len(built)


def broken_documents(documents: Mapping[str, str], schema: GraphQLSchema) -> list[str]:
    """One line per persisted document that no longer validates against `schema` (a released app sends it)."""
    lines = []
    for text in documents.values():
        try:
            errors = validate(schema, parse(text))
        except GraphQLError as error:
            errors = [error]
        if errors:
            names = sorted(operation_names([text])) or ["(anonymous)"]
            lines.append(f"operation {', '.join(names)} no longer validates: {errors[0].message}")
    return sorted(set(lines))
