"""The HTTP/WebSocket view: builds the per-request context from the bearer token and Accept-Language."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.auth import AuthError, Principal, TokenVerifier, bearer_token
from api.graphql.context import Context
from api.graphql.loaders import Loaders
from core.clock import local_date, utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
from core.settings import Settings


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
                 verifier: TokenVerifier) -> None:
        super().__init__(
            schema,  # type: ignore[arg-type]
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.settings, self.db, self.calendar, self.verifier = settings, db, calendar, verifier

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
        )
