"""One agency call for identical reads within one GraphQL operation.

Fifteen aliased `me { populationRecord healthInsuranceCard trafficFines birthRegistrations }` used to make
sixty agency calls: every resolver asked the agency again. While an operation runs (`sharing_calls()`, opened
by the GraphQL layer around each operation), an idempotent read (`AgencyClient.get_json` / `lookup`) with the
same service, method, path and arguments as one already made or in flight shares that call's answer, or its
error. Nothing is kept after the operation ends: the next request asks the agency afresh.

The memo lives in a context variable, so every plug-in's reads are shared without the plug-in knowing; the
tasks graphql-core starts for sibling resolvers copy the variable, and so see the same memo.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

CallKey = tuple[str, str, str, str]


class CallMemo:
    """The calls of one operation, by key; open only while the operation runs."""

    def __init__(self) -> None:
        self.calls: dict[CallKey, asyncio.Task[Any]] = {}
        self.open = True

    async def share(self, key: CallKey, call: Callable[[], Awaitable[Any]]) -> Any:
        task = self.calls.get(key)
        if task is None:
            task = asyncio.ensure_future(call())
            task.add_done_callback(_retrieve)
            self.calls[key] = task
        # shielded: one caller cancelled (its field timed out) does not cancel the call the others wait for
        return await asyncio.shield(task)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark the outcome seen, so a failure whose every waiter was cancelled is not logged as never retrieved."""
    if not task.cancelled():
        task.exception()


_MEMO: ContextVar[CallMemo | None] = ContextVar("superapp_agency_calls", default=None)


@contextmanager
def sharing_calls() -> Iterator[CallMemo]:
    """Identical agency reads made inside share one call; a task started inside and still running after
    the block (a background job) no longer shares."""
    memo = CallMemo()
    token = _MEMO.set(memo)
    try:
        yield memo
    finally:
        memo.open = False
        try:
            _MEMO.reset(token)
        except ValueError:  # left in another context (an operation's generator closed elsewhere)
            _MEMO.set(None)


def call_key(service: str, method: str, path: str, arguments: Any) -> CallKey:
    return service, method, path, json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)


async def shared(key: CallKey, call: Callable[[], Awaitable[Any]]) -> Any:
    """`call()`, or the answer of the identical call this operation already made."""
    memo = _MEMO.get()
    if memo is None or not memo.open:
        return await call()
    return await memo.share(key, call)
