"""The plug-in against the schema: personal-data marking of its `Me` fields (over the printed SDL) and its
operations (`operations/*.graphql` in its package), validated against the live schema and executed."""

from __future__ import annotations

from graphql import (
    GraphQLError,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    OperationDefinitionNode,
    OperationType,
    parse,
    validate,
)

from mobile_contract.snapshot import sdl
from services.conformance import fields
from services.conformance.checks_load import plugin_of
from services.conformance.harness import Harness, Subject
from services.conformance.report import CheckFailed, CheckSkipped


async def personal_marking(h: Harness, subject: Subject) -> str:
    """Every field the plug-in adds to `Me` carries `@personal`, unless the plug-in lists it in `not_personal`."""
    plugin = plugin_of(subject)
    printed = sdl(h.schema)
    document = parse(printed)
    if "directive @personal" not in printed:
        raise CheckFailed("the schema has no @personal directive")
    names = fields.me_fields(plugin)
    if not names:
        raise CheckSkipped("the plug-in adds no field to Me")
    me = next(d for d in document.definitions if isinstance(d, ObjectTypeDefinitionNode) and d.name.value == "Me")
    marked = {f.name.value for f in me.fields or () if any(d.name.value == "personal" for d in f.directives or ())}
    exempt = set(plugin.not_personal)
    unmarked = [name for name in names if name not in marked and name not in exempt]
    if unmarked:
        raise CheckFailed(f"Me.{', Me.'.join(unmarked)} carr{'ies' if len(unmarked) == 1 else 'y'} no @personal: "
                          "mark fields that expose personal data, or list the others in `not_personal`")
    return f"{len(names)} Me field(s): {len(names) - len(exempt & set(names))} marked @personal, " \
           f"{len(exempt & set(names))} listed as not personal"


def _problems(errors: list[GraphQLError]) -> str:
    return "; ".join(e.message for e in errors)


async def operations(h: Harness, subject: Subject) -> str:
    """Each shipped document validates against the live schema; each query whose variables are all optional
    is executed signed in and answers without an error other than a typed AGENCY_* one."""
    plugin = plugin_of(subject)
    documents = plugin.operation_documents()
    if not documents:
        raise CheckSkipped("the plug-in ships no operations (operations/*.graphql in its package)")
    problems: list[str] = []
    executed = 0
    for name, text in documents.items():
        try:
            document = parse(text)
        except GraphQLError as error:
            problems.append(f"{name}.graphql does not parse: {error.message}")
            continue
        errors = validate(h.graphql_schema, document)
        if errors:
            problems.append(f"{name}.graphql does not validate against the schema: {_problems(errors)}")
            continue
        ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        needed = [v for op in ops for v in op.variable_definitions or ()
                  if isinstance(v.type, NonNullTypeNode) and v.default_value is None]
        runnable = all(op.operation == OperationType.QUERY for op in ops) and not needed
        if not runnable:
            continue
        status, body = await h.gql(text)
        wrong = [e for e in body.get("errors") or []
                 if (e.get("extensions") or {}).get("code") not in ("AGENCY_UNAVAILABLE", "AGENCY_TIMEOUT")]
        if status != 200 or wrong:
            problems.append(f"{name}.graphql executed: HTTP {status}, errors {wrong}")
        executed += 1
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"{len(documents)} operation(s) validate; {executed} executed"
