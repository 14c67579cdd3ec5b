"""The ASGI application: `/graphql`, `/healthz` (process up), `/readyz` (database reachable, services'
states), `/agencies/{service}/events` (agencies' status callbacks) and `/payments/callback` (the payment
gateway's notifications)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route, WebSocketRoute

from api.agency_announcements import announcements_endpoint
from api.agency_events import events_endpoint
from api.auth import TokenVerifier
from api.body_limit import BodyLimit
from api.body_timeout import BodyTimeout
from api.compression import GzipRequest
from api.graphql.app_gate import AppGate
from api.graphql.persisted import PersistedDocuments
from api.graphql.schema import Schema, build_schema
from api.graphql.view import GraphQLView
from api.keys import jwks_endpoint, verification_ring, verify_endpoint
from api.live import PostgresListener
from api.metrics import metrics_endpoint
from api.payment_callback import callback_endpoint
from api.quota import Quotas
from api.request_id import RequestId
from core import log_format, log_redaction
from core.app_usage import UsageRecorder
from core.app_versions import MinimumVersions
from core.catalogue_merge import merge_service
from core.db import Database, is_outage
from core.deadlines import HolidayCalendar
from core.feature_flags import FlagStore
from core.settings import Settings
from core.storage import storage_for
from mobile_contract import manifest
from mobile_contract.deployment import PluginOperations, operation_names, plugin_operations
from services.forwarder import Forwarder
from services.payments import PaymentPoller
from services.registry import ServiceRegistry, load_registry, precedence
from uploads.agency_links import attachment_endpoint
from uploads.tus import PATH as UPLOADS_PATH
from uploads.tus import TusEndpoint

log = logging.getLogger("superapp.app")


def create_app(settings: Settings | None = None, *, db: Database | None = None,
               agencies: Mapping[str, Mapping[str, Any]] | None = None,
               registry: ServiceRegistry | None = None) -> Starlette:
    """Everything the app needs is built here from `settings`; nothing is created at import time.

    `agencies` overrides per-agency settings by service code (tests point services at their sandboxes);
    `registry` replaces discovery altogether. A plug-in that clashes with another is refused (FAILED) and the
    rest serve.
    """
    settings = settings or Settings()
    log_redaction.install()  # however the app is served, no log line carries an ID number or a token
    log_format.install_request_ids()
    if settings.is_production and settings.auth.eid_accept_dev_key:
        log.warning("SUPERAPP_EID_ACCEPT_DEV_KEY is on in production: development tokens are trusted")
    database = db or Database.from_url(settings.database_url)
    owns_db = db is None
    services = registry or load_registry(settings, overrides=agencies)
    forwarder = Forwarder(db=database, registry=services, poll_seconds=settings.agencies.forward_poll_seconds,
                          max_backoff=settings.agencies.forward_max_backoff_seconds,
                          lease_seconds=settings.agencies.forward_lease_seconds)
    quotas = Quotas.for_app(settings, database)
    usage = UsageRecorder(database, flush_seconds=settings.apps.usage_flush_seconds,
                          max_keys=settings.apps.usage_max_keys)
    ring = verification_ring(settings, services)  # reads the keys: a bad SUPERAPP_SIGNING_KEYS stops start-up
    poller = PaymentPoller(db=database, settings=settings.payments)
    schema = build_schema(settings, services)  # refuses clashing plug-ins on `services` before anything reports
    persisted = PersistedDocuments(trusted_documents(settings, services, schema),
                                   persisted_only=bool(settings.graphql.persisted_only),
                                   cache_size=settings.graphql.apq_cache_size)
    verifier = TokenVerifier(settings)
    storage = storage_for(settings.uploads)
    view = GraphQLView(schema=schema, settings=settings,
                       db=database, calendar=HolidayCalendar.load(settings.holidays_file),
                       verifier=verifier, persisted=persisted, services=services,
                       forwarder=forwarder, quotas=quotas,
                       flags=FlagStore(database, ttl_seconds=settings.agencies.flag_cache_seconds),
                       gate=AppGate(MinimumVersions(database, settings.apps), settings.apps), usage=usage)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        try:
            async with database.read() as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:  # any driver error means "not ready"
            if not is_outage(error):  # an outage is logged once, when it starts, by `database.availability`
                log.exception("readiness check: database unusable")
            return JSONResponse({"status": "unavailable", "database": "unreachable", "services": states()},
                                status_code=503)
        # A failed service degrades the app but does not take it out of rotation: the others serve.
        report = states()
        status = "ok" if all(state == "ready" for state in report.values()) else "degraded"
        body: dict[str, object] = {"status": status, "database": "ok", "services": report}
        if why := failures():
            body["failures"] = why
        return JSONResponse(body)

    def states() -> dict[str, str]:
        return {row.code: row.state.value for row in services.report()}

    def failures() -> dict[str, str]:
        """Why each FAILED service is not serving (settings missing, a clash, not installed)."""
        return {row.code: row.reason for row in services.report() if row.reason is not None}

    async def home(_: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        for code, reason in (await merge_service_catalogue(database, services)).items():
            await services.refuse_at_start(code, reason)
        forwarder.start()
        usage.start()
        poller.start()
        listener = None if settings.is_sqlite else PostgresListener(settings.database_url)
        if listener is not None:
            listener.start()
            app.state.listener = listener
        yield
        if listener is not None:
            await listener.stop()
        await forwarder.stop()
        await usage.stop()  # what was counted since the last flush is written before the database goes
        await poller.stop()
        await services.aclose()
        if owns_db:
            await database.dispose()

    routes = [
        Route("/graphql", view),  # every method: the view answers 405 as a GraphQL body
        WebSocketRoute("/graphql", view),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/.well-known/jwks.json", jwks_endpoint(settings, ring)),
        Route("/verify", verify_endpoint(ring, quotas), methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/metrics", metrics_endpoint(settings)),  # refused in production unless a token is set
        # Every method reaches the endpoint, so a wrong one gets the callback's typed JSON 405 too.
        Route("/agencies/{service}/events",
              events_endpoint(settings=settings, db=database, registry=services, quotas=quotas),
              methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        Route("/agencies/{service}/announcements",
              announcements_endpoint(settings=settings, db=database, registry=services, quotas=quotas),
              methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        # An agency fetches a dossier's attachments by the signed link it was sent (uploads/agency_links.py).
        Route("/agencies/{service}/attachments/{upload_id}",
              attachment_endpoint(settings=settings, db=database, registry=services, storage=storage)),
        Route("/payments/callback", callback_endpoint(settings=settings, db=database),
              methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    ]
    if settings.uploads.enabled:
        routes += TusEndpoint(settings=settings, db=database, verifier=verifier, quotas=quotas,
                              storage=storage).routes()
    if settings.graphql.graphiql:
        routes.append(Route("/", home))
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(RequestId),
                                Middleware(BodyTimeout, seconds=settings.server.body_timeout_seconds,
                                           min_rate_bytes=settings.server.body_min_rate_bytes),
                                # A PATCH of /uploads/ carries one chunk, not a GraphQL document.
                                Middleware(BodyLimit, max_bytes=settings.graphql.max_body_bytes,
                                           paths={f"{UPLOADS_PATH}/": settings.uploads.chunk_bytes}),
                                Middleware(GzipRequest, max_bytes=settings.graphql.max_body_bytes),
                                Middleware(GZipMiddleware, minimum_size=512)])
    app.state.settings, app.state.db = settings, database
    app.state.services, app.state.forwarder, app.state.schema = services, forwarder, schema
    app.state.quotas, app.state.storage = quotas, storage
    app.state.app_usage = usage
    app.state.payment_poller = poller
    return app


def trusted_documents(settings: Settings, services: ServiceRegistry, schema: Schema) -> dict[str, str]:
    """The persisted documents this server runs: its manifest (the app's own operations, or the deployment's
    `SUPERAPP_PERSISTED_MANIFEST`) plus the operations of every plug-in whose fields it serves."""
    manifests = [settings.graphql.persisted_manifest] if settings.graphql.persisted_manifest else None
    documents = manifest.load_all(manifests)
    shipped = admit_plugin_operations(services, schema, taken=operation_names(documents.values()))
    return {**documents, **manifest.build_texts(shipped.documents.values())}


def admit_plugin_operations(services: ServiceRegistry, schema: Schema, *, taken: Iterable[str]) -> PluginOperations:
    """The operations of the plug-ins whose fields `schema` carries, each checked against it; a plug-in with one
    that cannot run (does not validate, misnamed, a name in `taken` or another's) is FAILED with the reason,
    its fields kept (answering AGENCY_UNAVAILABLE), like a plug-in that failed on its settings."""
    shipped = plugin_operations(services.contributions(), schema._schema, taken)
    for code, reason in shipped.refused.items():
        services.refuse(code, reason, keeps_fields=True)
    return shipped


async def merge_service_catalogue(database: Database, services: ServiceRegistry) -> dict[str, str]:
    """Services' own agencies and procedures join the catalogue at start-up (an upsert: restarts change
    nothing), in precedence order; answers the services refused, with why."""

    async def work(session: AsyncSession) -> dict[str, str]:
        refused: dict[str, str] = {}
        for plugin in sorted(services.plugins.values(), key=lambda p: precedence(type(p))):
            if not (plugin.agency or plugin.procedures):
                continue
            reason = await merge_service(session, service=plugin.code, agency=plugin.agency,
                                         procedures=[dict(spec) for spec in plugin.procedures])
            if reason is not None:
                refused[plugin.code] = reason
        return refused

    return await database.transaction(work)
