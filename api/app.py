"""The ASGI application: `/graphql`, `/healthz` (process up) and `/readyz` (database reachable)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route, WebSocketRoute

from api.auth import TokenVerifier
from api.body_limit import BodyLimit
from api.graphql.persisted import PersistedDocuments
from api.graphql.schema import build_schema
from api.graphql.view import GraphQLView
from core.db import Database
from core.deadlines import HolidayCalendar
from core.settings import Settings
from mobile_contract import manifest

log = logging.getLogger("superapp.app")


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> Starlette:
    """Everything the app needs is built here from `settings`; nothing is created at import time."""
    settings = settings or Settings()
    if settings.is_production and settings.eid_accept_dev_key:
        log.warning("SUPERAPP_EID_ACCEPT_DEV_KEY is on in production: development tokens are trusted")
    database = db or Database.from_url(settings.database_url)
    owns_db = db is None
    persisted = PersistedDocuments(manifest.load(settings.persisted_manifest or manifest.MANIFEST),
                                   persisted_only=bool(settings.persisted_only),
                                   cache_size=settings.apq_cache_size)
    view = GraphQLView(schema=build_schema(settings), settings=settings, db=database,
                       calendar=HolidayCalendar.load(settings.holidays_file), verifier=TokenVerifier(settings),
                       persisted=persisted)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        try:
            async with database.read() as session:
                await session.execute(text("SELECT 1"))
        except Exception:  # any driver error means "not ready"; the log says which
            log.exception("readiness check: database unreachable")
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def home(_: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        if owns_db:
            await database.dispose()

    routes = [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    if settings.graphiql:
        routes.append(Route("/", home))
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(BodyLimit, max_bytes=settings.max_body_bytes)])
    app.state.settings, app.state.db = settings, database
    return app
