"""Counting GraphQL requests for /metrics with bounded labels: a persisted document's operation by its name
(the app's documents are a fixed list), anything else as `adhoc`; errors by their `ErrorCode`, an unknown
code as `OTHER`."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from graphql import GraphQLError, OperationDefinitionNode, parse

from core import metrics
from core.errors import ErrorCode

ADHOC = "adhoc"
_CODES = frozenset(code.value for code in ErrorCode)


@lru_cache(maxsize=4096)
def _operation_names(text: str) -> frozenset[str]:
    try:
        document = parse(text)
    except GraphQLError:
        return frozenset()
    return frozenset(d.name.value for d in document.definitions if isinstance(d, OperationDefinitionNode) and d.name)


def operation_label(text: str | None, persisted: bool, operation_name: str | None) -> str:
    """The persisted operation's own name, or `adhoc` (never a name the client made up)."""
    if not (persisted and text):
        return ADHOC
    names = _operation_names(text)
    if operation_name in names:
        return str(operation_name)
    return next(iter(names)) if len(names) == 1 else ADHOC


def count(operation: str, outcome: str, codes: Iterable[object]) -> None:
    metrics.GRAPHQL_REQUESTS.labels(operation=operation, outcome=outcome).inc()
    for code in codes:
        metrics.GRAPHQL_ERRORS.labels(code=code if isinstance(code, str) and code in _CODES else "OTHER").inc()
