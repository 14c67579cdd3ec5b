"""The cost budget, enforced once per operation for every transport (HTTP GET and POST, persisted or not, and
each WebSocket operation), after validation and before any resolver runs.

The cost (`api/graphql/cost.py`) is left where the rate limiter reads it: `request.state.graphql_cost` for
HTTP; on a WebSocket, whose context lasts as long as the socket, `websocket.state.graphql_cost` is the cost of
the operation being started and `graphql_cost_total` the sum over the socket's operations. An operation over
the budget is refused with QUERY_TOO_COSTLY, whose `extensions` carry `cost` and `budget`; an answered one
says `extensions.cost = {requested, budget}` when the request asks (`"extensions": {"cost": true}`). The
operation's agency reads are shared
(`services/call_sharing.py`) while it runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from api.graphql.cost import CostModel, operation_cost
from api.graphql.quota_guard import charge_quota
from core.errors import DomainError, ErrorCode
from services.call_sharing import sharing_calls


class QueryTooCostly(DomainError):
    def __init__(self, *, cost: int, budget: int) -> None:
        super().__init__(ErrorCode.QUERY_TOO_COSTLY, cost=cost, budget=budget)


def _record(connection: HTTPConnection | None, cost: int) -> None:
    if connection is None:
        return
    connection.state.graphql_cost = cost
    if isinstance(connection, WebSocket):
        connection.state.graphql_cost_total = getattr(connection.state, "graphql_cost_total", 0) + cost


class CostBudget(SchemaExtension):
    def __init__(self, *, model: CostModel) -> None:
        super().__init__()
        self.model = model
        self.cost: int | None = None

    def on_operation(self) -> Iterator[None]:
        with sharing_calls():
            yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # parsed and validated before execution
        self.cost = operation_cost(context.schema._schema, context.graphql_document,
                                   operation_name=context.operation_name, variables=context.variables,
                                   model=self.model)
        _record(getattr(context.context, "connection", None), self.cost)
        # Charged before the budget refuses, at most the budget: a flood of documents over the budget spends
        # the caller's quota like the most expensive document it may run, so it ends in RATE_LIMITED too.
        await charge_quota(context.context, min(self.cost, self.model.budget))
        if self.cost > self.model.budget:
            raise QueryTooCostly(cost=self.cost, budget=self.model.budget)
        yield

    def get_results(self) -> dict[str, Any]:
        """Only for a request that asks (`"extensions": {"cost": true}`): other answers stay byte for byte
        what they were, for clients that compare them and for 2G links."""
        asked = (self.execution_context.operation_extensions or {}).get("cost") is True
        if not asked or self.cost is None or self.cost > self.model.budget:
            return {}
        return {"cost": {"requested": self.cost, "budget": self.model.budget}}
