"""Composing the schema's roots from the core types and the enabled services' contributions.

Two contributions that define the same field (on `Me` or `Query`) or the same type name would make the
schema ambiguous, so start-up stops with a message naming both owners instead of letting one win.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from strawberry.tools import merge_types
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from services.registry import ServiceConflict, ServicePlugin


def _field_names(cls: type) -> list[str]:
    definition = get_object_definition(cls, strict=True)
    return [f.graphql_name or to_camel_case(f.python_name) for f in definition.fields]


def _type_name(cls: type) -> str:
    definition = get_object_definition(cls)
    return definition.name if definition else cls.__name__


def check_fields(root: str, core: type, plugins: Sequence[ServicePlugin], attribute: str) -> None:
    owner = {name: "the core schema" for name in _field_names(core)}
    for plugin in plugins:
        extension = getattr(plugin, attribute)
        if extension is None:
            continue
        for name in _field_names(extension):
            if name in owner:
                raise ServiceConflict(f"field {root}.{name} is defined by both {owner[name]} and service "
                                      f"{plugin.code!r}; rename one of them")
            owner[name] = f"service {plugin.code!r}"


def check_types(core_names: Iterable[str], plugins: Sequence[ServicePlugin]) -> None:
    owner = {name: "the core schema" for name in core_names}
    for plugin in plugins:
        for cls in plugin.types:
            name = _type_name(cls)
            if name in owner:
                raise ServiceConflict(f"type {name} is defined by both {owner[name]} and service "
                                      f"{plugin.code!r}; rename one of them")
            owner[name] = f"service {plugin.code!r}"


def merged(name: str, core: type, extensions: Iterable[type | None]) -> type:
    parts = tuple(e for e in extensions if e is not None)
    return merge_types(name, (core, *parts)) if parts else core
