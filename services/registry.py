"""The plug-in interface for agency services, and their discovery through the `superapp.services`
entry-point group.

A service is a subclass of `ServicePlugin` that declares data (code, agency, procedures, the GraphQL
fields it adds and what they cost, its `vocabulary` of status words) and overrides at most four methods:
`forward` (deliver a submitted dossier to its agency), `forward_action` (tell the agency the citizen withdrew
or supplemented a dossier it holds), `parse_event` (translate the agency's status event to national terms) and
`profile_values` (vouch for profile fields the e-ID token left empty, to pre-fill forms). The defaults
speak the shared dossier API (`services/dossier_api.py`) and translate with `vocabulary`. It never patches
the core and never imports another service. The registry loads every installed service that
`SUPERAPP_SERVICES` enables; one that fails to load is logged and reported with state `failed`, and the
others serve. A service whose only fault is its settings keeps its fields in the schema, answering
AGENCY_UNAVAILABLE; one that cannot be imported, or that clashes with a service of higher precedence
(`precedence`), is left out.
"""

from __future__ import annotations

import importlib
import importlib.resources
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import ValidationError
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from core.agency_events import StatusEvent
from core.catalogue_merge import declared_agency
from core.citizens import PROFILE_FIELDS, ProfileSource
from core.dossier_status import DossierStatus
from core.errors import DomainError
from core.forwarding import ActionRequest, ForwardRequest
from core.models import Citizen
from core.settings import Settings
from core.signatures import VerifyKey
from services.agency_settings import AgencySettings, env_prefix, load_agency_settings
from services.client import AgencyClient
from services.dossier_api import forward_action, forward_dossier
from services.errors import AgencyUnavailable
from services.events import status_event
from services.personal import Personal as Personal  # re-exported: what a plug-in marks its fields with
from services.personal import personal as personal
from services.screens import Column as Column  # re-exported: what a plug-in declares its screens with
from services.screens import DocumentKind as DocumentKind
from services.screens import HelpPage as HelpPage
from services.screens import RecordList as RecordList
from services.screens import screen_problems
from services.tile_checks import check_plugin_tiles, duplicate_tile_ids
from services.tiles import ScreenKind as ScreenKind  # re-exported: what a plug-in declares its tiles with
from services.tiles import Tile as Tile

if TYPE_CHECKING:
    from services.sandbox_kit import AgencySandbox

log = logging.getLogger("superapp.services")

GROUP = "superapp.services"
# The services this project ships; the mobile contract's schema snapshot has exactly these enabled.
BUILT_IN_SERVICES = ("civil_status", "residence", "social_insurance", "traffic_fines")
# The largest cost weight a plug-in may give one field (the default budget is SUPERAPP_QUERY_MAX_COST).
MAX_FIELD_COST = 1000


def graphql_field_names(fields: type) -> list[str]:
    """The GraphQL names of a Strawberry type's fields, as the schema (auto camel case) spells them."""
    definition = get_object_definition(fields, strict=True)
    return [f.graphql_name or to_camel_case(f.python_name) for f in definition.fields]


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
    # The service's own agency, when the national catalogue does not list it: {"code", "name_vi", "name_en",
    # "level"} (level: central | province | district | commune). Checked at load, merged at start-up; a
    # code registered with other names (by the catalogue or another service) makes the service FAILED.
    agency: ClassVar[Mapping[str, str] | None] = None
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
    # Profile fields (keys of `core.citizens.profile_of`) this agency vouches for; `profile_values` is asked
    # for them only when the citizen's e-ID left one empty and a form pre-fills it.
    profile_fields: ClassVar[frozenset[str]] = frozenset()
    # What each field of `me_fields`/`query_fields` adds to an operation's cost (docs/PLUGGING_IN_A_SERVICE.md):
    # `agency_field_cost` for every one of them (0 when the service calls no agency), or its own weight in
    # `field_costs`, keyed by GraphQL field name (`trafficFines`). Checked at load: 0 to MAX_FIELD_COST.
    agency_field_cost: ClassVar[int] = 25
    field_costs: ClassVar[Mapping[str, int]] = {}

    @classmethod
    def field_weights(cls) -> dict[str, dict[str, int]]:
        """The cost weight of each field the service adds, by parent type (`Me`, `Query`) and field name."""
        default = cls.agency_field_cost if cls.calls_agency else 0
        return {parent: {name: cls.field_costs.get(name, default) for name in graphql_field_names(fields)}
                for parent, fields in (("Me", cls.me_fields), ("Query", cls.query_fields)) if fields is not None}
    # Its entries in the app's service directory and the screen each opens (services/tiles.py).
    tiles: ClassVar[tuple[Tile, ...]] = ()
    # What its tiles' screens need beyond the tile (services/screens.py, checked at load): the layout of a
    # procedure's e-form (procedure code -> UI schema; a procedure without one gets the default layout), how
    # to list the records of a `Me` field (RECORD_LIST), its help pages (HELP_PAGE) and the wallet documents
    # it issues (DOCUMENT_VIEWER).
    ui_schemas: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    record_lists: ClassVar[tuple[RecordList, ...]] = ()
    help_pages: ClassVar[tuple[HelpPage, ...]] = ()
    document_kinds: ClassVar[tuple[DocumentKind, ...]] = ()
    # Fields this service adds to `Me` (GraphQL names) that expose no personal data; every other one must carry
    # `@personal` (the conformance kit checks it).
    not_personal: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def sandbox(cls, *, secret: bytes, callback_url: str, advance_seconds: float) -> AgencySandbox | None:
        """The agency's stand-in that `superapp sandbox` runs on this service's base URL port (outside
        production); None: the service has none. The default calls `create_sandbox` of the `sandbox` module
        in the class's package, if that module exists; override it to build yours another way."""
        package = sys.modules[cls.__module__].__package__ or cls.__module__
        name = f"{package}.sandbox"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:  # the module exists but imports something missing: say so, loudly
                raise
            return None
        made: AgencySandbox = module.create_sandbox(secret=secret, callback_url=callback_url,
                                                    advance_seconds=advance_seconds)
        return made

    @classmethod
    def operation_documents(cls) -> Mapping[str, str]:
        """The GraphQL operations the plug-in ships for the app ({operation name: document}), read from the
        `operations/` directory of the class's package: production serves only persisted documents, so a
        plug-in's fields reach the app through these."""
        package = sys.modules[cls.__module__].__package__ or cls.__module__
        directory = importlib.resources.files(package) / "operations"
        if not directory.is_dir():
            return {}
        return {entry.name.removesuffix(".graphql"): entry.read_text(encoding="utf-8")
                for entry in sorted(directory.iterdir(), key=lambda e: e.name) if entry.name.endswith(".graphql")}

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
        """Tell the agency that the citizen withdrew (`request.action` "withdraw"), supplemented
        ("supplement", with `request.answers`) or paid the fees asked for ("payment", with the receipt in
        `request.answers`) a dossier `forward` delivered. Must be safe to repeat with the
        same key. Called only after the dossier's own delivery succeeded. The default posts to the shared
        dossier API (`POST /dossiers/{code}/withdrawal`, `/supplements` or `/payments`); override it for another
        API."""
        if self.client is None:
            raise NotImplementedError(f"service {self.code} receives no dossiers")
        await forward_action(self.client, request)

    def verify_keys(self) -> list[VerifyKey]:
        """The public keys documents issued by this agency are verified with (`SUPERAPP_AGENCY_<CODE>_SIGNING_KEYS`,
        or outside production its sandbox's demo key); empty for a service that calls no agency."""
        return self.settings.result_keys(self.code) if self.settings is not None else []

    def parse_event(self, payload: Mapping[str, Any]) -> StatusEvent:
        """Translate one status event from the agency; raise ValueError when it makes no sense.
        The default reads the shared event shape and translates the status with `vocabulary`."""
        if not self.vocabulary:
            raise NotImplementedError(f"service {self.code} sends no status events")
        return status_event(payload, self.vocabulary)

    async def profile_values(self, citizen: Citizen) -> Mapping[str, Any]:
        """The citizen's values of `profile_fields` as the agency records them (missing ones left out).
        Raise `AgencyUnavailable`/`AgencyTimeout` (what `self.client` raises) when the agency cannot
        answer: the form then falls back to what the citizen types, or says the agency is unavailable
        for a read-only field."""
        return {}

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()


class ServiceState(StrEnum):
    READY = "ready"
    FAILED = "failed"
    CIRCUIT_OPEN = "circuit_open"


@dataclass(frozen=True)
class LoadFailure:
    """An enabled service that does not serve, and why. `plugin` is its class when it could be imported;
    `keeps_fields` says its fields stay in the schema (answering AGENCY_UNAVAILABLE): true when only its
    settings failed, so one agency's configuration never changes the schema the app was built against."""

    code: str
    error: str
    plugin: type[ServicePlugin] | None = None
    keeps_fields: bool = False


@dataclass(frozen=True)
class ServiceStatus:
    code: str
    name_vi: str
    name_en: str
    state: ServiceState
    reason: str | None = None


def precedence(plugin: type[ServicePlugin]) -> tuple[int, str]:
    """Who wins a clash: the built-in services (the released contract's) in their order, then the others by
    code. A plug-in installed later can therefore never push a contract field out of the schema."""
    built_in = plugin.code in BUILT_IN_SERVICES
    return (BUILT_IN_SERVICES.index(plugin.code) if built_in else len(BUILT_IN_SERVICES), plugin.code)


class ServiceRegistry:
    def __init__(self, plugins: Sequence[ServicePlugin], failures: Sequence[LoadFailure]) -> None:
        self.plugins: dict[str, ServicePlugin] = {p.code: p for p in plugins}
        self.failures: dict[str, LoadFailure] = {f.code: f for f in failures}
        for code, reason in _route_clashes([type(p) for p in self.plugins.values()] +
                                           [f.plugin for f in failures if f.plugin and f.keeps_fields]):
            self.refuse(code, reason)
        loaded = sorted((type(p) for p in self.plugins.values()), key=precedence)
        for code, reason in duplicate_tile_ids((p.code, p.tiles) for p in loaded):
            self.refuse(code, reason)

    def get(self, code: str) -> ServicePlugin | None:
        return self.plugins.get(code)

    def require(self, code: str) -> ServicePlugin:
        """The loaded service; AGENCY_UNAVAILABLE (reason NOT_CONFIGURED) when it failed to load, so its fields,
        which stay in the schema, answer a typed error instead of vanishing."""
        plugin = self.plugins.get(code)
        if plugin is not None:
            return plugin
        failure = self.failures.get(code)
        known = failure.plugin if failure else None
        raise AgencyUnavailable(service=code, agency_vi=known.name_vi if known else code,
                                agency_en=known.name_en if known else code, reason="NOT_CONFIGURED")

    def contributions(self) -> list[type[ServicePlugin]]:
        """The plug-in classes whose fields and types the schema carries, in precedence order: the loaded
        ones and those whose only fault is their settings."""
        classes = [type(p) for p in self.plugins.values()]
        classes += [f.plugin for f in self.failures.values() if f.plugin is not None and f.keeps_fields]
        return sorted(classes, key=precedence)

    def refuse(self, code: str, reason: str, *, keeps_fields: bool = False) -> None:
        """Take a service out (a clash found while composing): reported FAILED with `reason`, the rest serve.
        `keeps_fields`: the schema is already built with its fields (they answer AGENCY_UNAVAILABLE)."""
        plugin = self.plugins.pop(code, None)
        known = type(plugin) if plugin is not None else self.failures[code].plugin
        self.failures[code] = LoadFailure(code, reason, plugin=known, keeps_fields=keeps_fields)
        log.error("service %s is refused and left out: %s", code, reason)

    async def refuse_at_start(self, code: str, reason: str) -> None:
        """Take out a service whose catalogue entries were refused at start-up: FAILED with `reason`. The
        schema is already built, so its fields stay (answering AGENCY_UNAVAILABLE, reason NOT_CONFIGURED)."""
        plugin = self.plugins.pop(code)
        self.failures[code] = LoadFailure(code, reason, plugin=type(plugin), keeps_fields=True)
        log.error("service %s is refused and left out: %s", code, reason)
        await plugin.aclose()

    def routes(self) -> dict[str, str]:
        """Procedure code -> the service that forwards it. A service that failed only to configure keeps its
        routes: its dossiers wait in the forward queue until it is configured, instead of never leaving."""
        return {procedure: p.code for p in self.contributions() for procedure in p.procedure_codes}

    def profile_sources(self) -> list[ProfileSource]:
        """The services that vouch for profile fields, by code; a plug-in's own bug in `profile_values`
        is answered as its agency being unavailable, never as a failed submission."""
        return [ProfileSource(name=p.code, fields=p.profile_fields, fetch=_guarded(p))
                for p in sorted(self.plugins.values(), key=lambda p: p.code) if p.profile_fields]

    def state(self, code: str) -> ServiceState:
        plugin = self.plugins.get(code)
        if plugin is None:
            return ServiceState.FAILED
        if plugin.client is not None and plugin.client.circuit == "opened":
            return ServiceState.CIRCUIT_OPEN
        return ServiceState.READY

    def report(self) -> list[ServiceStatus]:
        """Every enabled service, loaded or not, by code; a failed one with its reason."""
        rows = [ServiceStatus(p.code, p.name_vi, p.name_en, self.state(p.code)) for p in self.plugins.values()]
        for f in self.failures.values():
            names = (f.plugin.name_vi, f.plugin.name_en) if f.plugin else (f.code, f.code)
            rows.append(ServiceStatus(f.code, *names, ServiceState.FAILED, f.error))
        return sorted(rows, key=lambda row: row.code)

    async def aclose(self) -> None:
        for plugin in self.plugins.values():
            await plugin.aclose()


def _guarded(plugin: ServicePlugin) -> Callable[[Citizen], Awaitable[Mapping[str, Any]]]:
    async def fetch(citizen: Citizen) -> Mapping[str, Any]:
        try:
            return await plugin.profile_values(citizen)
        except DomainError:
            raise
        except Exception as error:  # third-party code: contain it like a failing agency
            log.error("service %s failed in profile_values: %s", plugin.code, type(error).__name__)
            raise AgencyUnavailable(service=plugin.code, agency_vi=plugin.name_vi, agency_en=plugin.name_en,
                                    reason="PLUGIN_ERROR") from error

    return fetch


def _load_class(entry: EntryPoint) -> type[ServicePlugin]:
    plugin_class = entry.load()
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, ServicePlugin)):
        raise TypeError(f"{entry.value} is not a ServicePlugin subclass")
    if plugin_class.code != entry.name:
        raise ValueError(f"entry point {entry.name!r} names a service whose code is {plugin_class.code!r}")
    if not plugin_class.profile_fields <= PROFILE_FIELDS:
        unknown = sorted(plugin_class.profile_fields - PROFILE_FIELDS)
        raise ValueError(f"profile_fields {unknown} are not profile fields (core.citizens.PROFILE_FIELDS)")
    _check_field_costs(plugin_class)
    check_plugin_tiles(plugin_class)
    screens = screen_problems(plugin_class)
    if screens:
        raise ValueError(f"screens: {'; '.join(screens)}")
    if plugin_class.agency is not None:
        declared = declared_agency(plugin_class.agency)
        if plugin_class.agency_code not in ("", declared.code):
            raise ValueError(f"agency_code {plugin_class.agency_code!r} is not the declared agency's code "
                             f"{declared.code!r}")
    return plugin_class


def _is_weight(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_FIELD_COST


def _check_field_costs(plugin_class: type[ServicePlugin]) -> None:
    """A weight is a whole number from 0 to MAX_FIELD_COST, and names a field the service adds."""
    if not _is_weight(plugin_class.agency_field_cost):
        raise ValueError(f"agency_field_cost must be an integer from 0 to {MAX_FIELD_COST}")
    if not isinstance(plugin_class.field_costs, Mapping):
        raise ValueError("field_costs must be a mapping of GraphQL field name to weight")
    own = {name for names in plugin_class.field_weights().values() for name in names}
    for name, weight in plugin_class.field_costs.items():
        if name not in own:
            raise ValueError(f"field_costs names {name!r}, which is not a field of its me_fields or query_fields")
        if not _is_weight(weight):
            raise ValueError(f"field_costs[{name!r}] must be an integer from 0 to {MAX_FIELD_COST}")


def _configure(plugin_class: type[ServicePlugin], settings: Settings,
               override: Mapping[str, Any] | None) -> ServicePlugin:
    agency = None
    if plugin_class.calls_agency:
        agency = load_agency_settings(plugin_class.code, production=settings.is_production,
                                      default_base_url=plugin_class.default_base_url, override=override,
                                      sandbox_port_offset=settings.agencies.sandbox_port_offset)
    return plugin_class(agency)


def _describe(error: Exception, code: str) -> str:
    """A short reason for /readyz and `services`: no input values (they could be secrets), no traceback."""
    if isinstance(error, ValidationError):
        problems = "; ".join(f"{env_prefix(code)}{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                             for e in error.errors(include_input=False, include_url=False))
        return f"invalid settings: {problems}"
    first_line = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first_line}"[:300]


def load_registry(settings: Settings, *, overrides: Mapping[str, Mapping[str, Any]] | None = None,
                  entries: Iterable[EntryPoint] | None = None) -> ServiceRegistry:
    """Load the enabled services. A failure leaves that one service out, logged and reported; a service that
    failed only on its settings keeps its fields in the schema (they answer AGENCY_UNAVAILABLE)."""
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
            plugin_class = _load_class(entry)
        except Exception as error:  # any failure of third-party code leaves that one service out
            failures.append(LoadFailure(code, _describe(error, code)))
            log.error("service %s failed to load and is left out: %s", code, _describe(error, code))
            continue
        try:
            plugins.append(_configure(plugin_class, settings, (overrides or {}).get(code)))
        except Exception as error:  # bad settings: the service is down, its schema is not
            failures.append(LoadFailure(code, _describe(error, code), plugin=plugin_class, keeps_fields=True))
            log.error("service %s is not configured; its fields answer AGENCY_UNAVAILABLE: %s", code,
                      _describe(error, code))
    registry = ServiceRegistry(plugins, failures)
    for plugin in registry.plugins.values():
        log.info("service %s loaded (%s)", plugin.code, plugin.name_en)
    return registry


def _route_clashes(classes: Sequence[type[ServicePlugin]]) -> list[tuple[str, str]]:
    """(service, reason) for each service that forwards a procedure a service of higher precedence forwards."""
    owner: dict[str, str] = {}
    clashes: list[tuple[str, str]] = []
    for plugin in sorted(classes, key=precedence):
        taken = [p for p in plugin.procedure_codes if p in owner]
        if taken:
            clashes.append((plugin.code, f"procedure {taken[0]} is already forwarded by service "
                                         f"{owner[taken[0]]!r}"))
            continue
        owner.update(dict.fromkeys(plugin.procedure_codes, plugin.code))
    return clashes
