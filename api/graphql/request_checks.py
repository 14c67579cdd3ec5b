"""Checks on a GraphQL-over-HTTP request before execution, for what Strawberry leaves out or gets wrong:
choosing the operation (an unknown or missing `operationName` is a request error, not a 400 in plain text
or a silent pick of the first), GET running queries only (405), and NUL characters, which PostgreSQL
cannot store or compare (a request error instead of a database incident).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    Visitor,
    parse,
    visit,
)
from starlette.requests import Request


@dataclass(frozen=True)
class RequestFields:
    query: str | None
    extensions: dict[str, Any] | None
    document_id: str | None
    operation_name: str | None
    variables: Any


@dataclass(frozen=True)
class Problem:
    """`status` 405 means "use POST"; otherwise a GraphQL request error with `message` and its code."""

    status: int
    message_vi: str
    message_en: str


def _json(raw: str | bytes | None) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


async def read_fields(request: Request) -> RequestFields:
    """The request's GraphQL fields, read the same way for GET (query string) and POST (JSON body)."""
    if request.method == "GET":
        params = request.query_params
        body: Any = {**params, "extensions": _json(params.get("extensions")),
                     "variables": _json(params.get("variables"))}
    else:
        body = _json(await request.body())
    if not isinstance(body, dict):
        body = {}

    def text(key: str) -> str | None:
        value = body.get(key)
        return value if isinstance(value, str) else None

    extensions = body.get("extensions")
    return RequestFields(query=text("query"), extensions=extensions if isinstance(extensions, dict) else None,
                         document_id=text("documentId"), operation_name=text("operationName"),
                         variables=body.get("variables"))


@lru_cache(maxsize=512)
def _parsed(text: str) -> DocumentNode | None:
    try:
        return parse(text)
    except GraphQLError:
        return None  # Strawberry reports the syntax error itself


class _FindsNul(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        self.found = self.found or "\x00" in node.value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


# Root fields that check every string of their input themselves: syncPush answers a NUL in one queued
# mutation with that mutation REJECTED, so the rest of the device's queue is not refused with it forever.
_OWN_INPUT_CHECKS = frozenset({"syncPush"})


def _validates_own_input(chosen: list[OperationDefinitionNode]) -> bool:
    selections = chosen[0].selection_set.selections if len(chosen) == 1 else ()
    return bool(selections) and all(isinstance(s, FieldNode) and s.name.value in _OWN_INPUT_CHECKS
                                    for s in selections)


def problem(fields: RequestFields, text: str, method: str) -> Problem | None:
    document = _parsed(text)
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = fields.operation_name
    if name is None and len(operations) > 1:
        return Problem(400, "Tài liệu có nhiều thao tác: cần chỉ rõ operationName.",
                       "Must provide operation name if query contains multiple operations.")
    chosen = [d for d in operations if name is None or (d.name is not None and d.name.value == name)]
    if name is not None and not chosen:
        return Problem(400, f'Không có thao tác tên "{name}".', f'Unknown operation named "{name}".')
    if method == "GET" and len(chosen) == 1 and chosen[0].operation is not OperationType.QUERY:
        return Problem(405, "GET chỉ chạy truy vấn; hãy gửi mutation bằng POST.",
                       "GET runs queries only; send mutations with POST.")
    finder = _FindsNul()
    visit(document, finder)
    if finder.found or (_has_nul(fields.variables) and not _validates_own_input(chosen)):
        return Problem(400, "Chuỗi ký tự không được chứa ký tự NUL (U+0000).",
                       "Strings may not contain the NUL character (U+0000).")
    return None
