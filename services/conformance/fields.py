"""The fields a plug-in adds to `Me` and `Query`, and a selection of every leaf under each, so the kit can ask
for all of them without knowing the plug-in."""

from __future__ import annotations

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from services.registry import ServicePlugin

_DEPTH = 4


def field_names(cls: type | None) -> list[str]:
    """The GraphQL names of the fields a `me_fields` / `query_fields` class declares."""
    if cls is None:
        return []
    definition = get_object_definition(cls)
    if definition is None:
        return []
    return [f.graphql_name or to_camel_case(f.python_name) for f in definition.fields]


def me_fields(plugin: type[ServicePlugin]) -> list[str]:
    return field_names(plugin.me_fields)


def query_fields(plugin: type[ServicePlugin]) -> list[str]:
    return field_names(plugin.query_fields)


def required_arguments(field: GraphQLField) -> list[str]:
    return [name for name, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull) and arg.default_value is None]


def selection(field: GraphQLField, depth: int = 0) -> str:
    """`{ a b { c } }` over every leaf reachable without arguments, or "" for a leaf field."""
    named = get_named_type(field.type)
    if isinstance(named, GraphQLUnionType | GraphQLInterfaceType):
        return "{ __typename }"
    if not isinstance(named, GraphQLObjectType):
        return ""
    parts = []
    for name, sub in named.fields.items():
        if required_arguments(sub):
            continue
        inner = selection(sub, depth + 1)
        if inner or not isinstance(get_named_type(sub.type), GraphQLObjectType):
            if depth < _DEPTH or not inner:
                parts.append(f"{name} {inner}".strip())
    return "{ " + " ".join(parts or ["__typename"]) + " }"


def me_query(schema: GraphQLSchema, names: list[str]) -> str:
    me = schema.get_type("Me")
    assert isinstance(me, GraphQLObjectType)
    return "{ me { " + " ".join(f"{n} {selection(me.fields[n])}".strip() for n in names) + " } }"


def root_query(schema: GraphQLSchema, names: list[str]) -> str:
    root = schema.query_type
    assert root is not None
    return "{ " + " ".join(f"{n} {selection(root.fields[n])}".strip() for n in names) + " }"
