"""Charges each HTTP operation to its caller's quota, by its cost, before anything runs (called by the cost
budget, `api/graphql/budget.py`, which knows the cost): over the quota nothing executes and the answer is
RATE_LIMITED (the view makes it a 429 with Retry-After). Subscriptions are charged by the socket handler
(api/graphql/socket.py), which answers the refused operation with an error message."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from strawberry.types import ExecutionResult

from core.errors import ErrorCode


async def charge_quota(context: Any, cost: int) -> None:
    """Raises `RateLimited` over the quota; HTTP only (a socket's operations are charged as they start)."""
    quotas, request = getattr(context, "quotas", None), getattr(context, "connection", None)
    if quotas is not None and isinstance(request, Request):
        await quotas.charge_caller(principal=context.principal,
                                   client_host=request.client.host if request.client else None,
                                   cost=max(cost, 1))


def rate_limited(result: ExecutionResult) -> int | None:
    """Seconds for `Retry-After` when the operation was refused by a quota (nothing ran), else None."""
    for error in result.errors or []:
        extensions = error.extensions or {}
        if extensions.get("code") == ErrorCode.RATE_LIMITED.value and error.path is None:
            return int(extensions.get("retryAfter", 1))
    return None
