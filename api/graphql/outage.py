"""A database outage as clients should see it: a typed, retryable error, and HTTP 503 with `Retry-After`
when nothing in the answer could be served (every field failed because of it)."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from core.errors import ErrorCode, render

RETRY_AFTER_SECONDS = 5


def unavailable(error: GraphQLError, locale: str) -> GraphQLError:
    vi, en = render(ErrorCode.SERVICE_UNAVAILABLE, {"retry_after": RETRY_AFTER_SECONDS})
    return GraphQLError(en if locale == "en" else vi, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path,
                        extensions={"code": ErrorCode.SERVICE_UNAVAILABLE.value, "retryable": True,
                                    "retryAfter": RETRY_AFTER_SECONDS, "messageVi": vi, "messageEn": en})


def unavailable_everywhere(result: ExecutionResult) -> int | None:
    """Seconds for `Retry-After` when every root field is null because of the outage, else None."""
    errors = result.errors or []
    if not errors or any((e.extensions or {}).get("code") != ErrorCode.SERVICE_UNAVAILABLE.value for e in errors):
        return None
    failed = {e.path[0] for e in errors if e.path}
    data = result.data
    if data is None or all(value is None and key in failed for key, value in data.items()):
        return RETRY_AFTER_SECONDS
    return None
