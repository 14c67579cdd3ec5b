"""Live status changes for online clients: announced in the status change's transaction, heard after commit.

On PostgreSQL the announcement is `pg_notify` inside the transaction, so it is delivered to every server
process's `LISTEN` only if and when the transaction commits. On SQLite (one process) it waits in the
session until commit and then goes to this process's listeners. Either way subscribers hear a change only
after it is durable, and never one that was rolled back. Payloads carry ids and statuses, no personal data.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import dialect_of

CHANNEL = "superapp_dossier_status"
_PENDING = "superapp_live_pending"

Listener = Callable[["StatusChange"], None]


@dataclass(frozen=True)
class StatusChange:
    citizen_id: int
    dossier_id: int
    dossier_code: str
    status: str
    event_id: int
    occurred_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> StatusChange:
        data: dict[str, Any] = json.loads(raw)
        return cls(**data)


class Hub:
    """This process's subscribers; `publish` is safe from any thread or event loop."""

    def __init__(self) -> None:
        self._listeners: dict[int, tuple[asyncio.AbstractEventLoop, Listener]] = {}
        self._next = 0

    def subscribe(self, listener: Listener) -> int:
        self._next += 1
        self._listeners[self._next] = (asyncio.get_running_loop(), listener)
        return self._next

    def unsubscribe(self, key: int) -> None:
        self._listeners.pop(key, None)

    def publish(self, change: StatusChange) -> None:
        for loop, listener in list(self._listeners.values()):
            if not loop.is_closed():
                loop.call_soon_threadsafe(listener, change)

    @property
    def size(self) -> int:
        return len(self._listeners)


HUB = Hub()


async def announce(session: AsyncSession, change: StatusChange) -> None:
    """Make `change` heard when (and only if) the session's transaction commits."""
    if dialect_of(session) == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, :payload)"),
                              {"channel": CHANNEL, "payload": change.to_json()})
        return
    pending: list[StatusChange] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        sync_session = session.sync_session

        def _after_commit(_: Any) -> None:
            for item in session.info.pop(_PENDING, []):
                HUB.publish(item)

        def _after_rollback(_: Any) -> None:
            session.info.pop(_PENDING, None)

        event.listen(sync_session, "after_commit", _after_commit, once=True)
        event.listen(sync_session, "after_rollback", _after_rollback, once=True)
    pending.append(change)
