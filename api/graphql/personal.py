"""Reads of personal data, audited at the gateway: every field marked `@personal` that a request resolved.

The directive (`services/personal.py`, re-exported here) is the only thing a field needs: when the schema is
built, `instrument` wraps the resolver of every marked field, core's or a plug-in's, so that resolving it
notes its coordinate (`Me.phone`) in the request's `Context.reads`; unmarked fields keep their resolver and cost
nothing. `PersonalDataAudit` then writes one audit row per request and subject, fields aggregated, before
the answer leaves: after execution over HTTP, before each event over the WebSocket. If that write fails, the
answer is replaced by AUDIT_UNAVAILABLE and carries no data.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from inspect import isawaitable
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, GraphQLResolveInfo, default_field_resolver
from sqlalchemy.exc import SQLAlchemyError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from api.graphql.errors import shape
from core import audit
from core.clock import utc_now
from core.db import Database, is_outage
from core.errors import ErrorCode, render
from services.personal import Personal, personal

__all__ = ["Personal", "PersonalDataAudit", "instrument", "is_personal", "personal"]

log = logging.getLogger("superapp.audit")
SELF_SERVICE = "self_service"


def kinds_of(strawberry_field: StrawberryField) -> tuple[str, ...] | None:
    """The kinds of personal data the field shows, or None when it is not marked."""
    for directive in strawberry_field.directives:
        if isinstance(directive, Personal):
            return tuple(directive.data)
    return None


def is_personal(strawberry_field: StrawberryField) -> bool:
    return kinds_of(strawberry_field) is not None


def _note(info: GraphQLResolveInfo[Any], coordinate: str, value: object) -> None:
    reads: set[str] | None = getattr(info.context, "reads", None)
    if value is not None and reads is not None:  # a null shows nothing
        reads.add(coordinate)


def _audited(resolve: Callable[..., Any] | None, coordinate: str) -> Callable[..., Any]:
    inner = resolve or default_field_resolver

    def resolve_and_note(root: Any, info: GraphQLResolveInfo[Any], **kwargs: Any) -> Any:
        result = inner(root, info, **kwargs)
        if getattr(root, "public", False) is True:  # an object holding nobody's data (a catalogue record)
            return result
        if isawaitable(result):
            async def then() -> Any:
                value = await result
                _note(info, coordinate, value)
                return value
            return then()
        _note(info, coordinate, result)
        return result

    return resolve_and_note


def instrument(graphql_types: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Wrap every marked field's resolver; returns coordinate -> kinds (for the citizen's log labels)."""
    marked: dict[str, tuple[str, ...]] = {}
    for type_name, graphql_type in graphql_types.items():
        if not isinstance(graphql_type, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, graphql_field in graphql_type.fields.items():
            definition = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            kinds = kinds_of(definition) if isinstance(definition, StrawberryField) else None
            if kinds is None:
                continue
            coordinate = f"{type_name}.{field_name}"
            marked[coordinate] = kinds
            graphql_field.resolve = _audited(graphql_field.resolve, coordinate)
    return marked


def audit_error(locale: str) -> GraphQLError:
    vi, en = render(ErrorCode.AUDIT_UNAVAILABLE, {})
    return GraphQLError(en if locale == "en" else vi,
                        extensions={"code": ErrorCode.AUDIT_UNAVAILABLE.value, "messageVi": vi, "messageEn": en})


def by_citizen(context: Any, citizen_id: int, fields: tuple[str, ...], operation: str) -> audit.Access:
    """The signed-in citizen reading or changing their own data: every marked field is the caller's own."""
    return audit.Access(actor_kind="citizen", actor_id=str(citizen_id), subject_citizen_id=citizen_id,
                        fields=fields, operation=operation, purpose=SELF_SERVICE, request_id=context.request_id)


async def record_reads(context: Any, fields: set[str], *, operation: str | None) -> None:
    """One row for the request's subject, fields aggregated, in a transaction of its own."""
    db: Database = context.db
    access = by_citizen(context, await context.citizen_id(), tuple(fields), operation or "anonymous")
    await db.transaction(lambda session: audit.append(session, access, now=utc_now()))


class PersonalDataAudit(SchemaExtension):
    """Writes the request's read row before the answer is sent; no row, no data."""

    async def _flush(self, result: Any) -> None:
        context = self.execution_context.context
        reads: set[str] | None = getattr(context, "reads", None)
        if not reads:
            return
        fields = set(reads)
        reads.clear()  # a socket's context outlives each event: the next one starts empty
        if result is None:
            return
        try:
            await record_reads(context, fields, operation=self.execution_context.operation_name)
        except Exception as error:  # noqa: BLE001 (whatever failed, the data must not leave)
            locale = getattr(context, "locale", "vi")
            if isinstance(error, SQLAlchemyError | OSError) and is_outage(error):
                failure = shape(GraphQLError("unavailable", original_error=error), locale)
            else:
                if not isinstance(error, audit.AuditUnavailable):
                    log.error("audit trail not written (%s); answer withheld", type(error).__name__)
                failure = audit_error(locale)
            result.data, result.errors = None, [failure]

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        await self._flush(self.execution_context.result)

    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        await self._flush(result)
        yield
