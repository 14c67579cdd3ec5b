"""Background loops (the forwarder, the payment poller) stop between rounds, not in the middle of one.

Cancelling a round in the middle of a transaction hands its database connection to the garbage collector
(SQLAlchemy then logs a traceback) and, for the forwarder, throws away an agency's answer it already has.
So shutdown asks the loop to stop, lets the round in progress finish, and cancels only a round that is still
running after a grace period (a leased job left behind is taken again after its lease, as after a crash).
"""

from __future__ import annotations

import asyncio
import contextlib

GRACE_SECONDS = 10.0


async def pause(stopping: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
    """Waits `seconds`, or until asked to stop (or woken)."""
    events = [stopping] + ([wake] if wake is not None else [])
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def stop_between_rounds(task: asyncio.Task[None] | None, stopping: asyncio.Event,
                              grace_seconds: float = GRACE_SECONDS) -> None:
    if task is None:
        return
    stopping.set()
    done, _ = await asyncio.wait({task}, timeout=grace_seconds)
    if not done:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class RoundLoop:
    """A loop of rounds in a background task, started with the app and stopped between rounds."""

    task_name = "superapp-loop"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._stopping.clear()  # an app served again (tests) starts its loop again
        self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        """After the round in progress, within the grace (GRACE_SECONDS)."""
        await stop_between_rounds(self._task, self._stopping)
        self._task = None

    async def _run(self) -> None:
        raise NotImplementedError
