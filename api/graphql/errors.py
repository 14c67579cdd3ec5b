"""How errors leave the server: typed `extensions.code` always, internals never.

Our DomainErrors keep their code and both languages; parse, validation and variable errors get GraphQL's
well-known codes and both languages too (the English is graphql-core's own text); a database outage is
SERVICE_UNAVAILABLE, retryable, logged once per outage by `core.db.Availability` rather than once per field;
anything else unexpected is logged with a reference and answered as INTERNAL_ERROR with that reference only,
so no exception text (or personal data inside it) reaches a client.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.relay import InvalidGlobalIDError

from api.graphql.context import Unauthenticated
from api.graphql.outage import unavailable
from core.db import is_outage
from core.errors import DomainError, ErrorCode, render

log = logging.getLogger("superapp.graphql")
# graphql-core's wording for variable values it could not coerce (not for validation, e.g. "is never used").
_COERCION = (" has invalid value", " got invalid value", " was not provided", " must not be null")

BAD_USER_INPUT = ErrorCode.BAD_USER_INPUT.value
# Params a client acts on, answered in `extensions` as they are (QUERY_TOO_COSTLY: what it would have cost).
_EXPOSED_PARAMS = ("cost", "budget")


def _domain(error: GraphQLError, original: DomainError, locale: str) -> GraphQLError:
    extensions: dict[str, object] = {"code": original.code.value, "messageVi": original.message_vi,
                                     "messageEn": original.message_en}
    if original.field:
        extensions["field"] = original.field
    if isinstance(original, Unauthenticated):
        extensions["reason"] = original.reason
    extensions.update({key: original.params[key] for key in _EXPOSED_PARAMS if key in original.params})
    if "retry_after" in original.params:
        extensions["retryAfter"] = original.params["retry_after"]
    if "service" in original.params:
        extensions["service"] = original.params["service"]
        extensions["reason"] = original.params.get("reason")
    message = original.message_en if locale == "en" else original.message_vi
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, extensions=extensions)


def _internal(error: GraphQLError, locale: str) -> GraphQLError:
    reference = uuid.uuid4().hex[:12]
    log.error("unexpected error in %s (reference %s)", ".".join(map(str, error.path or [])), reference,
              exc_info=error.original_error)
    vi, en = render(ErrorCode.INTERNAL_ERROR, {"reference": reference})
    return GraphQLError(en if locale == "en" else vi, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path,
                        extensions={"code": ErrorCode.INTERNAL_ERROR.value, "reference": reference,
                                    "messageVi": vi, "messageEn": en})


def _request_error(error: GraphQLError, locale: str) -> GraphQLError:
    """Parse, validation and variable errors: graphql-core's English as `messageEn`, and Vietnamese around it.

    Answered as a copy: the validation cache hands the same error objects to every request sending that
    document, in whatever language each asked for. Shaping runs more than once (schema hook, extension, view),
    so an error already carrying both messages keeps them."""
    extensions = dict(error.extensions or {})
    if "messageEn" not in extensions:
        if error.message.startswith("Syntax Error"):
            code = ErrorCode.GRAPHQL_PARSE_FAILED
        elif error.message.startswith("Variable '$") and any(w in error.message for w in _COERCION):
            code = ErrorCode.BAD_USER_INPUT
        else:
            code = ErrorCode.GRAPHQL_VALIDATION_FAILED
        detail = error.message.rstrip(".") if code is ErrorCode.BAD_USER_INPUT else error.message
        vi, en = render(code, {"detail": detail})
        extensions.update(code=code.value, messageVi=vi, messageEn=en)
    message = extensions["messageEn"] if locale == "en" else extensions["messageVi"]
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, extensions=extensions)


def shape(error: GraphQLError, locale: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        return _domain(error, original, locale)
    if original is not None and is_outage(original):
        return unavailable(error, locale)
    if original is not None and not isinstance(original, GraphQLError):
        return _internal(error, locale)
    if error.path is None:
        return _request_error(error, locale)
    if not (error.extensions or {}).get("code"):
        return _argument_error(error, locale)
    return error


def _argument_error(error: GraphQLError, locale: str) -> GraphQLError:
    """An argument that failed to convert while the field ran (a global id that does not decode): typed, in both
    languages, and without the value: graphql-core's text quotes it, so a missing id and another citizen's raw
    key would be answered differently (and whatever the caller sent would come back)."""
    if isinstance(error.original_error, InvalidGlobalIDError):
        detail = {"detail": "ID không đúng dạng", "detail_en": "malformed ID"}
    else:
        detail = {"detail": error.message.rstrip(".")}
    vi, en = render(ErrorCode.BAD_USER_INPUT, detail)
    return GraphQLError(en if locale == "en" else vi, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path,
                        extensions={"code": BAD_USER_INPUT, "messageVi": vi, "messageEn": en})


class ShapeErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        locale = getattr(self.execution_context.context, "locale", "vi")
        result.errors = [shape(e, locale) for e in errors]
