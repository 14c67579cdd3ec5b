"""The plug-in interface for agency services, and their discovery through the `superapp.services`
entry-point group.

A service is a subclass of `ServicePlugin` that declares data (code, agency, procedures, the GraphQL
fields it adds, its `vocabulary` of status words) and overrides at most three methods: `forward` (deliver a
submitted dossier to its agency), `forward_action` (tell the agency the citizen withdrew or supplemented a
dossier it holds) and `parse_event` (translate the agency's status event to national terms). The defaults
speak the shared dossier API (`services/dossier_api.py`) and translate with `vocabulary`. It never patches
the core and never imports another service. The registry loads every installed service that
`SUPERAPP_SERVICES` enables; one that fails to load (import error, bad settings) is
left out, logged and reported with state `failed`, and the others serve.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, Protocol

from core.agency_events import StatusEvent
from core.dossier_status import DossierStatus
from core.forwarding import ActionRequest, ForwardRequest
from core.models import Citizen
from core.settings import Settings
from services.agency_settings import AgencySettings, load_agency_settings
from services.client import AgencyClient
from services.dossier_api import forward_action, forward_dossier
from services.events import status_event

log = logging.getLogger("superapp.services")

GROUP = "superapp.services"
# The services this project ships; the mobile contract's schema snapshot has exactly these enabled.
BUILT_IN_SERVICES = ("civil_status", "residence", "social_insurance", "traffic_fines")


class ServiceContext(Protocol):
    """What a plug-in's resolvers may use from the request (`info.context`)."""

    locale: str

    async def citizen(self) -> Citizen: ...

    def service(self, code: str) -> ServicePlugin: ...


class ServicePlugin:
    """Subclass, fill in the class attributes, and register the class under `superapp.services`."""

    code: ClassVar[str]
    name_vi: ClassVar[str]
    name_en: ClassVar[str]
    agency_code: ClassVar[str] = ""
    # Procedures whose dossiers this service forwards to its agency (their codes in the catalogue).
    procedure_codes: ClassVar[tuple[str, ...]] = ()
    # New procedures merged into the catalogue at start-up, shaped like core.seed_data.PROCEDURES entries.
    procedures: ClassVar[tuple[Mapping[str, Any], ...]] = ()
    # Strawberry types whose fields are added to `Me` and to `Query`; `types` lists every other type the
    # service introduces, so name clashes are found at start-up.
    me_fields: ClassVar[type | None] = None
    query_fields: ClassVar[type | None] = None
    types: ClassVar[tuple[type, ...]] = ()
    # False for a service that calls no agency (no base URL, no client).
    calls_agency: ClassVar[bool] = True
    default_base_url: ClassVar[str | None] = None
    # The agency's own status words and the national statuses they mean (used by the default parse_event).
    vocabulary: ClassVar[Mapping[str, DossierStatus]] = {}

    def __init__(self, settings: AgencySettings | None) -> None:
        self.settings = settings
        self.client: AgencyClient | None = None
        if settings is not None:
            self.client = AgencyClient(code=self.code, name_vi=self.name_vi, name_en=self.name_en, settings=settings)

    async def forward(self, request: ForwardRequest) -> str:
        """Deliver a dossier; return the agency's reference. Must be safe to repeat with the same key.
        The default posts to the shared dossier API (`POST /dossiers`); override it for another API."""
        if self.client is None:
            raise NotImplementedError(f"service {self.code} receives no dossiers")
        return await forward_dossier(self.client, request)

    async def forward_action(self, request: ActionRequest) -> None:
        """Tell the agency that the citizen withdrew (`request.action` "withdraw") or supplemented
        ("supplement", with `request.answers`) a dossier `forward` delivered. Must be safe to repeat with the
        same key. Called only after the dossier's own delivery succeeded. The default posts to the shared
        dossier API (`POST /dossiers/{code}/withdrawal` or `/supplements`); override it for another API."""
        if self.client is None:
            raise NotImplementedError(f"service {self.code} receives no dossiers")
        await forward_action(self.client, request)

    def parse_event(self, payload: Mapping[str, Any]) -> StatusEvent:
        """Translate one status event from the agency; raise ValueError when it makes no sense.
        The default reads the shared event shape and translates the status with `vocabulary`."""
        if not self.vocabulary:
            raise NotImplementedError(f"service {self.code} sends no status events")
        return status_event(payload, self.vocabulary)

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()


class ServiceState(StrEnum):
    READY = "ready"
    FAILED = "failed"
    CIRCUIT_OPEN = "circuit_open"


@dataclass(frozen=True)
class LoadFailure:
    code: str
    error: str


class ServiceRegistry:
    def __init__(self, plugins: Sequence[ServicePlugin], failures: Sequence[LoadFailure]) -> None:
        self.plugins: dict[str, ServicePlugin] = {p.code: p for p in plugins}
        self.failures = list(failures)

    def get(self, code: str) -> ServicePlugin | None:
        return self.plugins.get(code)

    def routes(self) -> dict[str, str]:
        """Procedure code -> the service that forwards it."""
        return {procedure: p.code for p in self.plugins.values() for procedure in p.procedure_codes}

    def state(self, code: str) -> ServiceState:
        plugin = self.plugins.get(code)
        if plugin is None:
            return ServiceState.FAILED
        if plugin.client is not None and plugin.client.circuit == "opened":
            return ServiceState.CIRCUIT_OPEN
        return ServiceState.READY

    def report(self) -> list[tuple[str, str, str, ServiceState]]:
        """(code, name vi, name en, state) of every enabled service, loaded or not, by code."""
        rows = [(p.code, p.name_vi, p.name_en, self.state(p.code)) for p in self.plugins.values()]
        rows += [(f.code, f.code, f.code, ServiceState.FAILED) for f in self.failures]
        return sorted(rows)

    async def aclose(self) -> None:
        for plugin in self.plugins.values():
            await plugin.aclose()


class ServiceConflict(Exception):
    """Two services claim the same thing; serving would be ambiguous, so start-up stops."""


def _instantiate(entry: EntryPoint, settings: Settings, override: Mapping[str, Any] | None) -> ServicePlugin:
    plugin_class = entry.load()
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, ServicePlugin)):
        raise TypeError(f"{entry.value} is not a ServicePlugin subclass")
    if plugin_class.code != entry.name:
        raise ValueError(f"entry point {entry.name!r} names a service whose code is {plugin_class.code!r}")
    agency = None
    if plugin_class.calls_agency:
        agency = load_agency_settings(plugin_class.code, production=settings.is_production,
                                      default_base_url=plugin_class.default_base_url, override=override)
    return plugin_class(agency)


def load_registry(settings: Settings, *, overrides: Mapping[str, Mapping[str, Any]] | None = None,
                  entries: Iterable[EntryPoint] | None = None) -> ServiceRegistry:
    """Load the enabled services; failures are logged and reported, conflicts stop start-up."""
    found = {e.name: e for e in (entry_points(group=GROUP) if entries is None else entries)}
    wanted = settings.agencies.enabled_services()
    codes = sorted(found) if wanted is None else wanted
    plugins: list[ServicePlugin] = []
    failures: list[LoadFailure] = []
    for code in codes:
        entry = found.get(code)
        if entry is None:
            failures.append(LoadFailure(code, "not installed"))
            log.error("service %s is enabled by SUPERAPP_SERVICES but not installed; left out", code)
            continue
        try:
            plugins.append(_instantiate(entry, settings, (overrides or {}).get(code)))
        except Exception as error:  # any failure of third-party code leaves that one service out
            failures.append(LoadFailure(code, f"{type(error).__name__}: {error}"))
            log.error("service %s failed to load and is left out: %s: %s", code, type(error).__name__, error)
    _check_routes(plugins)
    for plugin in plugins:
        log.info("service %s loaded (%s)", plugin.code, plugin.name_en)
    return ServiceRegistry(plugins, failures)


def _check_routes(plugins: Sequence[ServicePlugin]) -> None:
    owner: dict[str, str] = {}
    for plugin in plugins:
        for procedure in plugin.procedure_codes:
            if procedure in owner:
                raise ServiceConflict(f"procedure {procedure} is forwarded by both services "
                                      f"{owner[procedure]!r} and {plugin.code!r}; enable only one of them")
            owner[procedure] = plugin.code
