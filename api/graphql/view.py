"""The HTTP/WebSocket view: context from the bearer token and Accept-Language, GraphQL-over-HTTP status
codes and media types, persisted documents, and HTTP caching of public persisted queries. Whatever is wrong
with a request, the answer is a GraphQL body with a code (`api/refusal.py`), never Strawberry's plain text."""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, cast

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from cross_web.request._starlette import StarletteRequestAdapter
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from api.auth import AuthError, Principal, TokenVerifier, bearer_token
from api.client_app import NAME_HEADER, VERSION_HEADER, ClientApp, client_app
from api.graphql import request_metrics
from api.graphql.app_gate import UPDATE_REQUIRED_CLOSE, AppGate
from api.graphql.context import Context
from api.graphql.errors import shape
from api.graphql.loaders import Loaders
from api.graphql.outage import unavailable_everywhere
from api.graphql.persisted import Lookup, PersistedDocumentError, PersistedDocuments
from api.graphql.quota_guard import rate_limited
from api.graphql.request_checks import RequestFields, check, read_fields
from api.graphql.socket import SocketRejected, TrustedSocketHandler
from api.graphql.socket_caps import TOO_MANY, TOO_MANY_REASON, Slot, SocketCaps
from api.quota import Quotas
from api.refusal import GRAPHQL_RESPONSE, JSON, RequestRefused, graphql_refusal, preferred_locale
from core.app_usage import UsageRecorder
from core.clock import local_date, utc_now
from core.db import Database
from core.deadlines import HolidayCalendar
from core.errors import ErrorCode
from core.feature_flags import FlagStore
from core.json_body import loads
from core.settings import Settings
from mobile_contract.manifest import document_hash
from services.forwarder import Forwarder
from services.registry import ServiceRegistry

_ACCEPTABLE = (GRAPHQL_RESPONSE, JSON, "application/*", "*/*", "text/html")
# The socket being served in this task: `on_ws_connect` counts its citizen against the cap.
_socket_slot: ContextVar[Slot | None] = ContextVar("socket_slot", default=None)


def _audit_failed(result: ExecutionResult) -> bool:
    return any((e.extensions or {}).get("code") == ErrorCode.AUDIT_UNAVAILABLE for e in result.errors or [])


class _RequestAdapter(StarletteRequestAdapter):
    """Exposes the Starlette request, where `run` left what it learned about persisted documents."""

    @property
    def request(self) -> Request:
        return self._request


class GraphQLView(GraphQL[Context, None]):
    request_adapter_class = _RequestAdapter
    graphql_transport_ws_handler_class = TrustedSocketHandler

    def __init__(self, *, schema: object, settings: Settings, db: Database, calendar: HolidayCalendar,
                 verifier: TokenVerifier, persisted: PersistedDocuments, services: ServiceRegistry,
                 forwarder: Forwarder | None, quotas: Quotas | None = None, flags: FlagStore | None = None,
                 gate: AppGate | None = None, usage: UsageRecorder | None = None) -> None:
        super().__init__(
            schema,  # type: ignore[arg-type]
            graphql_ide="graphiql" if settings.graphql.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
            # One socket protocol, guarded by the trusted-documents rule (api/graphql/socket.py); the
            # legacy `graphql-ws` (subscriptions-transport-ws) is unmaintained and would need its own guard.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.settings, self.db, self.calendar, self.verifier = settings, db, calendar, verifier
        self.persisted = persisted
        server = settings.server
        # graphql-transport-ws: a socket that sends no `connection_init` in time is closed with 4408.
        self.connection_init_wait_timeout = timedelta(seconds=server.ws_init_timeout_seconds)
        self.sockets = SocketCaps(per_ip=server.ws_max_per_ip, per_citizen=server.ws_max_per_citizen)
        self.services, self.forwarder, self.quotas = services, forwarder, quotas
        self.flags = flags
        self.gate, self.usage = gate, usage

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws: a token in the `connection_init` payload (`Authorization` or
        `authToken`) overrides the handshake's header. A bad token, in either place, closes the socket
        with 4403 and the reason (`TOKEN_EXPIRED`, ...) as close reason; no token at all is accepted, and
        a subscription then answers `UNAUTHENTICATED` (`MISSING_TOKEN`). An app below its platform's minimum
        (from the handshake's client-awareness headers, or the payload's keys of the same names) closes with
        4426 and reason `APP_UPDATE_REQUIRED`, before the token is looked at."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        if NAME_HEADER in params or VERSION_HEADER in params:
            context.client_app = client_app({k: str(params.get(k) or "") for k in (NAME_HEADER, VERSION_HEADER)})
        if self.gate is not None and await self.gate.refusal(context.client_app) is not None:
            raise SocketRejected(ErrorCode.APP_UPDATE_REQUIRED.value, code=UPDATE_REQUIRED_CLOSE)
        raw = params.get("Authorization") or params.get("authorization")
        if raw is None and isinstance(params.get("authToken"), str):
            raw = f"Bearer {params['authToken']}"
        if raw is None:
            if context.auth_error is not None:
                raise SocketRejected(context.auth_error.reason)
            self._count_citizen(context)  # signed in by the handshake's header
            return cast(UnsetType, UNSET)
        principal, error = self._authenticate(str(raw))
        if error is not None or principal is None:
            raise SocketRejected(error.reason if error else "MALFORMED_HEADER")
        context.principal, context.auth_error = principal, None
        self._count_citizen(context)
        return cast(UnsetType, UNSET)

    def _count_citizen(self, context: Context) -> None:
        """Over SUPERAPP_WS_MAX_PER_CITIZEN open sockets, this one closes with 4429."""
        slot = _socket_slot.get()
        if context.principal is not None and slot is not None \
                and not slot.claim_citizen(context.principal.id_number):
            raise SocketRejected(TOO_MANY_REASON, code=TOO_MANY)

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
            services=self.services, forwarder=self.forwarder, quotas=self.quotas, connection=request,
            flags=self.flags,
            client_app=client_app(request.headers),
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        accept = request.headers.get("accept", "")
        sub_response = await super().get_sub_response(request)
        if GRAPHQL_RESPONSE in accept:
            sub_response.media_type = GRAPHQL_RESPONSE
        request.state.sub_response = sub_response
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """A request error (parse, validation, variables) has no `data`, and is a 400 under the
        `application/graphql-response+json` media type; `application/json` clients keep the legacy 200.
        When every root field failed because the database is down, the answer is a 503 with Retry-After; over
        a quota (nothing ran), a 429 with Retry-After and no `data`, under either media type."""
        if result.errors:
            # Parse errors skip the schema extensions, so they are shaped here.
            locale = preferred_locale(request.headers.get("accept-language"))
            result.errors = [e if (e.extensions or {}).get("code") else shape(e, locale)
                             for e in result.errors]
        response = await super().process_result(request, result)
        request_error = result.data is None and bool(result.errors) and all(
            e.path is None for e in result.errors or []
        )
        sub_response: Response = request.state.sub_response
        retry_after = unavailable_everywhere(result)
        if (limited := rate_limited(result)) is not None:
            response.pop("data", None)
            sub_response.status_code = 429
            sub_response.headers["retry-after"] = str(limited)
        elif _audit_failed(result):  # the data was withheld (api/graphql/personal.py): a server fault, not the client's
            response.pop("data", None)
            sub_response.status_code = 503
        elif request_error and retry_after is None:
            response.pop("data", None)
            if sub_response.media_type == GRAPHQL_RESPONSE:
                sub_response.status_code = 400
        elif retry_after is not None:  # also when the audit row could not be written for an outage
            sub_response.status_code = 503
            sub_response.headers["retry-after"] = str(retry_after)
        self._count(request, result)
        return response

    @staticmethod
    def _count(request: Request, result: ExecutionResult) -> None:
        fields: RequestFields | None = getattr(request.state, "fields", None)
        lookup: Lookup | None = getattr(request.state, "lookup", None)
        operation = request_metrics.operation_label(lookup.text if lookup else None,
                                                     bool(lookup and lookup.persisted),
                                                     fields.operation_name if fields else None)
        outcome = "refused" if result.data is None and result.errors else "errors" if result.errors else "ok"
        request_metrics.count(operation, outcome, [(e.extensions or {}).get("code") for e in result.errors or []])

    def create_response(self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
                        sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type:
            response.headers["content-type"] = f"{sub_response.media_type}; charset=utf-8"
        return response

    def encode_json(self, data: object) -> str:
        """UTF-8 as is: Vietnamese escaped as \\uXXXX costs two to three times the bytes on a 2G link. An
        answer that echoes a lone surrogate the client sent (a sync mutation's id, refused) is escaped instead,
        since UTF-8 cannot carry it; the client reads back exactly the string it sent."""
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
        return text

    def decode_json(self, data: str | bytes) -> object:
        """WebSocket messages and anything else Strawberry parses: the one bounded parser (a refusal is a
        JSONDecodeError, which the socket answers by closing with 4400)."""
        return loads(data)

    async def run(self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if not isinstance(request, Request):
            return await self._run_socket(request, context, root_value)
        try:
            return await self._run_http(request, context, root_value)
        except RequestRefused as refused:
            request_metrics.count(request_metrics.ADHOC, "refused", [refused.code.value])
            return graphql_refusal(request.headers, refused)
        except HTTPException as error:  # anything Strawberry still refuses on its own
            other = RequestRefused(error.status_code, ErrorCode.BAD_REQUEST, detail=error.reason)
            request_metrics.count(request_metrics.ADHOC, "refused", [other.code.value])
            return graphql_refusal(request.headers, other)

    async def _run_socket(self, websocket: WebSocket, context: Any, root_value: Any) -> Any:
        """Over SUPERAPP_WS_MAX_PER_IP open sockets from one address, a new one is closed with 4429."""
        slot = self.sockets.open(websocket.client.host if websocket.client else "unknown")
        if slot is None:
            requested = websocket.scope.get("subprotocols", [])
            if GRAPHQL_TRANSPORT_WS_PROTOCOL in requested:  # accepted, so the client reads the close code
                await websocket.accept(subprotocol=GRAPHQL_TRANSPORT_WS_PROTOCOL)
            await websocket.close(code=TOO_MANY, reason=TOO_MANY_REASON)
            return websocket
        token = _socket_slot.set(slot)
        try:
            return await super().run(websocket, context, root_value)
        finally:
            _socket_slot.reset(token)
            slot.release()

    async def _run_http(self, request: Request, context: Any, root_value: Any) -> Response:
        """Every way a request can be wrong is refused here, before Strawberry sees it."""
        if request.method not in ("GET", "POST"):
            raise RequestRefused(405, ErrorCode.METHOD_NOT_ALLOWED, headers={"allow": "GET, POST"})
        accept = request.headers.get("accept", "")
        if accept and not any(t in accept for t in _ACCEPTABLE):
            raise RequestRefused(406, ErrorCode.NOT_ACCEPTABLE)
        if self.graphql_ide and self.should_render_graphql_ide(self.request_adapter_class(request)):
            return await self.render_graphql_ide(request)
        app = client_app(request.headers)
        await self._admit(app)
        fields = await read_fields(request)
        try:
            lookup = self.persisted.resolve(query=fields.query, extensions=fields.extensions,
                                            document_id=fields.document_id)
        except PersistedDocumentError as error:
            raise RequestRefused(None, error.code) from error
        if lookup.text:
            check(fields, lookup.text, request.method)
            self.record_usage(app, lookup.text, fields.operation_name)
        request.state.fields, request.state.lookup = fields, lookup
        response: Response = await super().run(request, context, root_value)
        return self._cacheable(request, lookup, response)

    async def _admit(self, app: ClientApp | None) -> None:
        """APP_UPDATE_REQUIRED, a request error (nothing parsed or run), for an app below its minimum."""
        refusal = await self.gate.refusal(app) if self.gate is not None else None
        if refusal is not None:
            vi, en = refusal.messages()
            raise RequestRefused(None, ErrorCode.APP_UPDATE_REQUIRED, vi=vi, en=en, extensions=refusal.extensions)

    def record_usage(self, app: ClientApp | None, text: str, operation_name: object) -> None:
        """Counts a trusted document sent by a known app (core/app_usage.py); anything else is not counted:
        an unknown app is no version, and an ad-hoc document is no part of any release."""
        if app is None or self.usage is None:
            return
        digest = document_hash(text)
        if not self.persisted.is_trusted(digest):
            return
        name = request_metrics.operation_label(text, True, operation_name if isinstance(operation_name, str) else None)
        self.usage.record(app_name=app.name, platform=app.platform, version=app.version_text,
                          operation_hash=digest, operation_name=None if name == request_metrics.ADHOC else name[:128])

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """A GET carrying a persisted document is an operation, not a visit to GraphiQL."""
        persisted = any(request.query_params.get(k) is not None for k in ("documentId", "extensions"))
        return not persisted and super().should_render_graphql_ide(request)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The fields `run` already read and checked (the body is parsed once), with the persisted text."""
        assert isinstance(request, _RequestAdapter)
        fields: RequestFields = request.request.state.fields
        lookup: Lookup = request.request.state.lookup
        return GraphQLRequestData(query=lookup.text, variables=fields.variables,
                                  operation_name=fields.operation_name, extensions=fields.extensions,
                                  protocol="http")

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
                   # the directory's flags depend on the calling app, and a shared cache must not hand a current
                   # app's answer to an app below the minimum (api/client_app.py)
                   "vary": f"Accept, Accept-Language, {NAME_HEADER}, {VERSION_HEADER}"}
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        response.headers.update(headers)
        return response
