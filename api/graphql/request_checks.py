"""Reading and checking a GraphQL-over-HTTP request before execution, for what Strawberry leaves out or gets
wrong: the body is read once, through the one bounded JSON parser (`core/json_body.py`), and each way it can
fail is a typed refusal instead of a plain-text 400 or a 500; choosing the operation (an unknown or missing
`operationName` is a request error, not a silent pick of the first); GET running queries only (405);
subscriptions only over the WebSocket; and NUL characters, which PostgreSQL cannot store or compare.
"""

from __future__ import annotations

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

from api.refusal import RequestRefused, bad_request
from core.errors import ErrorCode
from core.json_body import JSONRefused, loads
from core.text import unstorable, unstorable_path

_JSON_TYPES = ("application/json", "application/graphql-response+json")


@dataclass(frozen=True)
class RequestFields:
    query: str | None
    extensions: dict[str, Any] | None
    document_id: str | None
    operation_name: str | None
    variables: dict[str, Any] | None


def _json(raw: str | bytes) -> Any:
    try:
        return loads(raw, lone_surrogates=True)  # refused below with NUL, where the request can say where
    except JSONRefused as error:
        raise bad_request(error.reason) from error


def _field(body: dict[str, Any], key: str, kind: type, reason: str) -> Any:
    value = body.get(key)
    if value is not None and not isinstance(value, kind):
        raise bad_request(reason)
    return value


async def read_fields(request: Request) -> RequestFields:
    """The request's GraphQL fields, read the same way for GET (query string) and POST (JSON body)."""
    if request.method == "GET":
        params = request.query_params
        body: Any = dict(params)
        for key in ("variables", "extensions"):
            body[key] = _json(params[key]) if params.get(key) else None
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in _JSON_TYPES:
            raise RequestRefused(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE)
        body = _json(await request.body())
    if isinstance(body, list):
        raise bad_request("BATCH_NOT_SUPPORTED")
    if not isinstance(body, dict):
        raise bad_request("NOT_AN_OBJECT")
    fields = RequestFields(
        query=_field(body, "query", str, "QUERY_NOT_A_STRING"),
        extensions=_field(body, "extensions", dict, "EXTENSIONS_NOT_AN_OBJECT"),
        document_id=_field(body, "documentId", str, "DOCUMENT_ID_NOT_A_STRING"),
        operation_name=_field(body, "operationName", str, "OPERATION_NAME_NOT_A_STRING"),
        variables=_field(body, "variables", dict, "VARIABLES_NOT_AN_OBJECT"),
    )
    persisted = fields.document_id is not None or (fields.extensions or {}).get("persistedQuery") is not None
    if fields.query is None and not persisted:
        raise bad_request("NO_QUERY")
    return fields


@lru_cache(maxsize=512)
def _parsed(text: str) -> DocumentNode | None:
    try:
        return parse(text)
    except GraphQLError:
        return None  # Strawberry reports the syntax error itself


class _FindsNul(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        self.found = self.found or unstorable(node.value)


# Root fields that check every string of their input themselves: syncPush answers a NUL (or a lone
# surrogate) in one queued
# mutation with that mutation REJECTED, so the rest of the device's queue is not refused with it forever.
_OWN_INPUT_CHECKS = frozenset({"syncPush"})


def _validates_own_input(chosen: list[OperationDefinitionNode]) -> bool:
    selections = chosen[0].selection_set.selections if len(chosen) == 1 else ()
    return bool(selections) and all(isinstance(s, FieldNode) and s.name.value in _OWN_INPUT_CHECKS
                                    for s in selections)


def _request_error(code: ErrorCode, vi: str, en: str) -> RequestRefused:
    return RequestRefused(None, code, vi=vi, en=en)


def check(fields: RequestFields, text: str, method: str) -> None:
    """Raise RequestRefused for a document that parses but cannot run as sent."""
    document = _parsed(text)
    if document is None:
        return
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = fields.operation_name
    if name is None and len(operations) > 1:
        raise _request_error(ErrorCode.GRAPHQL_VALIDATION_FAILED,
                             "Tài liệu có nhiều thao tác: cần chỉ rõ operationName.",
                             "Must provide operation name if query contains multiple operations.")
    chosen = [d for d in operations if name is None or (d.name is not None and d.name.value == name)]
    if name is not None and not chosen:
        raise _request_error(ErrorCode.GRAPHQL_VALIDATION_FAILED, f'Không có thao tác tên "{name}".',
                             f'Unknown operation named "{name}".')
    operation = chosen[0].operation if len(chosen) == 1 else None
    if operation is OperationType.SUBSCRIPTION:
        raise _request_error(ErrorCode.GRAPHQL_VALIDATION_FAILED,
                             "Subscription chỉ chạy qua WebSocket (graphql-transport-ws), không qua HTTP.",
                             "Subscriptions run over the WebSocket (graphql-transport-ws), not over HTTP.")
    if method == "GET" and operation is not None and operation is not OperationType.QUERY:
        raise RequestRefused(405, ErrorCode.METHOD_NOT_ALLOWED, headers={"allow": "POST"},
                             vi="GET chỉ chạy truy vấn; hãy gửi mutation bằng POST.",
                             en="GET runs queries only; send mutations with POST.")
    finder = _FindsNul()
    visit(document, finder)
    in_variables = unstorable_path(fields.variables, "variables") is not None
    if finder.found or (in_variables and not _validates_own_input(chosen)):
        raise _request_error(ErrorCode.BAD_USER_INPUT,
                             "Chuỗi ký tự không được chứa ký tự NUL (U+0000) hay surrogate đơn lẻ.",
                             "Strings may not contain the NUL character (U+0000) or a lone surrogate.")
