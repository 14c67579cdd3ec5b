"""Composing the schema's roots from the core types and the enabled services' contributions.

Two contributions that define the same field (on `Me` or `Query`) or the same type name would make the
schema ambiguous. The core always wins, then services in `precedence` order (the built-in services of the
released contract first): a plug-in that claims a name already taken is refused, with a reason naming the
owner, and every other service still serves. One bad plug-in never stops the server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from strawberry.tools import merge_types
from strawberry.types.base import get_object_definition

from services.registry import ServicePlugin, graphql_field_names

T = TypeVar("T")
Plugin = type[ServicePlugin]


def _type_name(cls: type) -> str:
    definition = get_object_definition(cls)
    return definition.name if definition else cls.__name__


def _claims(plugin: Plugin) -> list[str]:
    """Every name the plug-in adds to the schema, as it would appear in a clash message."""
    claims = [f"field {parent}.{name}" for parent, fields in (("Me", plugin.me_fields), ("Query", plugin.query_fields))
              if fields is not None for name in graphql_field_names(fields)]
    return claims + [f"type {_type_name(cls)}" for cls in plugin.types]


def admit(plugins: Sequence[Plugin], *, me: type, query: type) -> tuple[list[Plugin], dict[str, str]]:
    """The plug-ins whose names clash with nothing before them, and a reason for each refused one."""
    owner = {claim: "the core schema" for claim in [*(f"field Me.{n}" for n in graphql_field_names(me)),
                                                    *(f"field Query.{n}" for n in graphql_field_names(query))]}
    accepted: list[Plugin] = []
    refused: dict[str, str] = {}
    for plugin in plugins:
        claims = _claims(plugin)
        taken = next((claim for claim in claims if claim in owner), None)
        if taken is not None:
            refused[plugin.code] = f"{taken} is already defined by {owner[taken]}; rename it"
            continue
        owner.update(dict.fromkeys(claims, f"service {plugin.code!r}"))
        accepted.append(plugin)
    return accepted, refused


def build_admitting(build: Callable[[list[Plugin]], T], plugins: list[Plugin],
                    refused: dict[str, str]) -> T:
    """`build(plugins)`, or, when that fails (a clash only the whole schema shows, such as a type named like a
    core type), the build with every plug-in added one at a time and each one that breaks it refused."""
    try:
        return build(plugins)
    except Exception:  # which plug-in broke it is found below; the core alone must build
        accepted: list[Plugin] = []
        for plugin in plugins:
            try:
                build([*accepted, plugin])
            except Exception as error:  # that plug-in's contribution does not compose: refuse it
                refused[plugin.code] = f"its types do not compose with the schema: {error}"
                continue
            accepted.append(plugin)
        return build(accepted)


def merged(name: str, core: type, extensions: Sequence[type | None]) -> type:
    parts = tuple(e for e in extensions if e is not None)
    return merge_types(name, (core, *parts)) if parts else core
