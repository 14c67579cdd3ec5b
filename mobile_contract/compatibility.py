"""Breaking-change guard between the released snapshot and the schema about to ship.

graphql-core finds the breaking and dangerous changes; our policy adds one exception and one duty:
removing a field (or enum value, argument, input field) that the released snapshot already marked
deprecated is allowed, and every deprecation must say why and when it goes ("... Removal: YYYY-MM-DD").

With the operations app versions send (mobile_contract/usage.py), two more rules: that exception holds only
while no supported app version sends an operation using what is removed; and an operation of a supported
version that validates against the released snapshot must still validate against the new schema (so a type
or argument change that breaks it is refused too). Operations of versions below their platform's minimum do
not count: raising the minimum is how a deprecated field is finally released.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from graphql import (
    BreakingChange,
    BreakingChangeType,
    DangerousChange,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

from mobile_contract.usage import UsedOperation, supported_users, validation_errors

REMOVAL_DATE = re.compile(r"Removal: (\d{4}-\d{2}-\d{2})")
_REMOVALS = {
    BreakingChangeType.FIELD_REMOVED,
    BreakingChangeType.VALUE_REMOVED_FROM_ENUM,
    BreakingChangeType.ARG_REMOVED,
}


@dataclass
class Report:
    breaking: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)
    allowed_removals: list[str] = field(default_factory=list)
    undated_deprecations: list[str] = field(default_factory=list)
    # Operations of supported versions whose text the usage does not hold: the guard cannot check them.
    unchecked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaking and not self.undated_deprecations


def deprecations(schema: GraphQLSchema) -> dict[str, str | None]:
    """`Type.field`, `Enum.VALUE` and `Type.field(arg)` that are deprecated, with their reasons."""
    found: dict[str, str | None] = {}
    for name, named in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for fname, fdef in named.fields.items():
                if fdef.deprecation_reason is not None:
                    found[f"{name}.{fname}"] = fdef.deprecation_reason
                for aname, adef in fdef.args.items():
                    if adef.deprecation_reason is not None:
                        found[f"{name}.{fname}({aname})"] = adef.deprecation_reason
        elif isinstance(named, GraphQLEnumType):
            for vname, vdef in named.values.items():
                if vdef.deprecation_reason is not None:
                    found[f"{name}.{vname}"] = vdef.deprecation_reason
        elif isinstance(named, GraphQLInputObjectType):
            for iname, idef in named.fields.items():
                if idef.deprecation_reason is not None:
                    found[f"{name}.{iname}"] = idef.deprecation_reason
    return found


def _subject(change: BreakingChange) -> str | None:
    """`Type.field`, `Type.field(arg)` or `Enum.VALUE` from graphql-core's description of a removal."""
    text = change.description
    arg = re.fullmatch(r"Argument (\w+)\.(\w+)\((\w+):\) was removed\.", text)
    if arg:
        return f"{arg.group(1)}.{arg.group(2)}({arg.group(3)})"
    removed = re.fullmatch(r"(?:Field|Enum value) (\w+)\.(\w+) was removed\.", text)
    if removed:
        return f"{removed.group(1)}.{removed.group(2)}"
    return None


def check(released_sdl: str, current_sdl: str, usage: Sequence[UsedOperation] | None = None) -> Report:
    released, current = build_schema(released_sdl), build_schema(current_sdl)
    was_deprecated = deprecations(released)
    in_use = supported_users(released, usage or [])
    report = Report()
    for change in find_breaking_changes(released, current):
        subject = _subject(change) if change.type in _REMOVALS else None
        users = in_use.get(subject, []) if subject is not None else []
        line = f"{change.type.name}: {change.description}"
        if users:
            report.breaking.append(f"{line} Still used by supported app versions: {', '.join(users)}.")
        elif subject is not None and subject in was_deprecated:
            report.allowed_removals.append(line)
        else:
            report.breaking.append(line)
    for operation in usage or []:
        if not operation.supported:
            continue
        if operation.document is None:
            report.unchecked.append(f"{operation.label}: hash {operation.operation_hash} is in no manifest")
        elif not validation_errors(released, operation.document):
            broken = validation_errors(current, operation.document)
            if broken:
                report.breaking.append(f"OPERATION_BROKEN: {operation.label}, sent by a supported app version, "
                                       f"no longer validates: {broken[0]}")
    report.dangerous = [f"{c.type.name}: {c.description}" for c in find_dangerous_changes(released, current)
                        if isinstance(c, DangerousChange)]
    report.undated_deprecations = [f"{where}: {reason!r}" for where, reason in deprecations(current).items()
                                   if not reason or not REMOVAL_DATE.search(reason)]
    return report


def render(report: Report) -> str:
    parts = []
    for title, items in (("Breaking changes", report.breaking),
                         ("Deprecations without 'Removal: YYYY-MM-DD'", report.undated_deprecations),
                         ("Removals of fields deprecated in the released snapshot (allowed)",
                          report.allowed_removals),
                         ("Dangerous changes (allowed; check the app handles them)", report.dangerous),
                         ("Operations of supported app versions that could not be checked (no document text)",
                          report.unchecked)):
        if items:
            parts.append(f"{title}:\n" + "\n".join(f"  - {item}" for item in items))
    return "\n".join(parts) or "No breaking or dangerous changes."
