"""Per-request context: who is asking, in which language, and the request's DataLoaders."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

import strawberry
from starlette.requests import HTTPConnection

from api.auth import AuthError, Principal
from api.client_app import ClientApp
from api.graphql.loaders import Loaders
from api.quota import Quotas
from core.citizens import Profile, citizen_by_id_number, citizen_profile, enrol_citizen
from core.db import Database
from core.deadlines import HolidayCalendar
from core.errors import DomainError, ErrorCode
from core.feature_flags import FlagStore
from core.models import Citizen
from core.settings import Settings
from services.forwarder import Forwarder
from services.registry import ServicePlugin, ServiceRegistry


class Unauthenticated(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(ErrorCode.UNAUTHENTICATED)
        self.reason = reason


@dataclass
class Context:
    settings: Settings
    db: Database
    calendar: HolidayCalendar
    today: date
    locale: str
    principal: Principal | None
    auth_error: AuthError | None
    loaders: Loaders
    services: ServiceRegistry
    forwarder: Forwarder | None = None
    connection_params: dict[str, object] | None = None
    # The request or WebSocket: the cost budget leaves each operation's cost on its `state` (api/graphql/budget.py).
    connection: HTTPConnection | None = None
    quotas: Quotas | None = None  # charged by the cost budget (HTTP) and the socket handler (subscriptions)
    flags: FlagStore | None = None  # feature flags of the service directory (core/feature_flags.py)
    # The calling app from the client-awareness headers (api/client_app.py); None: an unknown app. On a socket,
    # the upgrade request's headers, or the `connection_init` payload's keys of the same names.
    client_app: ClientApp | None = None
    # Privacy audit trail (api/graphql/personal.py): coordinates of @personal fields resolved so far, and the
    # id its rows carry.
    reads: set[str] = field(default_factory=set)
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _citizen: Citizen | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def citizen(self) -> Citizen:
        """The signed-in citizen, enrolled on first sign-in; UNAUTHENTICATED without a valid token."""
        if self.principal is None:
            raise Unauthenticated(self.auth_error.reason if self.auth_error else "MISSING_TOKEN")
        async with self._lock:
            if self._citizen is None:
                async with self.db.read() as session:
                    self._citizen = await citizen_by_id_number(session, self.principal.id_number)
                if self._citizen is None:
                    principal = self.principal
                    self._citizen = await self.db.transaction(lambda session: enrol_citizen(
                        session, id_number=principal.id_number, claims=principal.claims))
            return self._citizen

    async def profile(self, *, wanted: Collection[str] | None = None) -> Profile:
        """The citizen's profile for pre-fill: the e-ID's values, gaps among `wanted` filled by the services
        that vouch for them (`ServicePlugin.profile_values`). Call it before opening a write transaction."""
        return await citizen_profile(await self.citizen(), self.services.profile_sources(), wanted=wanted)

    def service(self, code: str) -> ServicePlugin:
        """A loaded service. Its fields stay in the schema when it failed to load on its settings, so this
        raises AGENCY_UNAVAILABLE (reason NOT_CONFIGURED) then, and the field answers that typed error."""
        return self.services.require(code)

    async def citizen_id(self) -> int:
        citizen = await self.citizen()
        assert citizen.id is not None
        return citizen.id


Info = strawberry.Info[Context, None]
