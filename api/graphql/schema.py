"""The one schema, with the limits every public GraphQL endpoint needs.

Validation rules are built once here, not per request: a rule class made per request would defeat the
validation cache (see docs/ARCHITECTURE.md, "GraphQL limits").
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.graphql.errors import ShapeErrors
from api.graphql.mutations import Mutation
from api.graphql.queries import Query
from api.graphql.types.catalogue import Agency, Procedure
from api.graphql.types.dossier import Document, Dossier
from core.settings import Settings


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Expected errors are answers, not incidents; ShapeErrors logs the unexpected ones."""


def build_schema(settings: Settings) -> Schema:
    rules: list[type[ASTValidationRule]] = [
        max_depth_rule(settings.query_max_depth, None),
        max_aliases_rule(settings.query_max_aliases),
    ]
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=settings.query_max_tokens),
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: AddValidationRules(rules),
        ShapeErrors,
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[Agency, Procedure, Dossier, Document],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )
