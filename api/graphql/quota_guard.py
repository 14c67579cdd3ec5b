"""Charges each HTTP operation to its caller's quota after validation (so the cost budget's figure, set on
the request before execution, is known) and before anything runs: over the quota, nothing executes and the
answer is RATE_LIMITED (the view makes it a 429 with Retry-After). Subscriptions are charged by the socket
handler (api/graphql/socket.py), which answers the refused operation with an error message."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from api.quota import operation_cost
from core.errors import ErrorCode


class QuotaGuard(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        quotas, request = getattr(context, "quotas", None), getattr(context, "connection", None)
        if quotas is not None and isinstance(request, Request):
            await quotas.charge_caller(principal=context.principal,
                                       client_host=request.client.host if request.client else None,
                                       cost=operation_cost(request))
        yield


def rate_limited(result: ExecutionResult) -> int | None:
    """Seconds for `Retry-After` when the operation was refused by a quota (nothing ran), else None."""
    for error in result.errors or []:
        extensions = error.extensions or {}
        if extensions.get("code") == ErrorCode.RATE_LIMITED.value and error.path is None:
            return int(extensions.get("retryAfter", 1))
    return None
