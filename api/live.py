"""Fan-out of live status changes across server processes: PostgreSQL LISTEN feeds this process's hub.

Status changes are `pg_notify`-ed inside their transaction (`core.live`), so every server process that
listens here hears each committed change once and hands it to its own subscribers. On SQLite there is one
process and `core.live` publishes to the hub directly, so there is nothing to listen to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from core.live import CHANNEL, HUB, StatusChange

log = logging.getLogger("superapp.live")
RECONNECT_SECONDS = 1.0


def _dsn(database_url: str) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresListener:
    """One LISTEN connection per process, reconnected when it drops."""

    def __init__(self, database_url: str) -> None:
        self._dsn = _dsn(database_url)
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="superapp-listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @staticmethod
    def _heard(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            HUB.publish(StatusChange.from_json(payload))
        except (ValueError, TypeError):
            log.warning("ignored a malformed status notification")

    async def _run(self) -> None:
        failing = False  # warn once per outage, not once per reconnection attempt
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(self._dsn)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _c, event=lost: event.set())
                await connection.add_listener(CHANNEL, self._heard)
                if failing:
                    log.info("LISTEN connection back")
                failing = False
                self.ready.set()
                await lost.wait()
            except (OSError, asyncpg.PostgresError) as error:
                if not failing:
                    log.warning("LISTEN connection lost (%s); reconnecting", type(error).__name__)
                failing = True
            finally:
                self.ready.clear()
                if connection is not None and not connection.is_closed():
                    await connection.close()
            await asyncio.sleep(RECONNECT_SECONDS)
