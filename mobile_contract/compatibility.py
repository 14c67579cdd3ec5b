"""Breaking-change guard between the released snapshot and the schema about to ship.

graphql-core finds the breaking and dangerous changes; our policy adds one exception and one duty:
removing a field (or enum value, argument, input field) that the released snapshot already marked
deprecated is allowed, and every deprecation must say why and when it goes ("... Removal: YYYY-MM-DD").
"""

from __future__ import annotations

import re
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


def check(released_sdl: str, current_sdl: str) -> Report:
    released, current = build_schema(released_sdl), build_schema(current_sdl)
    was_deprecated = deprecations(released)
    report = Report()
    for change in find_breaking_changes(released, current):
        subject = _subject(change) if change.type in _REMOVALS else None
        if subject is not None and subject in was_deprecated:
            report.allowed_removals.append(f"{change.type.name}: {change.description}")
        else:
            report.breaking.append(f"{change.type.name}: {change.description}")
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
                         ("Dangerous changes (allowed; check the app handles them)", report.dangerous)):
        if items:
            parts.append(f"{title}:\n" + "\n".join(f"  - {item}" for item in items))
    return "\n".join(parts) or "No breaking or dangerous changes."
