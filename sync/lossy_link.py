"""A real loopback TCP proxy that cuts connections part-way: the rural 2G link, for device-sim and tests.

Each accepted connection either passes through or is cut after a number of bytes in one direction:
`up` (the request never fully reaches the server) or `down` (the server answered, and committed, but the
answer is lost part-way, possibly inside the gzip stream). Faults come from an explicit plan first, then
at random with probability `loss` (seeded, so a run can be replayed).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    direction: str  # "up" or "down"
    after_bytes: int


class LossyLink:
    def __init__(self, target_host: str, target_port: int, *, loss: float = 0.0, seed: int = 0,
                 max_offset: int = 4000) -> None:
        self.target = (target_host, target_port)
        self.loss, self.random, self.max_offset = loss, random.Random(seed), max_offset
        self.plan: list[Fault | None] = []
        self.cuts = 0
        self.bytes_up = self.bytes_down = 0  # what crossed the link (compressed, as on the air)
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def _next_fault(self) -> Fault | None:
        if self.plan:
            return self.plan.pop(0)
        if self.random.random() < self.loss:
            return Fault(self.random.choice(["up", "down"]), self.random.randrange(0, self.max_offset))
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fault = self._next_fault()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        cut = asyncio.Event()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, direction: str) -> None:
            budget = fault.after_bytes if fault is not None and fault.direction == direction else None
            try:
                while not cut.is_set():
                    chunk = await src.read(65536)
                    if not chunk:
                        break
                    if budget is not None and len(chunk) >= budget:
                        dst.write(chunk[:budget])
                        await dst.drain()
                        self.cuts += 1
                        cut.set()
                        break
                    if budget is not None:
                        budget -= len(chunk)
                    if direction == "up":
                        self.bytes_up += len(chunk)
                    else:
                        self.bytes_down += len(chunk)
                    dst.write(chunk)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                cut.set()
                for w in (writer, up_writer):
                    with contextlib.suppress(Exception):
                        w.close()

        await asyncio.gather(pipe(reader, up_writer, "up"), pipe(up_reader, writer, "down"))
