"""The WebSocket transport (graphql-transport-ws): the same trusted-documents rule as HTTP, subscriptions
only, and authentication failures that say why.

A socket is for live updates; queries and mutations go over HTTP, where persisted GETs are cacheable and
the GraphQL-over-HTTP status codes apply. So a `subscribe` message is first resolved exactly like an HTTP
request (`PersistedDocuments.resolve`: in persisted-only mode nothing but a manifest document runs), then
refused with `SUBSCRIPTIONS_ONLY` unless it is a subscription, then charged to the caller's quota
(`RATE_LIMITED` for that operation over it, the socket stays open). A rejected `connection_init` closes the
socket with 4403 and the reason (`TOKEN_EXPIRED`, `BAD_SIGNATURE`, ...) as the close reason, so the app
can tell "refresh the token" from "sign in again".
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from api.client_app import ClientApp
from api.graphql.context import Context
from api.graphql.cost import operation_cost
from api.graphql.persisted import PersistedDocumentError, PersistedDocuments
from api.quota import Quotas, RateLimited
from core.errors import ErrorCode, render

FORBIDDEN = 4403


class SocketRejected(Exception):
    """Raised by the view's `on_ws_connect`: the socket closes with `code` (4403 by default; 4429 over a
    connection cap) and `reason` as close reason."""

    def __init__(self, reason: str, *, code: int = FORBIDDEN) -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code


class _TrustedView(Protocol):
    persisted: PersistedDocuments
    quotas: Quotas | None

    def record_usage(self, app: ClientApp | None, text: str, operation_name: object) -> None: ...


def _operation_type(text: str, operation_name: object) -> OperationType | None:
    """None when the text does not parse or names no single operation: Strawberry closes with 4400 then."""
    try:
        document = parse(text)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name if isinstance(operation_name, str) else None)
    return operation.operation if operation is not None else None


def _subscription_cost(schema: Any, text: str, payload: dict[str, Any]) -> int:
    """What the quota charges for a subscription: its cost by the budget's model (computed again by the
    budget when it starts; 1 when the text does not parse, which Strawberry then refuses)."""
    variables, name = payload.get("variables"), payload.get("operationName")
    try:
        cost = operation_cost(schema._schema, parse(text), operation_name=name if isinstance(name, str) else None,
                              variables=variables if isinstance(variables, dict) else None, model=schema.cost_model)
    except GraphQLError:
        return 1
    return max(cost, 1)


class TrustedSocketHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except SocketRejected as rejected:
            await self.websocket.close(code=rejected.code, reason=rejected.reason)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload: Any = message.get("payload")
        if not self.connection_acknowledged or not isinstance(payload, dict) or message["id"] in self.operations:
            await super().handle_subscribe(message)  # protocol errors: Strawberry closes the socket
            return
        persisted = cast(_TrustedView, self.view).persisted
        try:
            lookup = persisted.resolve(query=payload.get("query"), extensions=payload.get("extensions"),
                                       document_id=payload.get("documentId"))
        except PersistedDocumentError as error:
            await self._refuse(message["id"], error.code, error.wire_message)
            return
        if lookup.text is None:
            await super().handle_subscribe(message)  # no document at all: a malformed message (4400)
            return
        kind = _operation_type(lookup.text, payload.get("operationName"))
        if kind is not None and kind is not OperationType.SUBSCRIPTION:
            await self._refuse(message["id"], ErrorCode.SUBSCRIPTIONS_ONLY)
            return
        cast(_TrustedView, self.view).record_usage(self.context.client_app, lookup.text, payload.get("operationName"))
        quotas = cast(_TrustedView, self.view).quotas
        if quotas is not None:
            client = self.context.connection.client if self.context.connection is not None else None
            try:
                cost = _subscription_cost(self.schema, lookup.text, payload)
                await quotas.charge_caller(principal=self.context.principal, cost=cost,
                                           client_host=client.host if client else None)
            except RateLimited as limited:
                await self._refuse(message["id"], ErrorCode.RATE_LIMITED, retry_after=limited.retry_after)
                return
        await super().handle_subscribe(cast(SubscribeMessage, {**message, "payload": {**payload,
                                                                                      "query": lookup.text}}))

    async def _refuse(self, operation_id: str, code: ErrorCode, wire_message: str | None = None,
                      retry_after: int | None = None) -> None:
        """graphql-transport-ws `error` for this operation: a typed error, nothing executed; the socket stays."""
        vi, en = render(code, {"retry_after": retry_after})
        message = wire_message or (en if self.context.locale == "en" else vi)
        extensions: dict[str, object] = {"code": code.value, "messageVi": vi, "messageEn": en}
        if retry_after is not None:
            extensions["retryAfter"] = retry_after
        await self.send_message({"id": operation_id, "type": "error", "payload": [
            {"message": message, "extensions": extensions}]})
