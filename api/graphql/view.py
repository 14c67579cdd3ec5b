"""The HTTP/WebSocket view: context from the bearer token and Accept-Language, GraphQL-over-HTTP status
codes and media types, persisted documents, and HTTP caching of public persisted queries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any, cast

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from cross_web.request._starlette import StarletteRequestAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from api.auth import AuthError, Principal, TokenVerifier, bearer_token
from api.graphql.context import Context
from api.graphql.errors import BAD_USER_INPUT, VALIDATION_FAILED, shape
from api.graphql.loaders import Loaders
from api.graphql.persisted import Lookup, PersistedDocumentError, PersistedDocuments
from api.graphql.request_checks import problem, read_fields
from core.clock import local_date, utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
from core.errors import render
from core.settings import Settings
from services.forwarder import Forwarder
from services.registry import ServiceRegistry

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_ACCEPTABLE = (GRAPHQL_RESPONSE, JSON, "application/*", "*/*", "text/html")


def preferred_locale(accept_language: str | None) -> str:
    """`en` when the client prefers English, otherwise Vietnamese."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("vi"):
            return "vi"
    return "vi"


class _RequestAdapter(StarletteRequestAdapter):
    """Exposes the Starlette request, where `run` left what it learned about persisted documents."""

    @property
    def request(self) -> Request:
        return self._request


class GraphQLView(GraphQL[Context, None]):
    request_adapter_class = _RequestAdapter

    def __init__(self, *, schema: object, settings: Settings, db: Database, calendar: HolidayCalendar,
                 verifier: TokenVerifier, persisted: PersistedDocuments, services: ServiceRegistry,
                 forwarder: Forwarder | None) -> None:
        super().__init__(
            schema,  # type: ignore[arg-type]
            graphql_ide="graphiql" if settings.graphql.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.settings, self.db, self.calendar, self.verifier = settings, db, calendar, verifier
        self.persisted = persisted
        self.services, self.forwarder = services, forwarder

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws: a token in the `connection_init` payload (`Authorization` or
        `authToken`) overrides the handshake's header; a bad one closes the socket (4403)."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        raw = params.get("Authorization") or params.get("authorization")
        if raw is None and isinstance(params.get("authToken"), str):
            raw = f"Bearer {params['authToken']}"
        if raw is None:
            return cast(UnsetType, UNSET)
        principal, error = self._authenticate(str(raw))
        if error is not None or principal is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED",
                                            "reason": error.reason if error else "MALFORMED_HEADER"})
        context.principal, context.auth_error = principal, None
        return cast(UnsetType, UNSET)

    def _authenticate(self, authorization: str | None) -> tuple[Principal | None, AuthError | None]:
        try:
            token = bearer_token(authorization)
            return (self.verifier.verify(token), None) if token else (None, None)
        except AuthError as error:
            return None, error

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        principal, auth_error = self._authenticate(request.headers.get("authorization"))
        return Context(
            settings=self.settings, db=self.db, calendar=self.calendar,
            today=local_date(utc_now(), self.settings.timezone),
            locale=preferred_locale(request.headers.get("accept-language")),
            principal=principal, auth_error=auth_error, loaders=Loaders.create(self.db),
            services=self.services, forwarder=self.forwarder,
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """Content negotiation (GraphQL over HTTP): answer 406 to an Accept we cannot satisfy."""
        accept = request.headers.get("accept", "")
        if isinstance(request, Request) and accept and not any(t in accept for t in _ACCEPTABLE):
            raise HTTPException(406, f"Acceptable media types: {GRAPHQL_RESPONSE}, {JSON}")
        sub_response = await super().get_sub_response(request)
        if GRAPHQL_RESPONSE in accept:
            sub_response.media_type = GRAPHQL_RESPONSE
        request.state.sub_response = sub_response
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """A request error (parse, validation, variables) has no `data`, and is a 400 under the
        `application/graphql-response+json` media type; `application/json` clients keep the legacy 200."""
        if result.errors:
            # Parse errors skip the schema extensions, so they are shaped here.
            locale = preferred_locale(request.headers.get("accept-language"))
            result.errors = [e if (e.extensions or {}).get("code") else shape(e, locale)
                             for e in result.errors]
        response = await super().process_result(request, result)
        request_error = result.data is None and bool(result.errors) and all(
            e.path is None for e in result.errors or []
        )
        if request_error:
            response.pop("data", None)
            sub_response: Response = request.state.sub_response
            if sub_response.media_type == GRAPHQL_RESPONSE:
                sub_response.status_code = 400
        return response

    def create_response(self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
                        sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type:
            response.headers["content-type"] = f"{sub_response.media_type}; charset=utf-8"
        return response

    def encode_json(self, data: object) -> str:
        """UTF-8 as is: Vietnamese escaped as \\uXXXX costs two to three times the bytes on a 2G link."""
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    async def run(self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if not isinstance(request, Request) or request.method not in ("GET", "POST"):
            return await super().run(request, context, root_value)
        fields = await read_fields(request)
        try:
            lookup = self.persisted.resolve(query=fields.query, extensions=fields.extensions,
                                            document_id=fields.document_id)
        except PersistedDocumentError as error:
            vi, en = render(error.code, {})
            return self._request_error(request, error.code.value, vi, en)
        found = problem(fields, lookup.text, request.method) if lookup.text else None
        if found is not None and found.status == 405:
            return Response(found.message_en, status_code=405, headers={"allow": "POST"}, media_type="text/plain")
        if found is not None:
            code = BAD_USER_INPUT if "NUL" in found.message_en else VALIDATION_FAILED
            return self._request_error(request, code, found.message_vi, found.message_en)
        request.state.lookup = lookup
        response = await super().run(request, context, root_value)
        return self._cacheable(request, lookup, response)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """A GET carrying a persisted document is an operation, not a visit to GraphiQL."""
        persisted = any(request.query_params.get(k) is not None for k in ("documentId", "extensions"))
        return not persisted and super().should_render_graphql_ide(request)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        lookup: Lookup | None = getattr(request.request.state, "lookup", None) \
            if isinstance(request, _RequestAdapter) else None
        if isinstance(data, GraphQLRequestData) and lookup is not None and lookup.text is not None:
            return replace(data, query=lookup.text)
        return data

    def parse_json(self, data: str | bytes) -> Any:
        """A JSON body must be an object (or a batch, which is refused later), never a bare scalar."""
        value = super().parse_json(data)
        if not isinstance(value, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return value

    def _request_error(self, request: Request, code: str, vi: str, en: str) -> Response:
        """A GraphQL request error answered before execution: no `data`; 400 under graphql-response+json."""
        locale = preferred_locale(request.headers.get("accept-language"))
        body = {"errors": [{"message": en if locale == "en" else vi,
                            "extensions": {"code": code, "messageVi": vi, "messageEn": en}}]}
        accept = request.headers.get("accept", "")
        media = GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else JSON
        return JSONResponse(body, status_code=400 if media == GRAPHQL_RESPONSE else 200, media_type=media)

    def _cacheable(self, request: Request, lookup: Lookup, response: Response) -> Response:
        """Public persisted GETs get an ETag and Cache-Control, and a 304 when the client has them."""
        body = getattr(response, "body", None)
        cacheable = (lookup.public and request.method == "GET" and response.status_code == 200
                     and "authorization" not in request.headers and isinstance(body, bytes)
                     and b'"errors"' not in body)
        if not cacheable:
            response.headers.setdefault("cache-control", "no-store")
            return response
        assert isinstance(body, bytes)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"etag": etag, "cache-control": f"public, max-age={self.settings.graphql.public_cache_max_age}",
                   "vary": "Accept, Accept-Language"}
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        response.headers.update(headers)
        return response
