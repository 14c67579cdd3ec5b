"""A throw-away server for `superapp device-sim` and `bench/sync.py`: a fresh SQLite database in a temporary
directory, migrated and seeded, served by uvicorn on a free loopback port in a background thread."""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from api.app import create_app
from core.db import Database
from core.deadlines import HolidayCalendar
from core.migrate import upgrade
from core.seed import seed
from core.settings import Environment, Settings


@contextmanager
def standalone_server(services: str = "*") -> Iterator[tuple[str, Settings]]:
    """Yields (base URL, settings). No agency sandbox runs: submitted dossiers wait in the forward queue."""
    with tempfile.TemporaryDirectory(prefix="superapp-") as tmp:
        settings = Settings(env=Environment.TEST, data_dir=Path(tmp), agencies={"services": services},
                            database_url=f"sqlite+aiosqlite:///{tmp}/sim.db")
        upgrade(settings.database_url)

        async def prepare() -> None:
            db = Database.from_url(settings.database_url)
            await seed(db, calendar=HolidayCalendar.load(settings.holidays_file), tz_name=settings.timezone)
            await db.dispose()

        asyncio.run(prepare())
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}", settings
        finally:
            server.should_exit = True
            thread.join(timeout=10)
