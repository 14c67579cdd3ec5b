"""The HTTP/WebSocket view: builds the per-request context from the bearer token and Accept-Language."""

from __future__ import annotations

import json

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from api.auth import AuthError, Principal, TokenVerifier, bearer_token
from api.graphql.context import Context
from api.graphql.errors import shape
from api.graphql.loaders import Loaders
from core.clock import local_date, utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
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


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, *, schema: object, settings: Settings, db: Database, calendar: HolidayCalendar,
                 verifier: TokenVerifier, services: ServiceRegistry, forwarder: Forwarder | None) -> None:
        super().__init__(
            schema,  # type: ignore[arg-type]
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.settings, self.db, self.calendar, self.verifier = settings, db, calendar, verifier
        self.services, self.forwarder = services, forwarder

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
