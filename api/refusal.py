"""Requests answered before any GraphQL runs, as GraphQL response bodies with a code and both languages.

A client library reads `/graphql` answers as JSON with `errors[].extensions.code`; a plain-text 400 or 413
reaches the app as "unexpected token" and tells it nothing. So every refusal of the GraphQL endpoint (body
limits, gzip, JSON, content type, method, Accept, persisted documents, operation choice) is built here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import WIRE_MESSAGES, ErrorCode, render
from core.json_body import MAX_DEPTH, MAX_NUMBER_CHARS

GRAPHQL_PATH = "/graphql"
AGENCIES_PATH = "/agencies/"
UPLOADS_PATH = "/uploads/"
# The agency callback's own name for a refusal the middleware makes first (api/agency_events.py).
_AGENCY_REASONS = {ErrorCode.PAYLOAD_TOO_LARGE: "BODY_TOO_LARGE"}
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# What BAD_REQUEST's `extensions.reason` can be, with the detail each puts in the message.
REASONS: dict[str, tuple[str, str]] = {
    "INVALID_UTF8": ("nội dung không phải văn bản UTF-8", "the body is not UTF-8 text"),
    "INVALID_JSON": ("nội dung không phải JSON", "the body is not JSON"),
    "TOO_DEEP": (f"JSON lồng nhau quá {MAX_DEPTH} cấp", f"JSON is nested more than {MAX_DEPTH} levels deep"),
    "NUMBER_TOO_LONG": (f"có số dài hơn {MAX_NUMBER_CHARS} ký tự",
                        f"a number is longer than {MAX_NUMBER_CHARS} characters"),
    "NOT_A_NUMBER": ("có số NaN, Infinity hoặc vượt phạm vi", "a number is NaN, Infinity or out of range"),
    "LONE_SURROGATE": ("có chuỗi chứa surrogate đơn lẻ (không phải văn bản Unicode)",
                       "a string holds a lone surrogate (not Unicode text)"),
    "NOT_AN_OBJECT": ("nội dung phải là một đối tượng JSON", "the body must be a JSON object"),
    "BATCH_NOT_SUPPORTED": ("không hỗ trợ gửi nhiều yêu cầu trong một mảng",
                            "batches (a JSON array of requests) are not supported"),
    "NO_QUERY": ("thiếu query hoặc mã tài liệu đã đăng ký", "there is no query and no persisted document id"),
    "QUERY_NOT_A_STRING": ("query phải là chuỗi", "query must be a string"),
    "OPERATION_NAME_NOT_A_STRING": ("operationName phải là chuỗi", "operationName must be a string"),
    "DOCUMENT_ID_NOT_A_STRING": ("documentId phải là chuỗi", "documentId must be a string"),
    "VARIABLES_NOT_AN_OBJECT": ("variables phải là đối tượng JSON", "variables must be a JSON object"),
    "EXTENSIONS_NOT_AN_OBJECT": ("extensions phải là đối tượng JSON", "extensions must be a JSON object"),
    "BAD_GZIP": ("nội dung gzip hỏng hoặc bị cắt cụt", "the gzip body is corrupt or truncated"),
}


class RequestRefused(Exception):
    """One error answered without executing anything.

    `status` None is a GraphQL *request error* (GraphQL over HTTP: 400 under graphql-response+json, 200 under
    application/json); a number is an HTTP-level refusal, that status under either media type.
    """

    def __init__(self, status: int | None, code: ErrorCode, *, reason: str | None = None,
                 headers: Mapping[str, str] | None = None, vi: str | None = None, en: str | None = None,
                 extensions: Mapping[str, object] | None = None, **params: Any) -> None:
        if reason is not None:
            params.setdefault("detail", REASONS[reason][0])
            params.setdefault("detail_en", REASONS[reason][1])
        default_vi, default_en = render(code, params)
        self.status, self.code, self.reason = status, code, reason
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})  # what the app acts on (APP_UPDATE_REQUIRED: storeUrl, ...)
        self.message_vi, self.message_en = vi or default_vi, en or default_en
        super().__init__(self.message_en)


def bad_request(reason: str) -> RequestRefused:
    return RequestRefused(400, ErrorCode.BAD_REQUEST, reason=reason)


def preferred_locale(accept_language: str | None) -> str:
    """`en` when the client prefers English, otherwise Vietnamese."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("vi"):
            return "vi"
    return "vi"


def media_type(accept: str | None) -> str:
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in (accept or "") else JSON


def graphql_refusal(headers: Headers, refused: RequestRefused) -> Response:
    """The refusal as a GraphQL response: `{"errors": [...]}` with no `data`, in the negotiated media type."""
    locale = preferred_locale(headers.get("accept-language"))
    extensions: dict[str, Any] = {"code": refused.code.value, "messageVi": refused.message_vi,
                                  "messageEn": refused.message_en}
    if refused.reason is not None:
        extensions["reason"] = refused.reason
    extensions.update(refused.extensions)
    localized = refused.message_en if locale == "en" else refused.message_vi
    # Some codes keep the ecosystem's fixed wording in `message` (clients match on it); the text is in extensions.
    body = {"errors": [{"message": WIRE_MESSAGES.get(refused.code, localized), "extensions": extensions}]}
    media = media_type(headers.get("accept"))
    status = refused.status or (400 if media == GRAPHQL_RESPONSE else 200)
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(content, status_code=status, headers={**refused.headers, "cache-control": "no-store"},
                    media_type=f"{media}; charset=utf-8")


async def refuse_body(app: ASGIApp, scope: Scope, receive: Receive, send: Send, *, read: Receive,
                      raised: type[Exception], answer: Callable[[], RequestRefused]) -> bool:
    """Runs `app` reading its body through `read`; when `read` raises `raised`, answers `answer()` unless the
    response has already started (then the connection just ends). The body middlewares share this; True
    when `read` gave up."""
    started = False

    async def tracking_send(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, read, tracking_send)
    except raised:
        if not started:
            await refusal(scope, answer())(scope, receive, send)
        return True
    return False


def refusal(scope: Scope, refused: RequestRefused) -> Response:
    """For middleware that refuses before routing: a GraphQL body on `/graphql`, the upload endpoint's errors
    on `/uploads/`, the agency answer shape
    (`{"outcome": "refused", "reason", "message"}`) on `/agencies/...`, plain text elsewhere."""
    path = str(scope.get("path", ""))
    if path == GRAPHQL_PATH:
        return graphql_refusal(Headers(scope=scope), refused)
    if path.startswith(UPLOADS_PATH):  # the tus endpoint's own error shape, with its protocol header
        locale = preferred_locale(Headers(scope=scope).get("accept-language"))
        body = {"errors": [{"message": refused.message_en if locale == "en" else refused.message_vi,
                            "extensions": {"code": refused.code.value, "messageVi": refused.message_vi,
                                           "messageEn": refused.message_en}}]}
        return JSONResponse(body, status_code=refused.status or 400,
                            headers={**refused.headers, "Tus-Resumable": "1.0.0", "Cache-Control": "no-store"})
    if path.startswith(AGENCIES_PATH):
        reason = _AGENCY_REASONS.get(refused.code) or refused.reason or refused.code.value
        return JSONResponse({"outcome": "refused", "reason": reason, "message": refused.message_en},
                            status_code=refused.status or 400, headers=refused.headers)
    return PlainTextResponse(refused.message_en, status_code=refused.status or 400, headers=refused.headers)
