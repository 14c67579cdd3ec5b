"""The one schema, with the limits every public GraphQL endpoint needs.

Validation rules are built once here, not per request: a rule class made per request would defeat the
validation cache (see docs/ARCHITECTURE.md, "GraphQL limits").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import strawberry
from graphql import ASTValidationRule, GraphQLError, ValidationContext, ValidationRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.graphql.budget import CostBudget
from api.graphql.compose import Plugin, admit, build_admitting, merged
from api.graphql.context import Info
from api.graphql.cost import CostModel
from api.graphql.errors import ShapeErrors, shape
from api.graphql.mutations import Mutation
from api.graphql.personal import PersonalDataAudit, instrument
from api.graphql.queries import Query
from api.graphql.queries_audit import AuditQuery
from api.graphql.queries_directory import DirectoryQuery
from api.graphql.queries_home import HOME_SCREEN_WEIGHT, HomeQuery
from api.graphql.queries_notifications import NotificationQuery
from api.graphql.queries_receipts import ReceiptQuery
from api.graphql.queries_screens import ScreenQuery
from api.graphql.subscriptions import Subscription
from api.graphql.sync_query import SyncQuery
from api.graphql.types.catalogue import Agency, Procedure
from api.graphql.types.dossier import Document, Dossier
from api.graphql.types.me import Me
from core.settings import Settings
from services.registry import BUILT_IN_SERVICES, ServiceRegistry, load_registry


class Schema(strawberry.Schema):
    cost_model: CostModel  # set by build_schema: what `CostBudget` charges, for `superapp contract cost`
    # Coordinate -> kinds of every field marked @personal (api/graphql/personal.py), set by `build_schema`.
    personal_fields: dict[str, tuple[str, ...]]

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Shape errors in place, once: subscription results never pass through ShapeErrors, and a shaped error
        (its original dropped) is left alone there. Unexpected ones are logged by `shape` with a reference."""
        locale = getattr(execution_context.context, "locale", "vi") if execution_context else "vi"
        for error in errors:
            shaped = shape(error, locale)
            if shaped is not error:
                error.message, error.extensions = shaped.message, shaped.extensions
                error.original_error = None


async def _me(info: Info) -> Me | None:
    """A token without a name (`superapp token --citizen`) still shows the citizen's name: the services that
    vouch for it (population record) fill it, asked only for that gap; if none can, it stays empty."""
    citizen = await info.context.citizen()
    if citizen.full_name.strip():
        return Me.from_row(citizen)
    profile = await info.context.profile(wanted={"full_name"})
    return Me.from_row(citizen, full_name=str(profile.values.get("full_name") or ""))


def _query(me_type: type) -> type:
    """The core `Query`, with `me` of the given (composed) `Me` type."""

    @strawberry.type
    class MeRoot:
        me = strawberry.field(resolver=_me, graphql_type=Optional[me_type],  # noqa: UP045 (a runtime type)
                              description="The signed-in citizen. Needs a token.")

    return merged("Query", Query, [MeRoot, SyncQuery, NotificationQuery, AuditQuery, ScreenQuery, HomeQuery,
                                    DirectoryQuery, ReceiptQuery])


def _roots(plugins: Sequence[Plugin]) -> type:
    """`Query` with `me` of the composed `Me` type, plus every service's own query fields."""
    me_type = merged("Me", Me, [p.me_fields for p in plugins])
    return merged("Query", _query(me_type), [p.query_fields for p in plugins])


def _tolerant(rule: type[ValidationRule]) -> type[ValidationRule]:
    """Strawberry's limit rules measure the document in their constructor and crash on a spread of an unknown
    fragment (KeyError) or a fragment cycle (RecursionError). Such a document is invalid anyway and the
    standard rules (KnownFragmentNames, NoFragmentCycles) say so, so the limit rule just stands aside."""

    class Tolerant(rule):  # type: ignore[valid-type,misc]
        def __init__(self, context: ValidationContext) -> None:
            try:
                super().__init__(context)
            except (KeyError, RecursionError):
                ValidationRule.__init__(self, context)

    Tolerant.__name__ = rule.__name__
    return Tolerant


# Core fields that do more than read a row: paying calls the payment gateway (like an agency call), and a
# dossier's payment takes a few queries of its own.


def build_schema(settings: Settings, registry: ServiceRegistry | None = None) -> Schema:
    """The schema of the core and the registry's services. Services that failed only on their settings are
    in it (their fields answer AGENCY_UNAVAILABLE), so the served schema does not depend on configuration; a
    plug-in that clashes with the core or with a service of higher precedence is refused on the registry
    (FAILED, with the reason) and the others serve."""
    accepted, refused = admit(registry.contributions() if registry else [], me=Me, query=_query(Me))
    cost_model = CostModel.of(settings, {("Query", "homeScreen"): HOME_SCREEN_WEIGHT,
                                         **{(parent, name): weight for plugin in accepted
                                            for parent, fields in plugin.field_weights().items()
                                            for name, weight in fields.items()}})
    rules: list[type[ASTValidationRule]] = [
        _tolerant(max_depth_rule(settings.graphql.query_max_depth, None)),
        _tolerant(max_aliases_rule(settings.graphql.query_max_aliases)),
    ]
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=settings.graphql.query_max_tokens),
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: AddValidationRules(rules),
        lambda: CostBudget(model=cost_model),
        ShapeErrors,
        PersonalDataAudit,
    ]

    def build(plugins: list[Plugin]) -> Schema:
        return Schema(
            query=_roots(plugins),
            mutation=Mutation,
            subscription=Subscription,
            types=[Agency, Procedure, Dossier, Document, *(t for p in plugins for t in p.types)],
            extensions=extensions,
            config=StrawberryConfig(disable_field_suggestions=settings.is_production),
        )

    schema = build_admitting(build, accepted, refused)
    schema.cost_model = cost_model
    schema.personal_fields = instrument(schema._schema.type_map)
    for code, reason in refused.items():
        assert registry is not None  # nothing to refuse without one
        registry.refuse(code, reason)
    return schema


def contract_schema(settings: Settings) -> Schema:
    """The schema the mobile contract pins: the core with every built-in service, and nothing else. Their
    settings do not matter: a service that cannot be configured keeps its fields."""
    registry = load_registry(settings.updated(agencies={"services": ",".join(BUILT_IN_SERVICES)}))
    return build_schema(settings, registry)


def served_schema(settings: Settings) -> Schema:
    """The schema `superapp serve` would serve with these settings (what `superapp schema check` checks)."""
    return build_schema(settings, load_registry(settings))
