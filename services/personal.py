"""`@personal`: the schema directive that marks a field exposing a citizen's personal data.

Defined here, beside the plug-in interface, so a plug-in marks its fields without importing the API layer
(`from services.registry import personal`); the gateway (`api/graphql/personal.py`) audits every marked
field a request resolves, whoever declared it.
"""

from __future__ import annotations

import strawberry
from strawberry.schema_directive import Location


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION], name="personal",
    description="Exposes a citizen's personal data: every read is recorded in the privacy audit trail "
                "(myDataAccessLog). `data` names its kinds (docs/PLUGGING_IN_A_SERVICE.md lists them).",
)
class Personal:
    data: list[str]


def personal(*data: str) -> Personal:
    """`strawberry.field(directives=[personal("phone")])`: the field shows these kinds of personal data."""
    return Personal(data=list(data))
