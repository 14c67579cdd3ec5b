"""What an operation costs, computed from its document and variables before anything runs.

The model (mobile_contract/README.md, "Cost"): every field costs 1 (`__typename` 0); a field that a plug-in
adds to `Me` or `Query` also costs the weight its plug-in declares (an agency call); a field with a page-size
argument multiplies the cost of what is selected under it by the page it can return: `first` (the default
page size when absent, the maximum page size when larger: what the resolvers allow) or the sync `limit`.
Fragments count where they are spread, aliases count as often as they appear, `@skip`/`@include` are
decided with the variables, and type conditions on an abstract type all count (an upper bound).

Written on graphql-core's AST and its own argument, directive and variable coercion rather than with a
library: `graphql-complexity` (one maintainer) propagates constant multipliers by depth and does not read
page sizes from variables with our caps, nor plug-in weights by type and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionNode,
    SelectionSetNode,
    TypeMetaFieldDef,
    get_named_type,
    get_nullable_type,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)

from core.settings import Settings


@dataclass(frozen=True)
class PageArgument:
    """An argument that sets how many items a field returns: absent means `default`, more means `maximum`."""

    default: int
    maximum: int

    def size(self, value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            return self.default
        return max(1, min(value, self.maximum))


# Core fields that cost more than one unit: each does a query or more of its own, and a page of procedures
# asks it once per item (public figures), or it is public work an anonymous caller may repeat (verification).
CORE_WEIGHTS: Mapping[tuple[str, str], int] = {("Procedure", "figures"): 5, ("Agency", "figures"): 5,
                                                ("Query", "verifyPayload"): 5,
                                                # a payment asks the gateway, like an agency call
                                                ("Mutation", "payDossierFee"): 25, ("Dossier", "payment"): 2}


@dataclass(frozen=True)
class CostModel:
    budget: int
    page_arguments: Mapping[str, PageArgument]
    weights: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (type, field) -> extra cost

    @classmethod
    def of(cls, settings: Settings, weights: Mapping[tuple[str, str], int]) -> CostModel:
        graphql, sync = settings.graphql, settings.sync
        return cls(budget=graphql.query_max_cost, weights={**CORE_WEIGHTS, **weights}, page_arguments={
            "first": PageArgument(graphql.default_page_size, graphql.max_page_size),
            "limit": PageArgument(sync.page_limit, sync.page_limit),
        })

    def largest_pages(self) -> CostModel:
        """The same model with every page as large as allowed: costed without variables, an upper bound of
        what a document can cost whatever page sizes it is sent with."""
        pages = {name: PageArgument(page.maximum, page.maximum) for name, page in self.page_arguments.items()}
        return CostModel(budget=self.budget, page_arguments=pages, weights=self.weights)


class _Walk:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: VariableValues | None,
                 model: CostModel) -> None:
        self.schema, self.variables, self.model = schema, variables, model
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.fragment_costs: dict[tuple[str, int], int] = {}
        self.spreading: set[str] = set()

    def selections(self, selection_set: SelectionSetNode, parent: GraphQLNamedType, scale: int = 1) -> int:
        """The cost of a selection; `scale` multiplies its list fields (the page a paged parent returns)."""
        total = 0
        for node in selection_set.selections:
            if not self._included(node):
                continue
            if isinstance(node, FieldNode):
                total += self.field(node, parent, scale)
            elif isinstance(node, InlineFragmentNode):
                condition = self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                total += self.selections(node.selection_set, condition or parent, scale)
            elif isinstance(node, FragmentSpreadNode):
                total += self.fragment(node.name.value, scale)
        return total

    def fragment(self, name: str, scale: int) -> int:
        """Each fragment is costed once however often it is spread (a document of nested spreads stays cheap to
        cost); a cycle or an unknown fragment (invalid documents, refused by validation) counts nothing."""
        if (name, scale) in self.fragment_costs:
            return self.fragment_costs[name, scale]
        definition = self.fragments.get(name)
        if definition is None or name in self.spreading:
            return 0
        self.spreading.add(name)
        condition = self.schema.get_type(definition.type_condition.name.value)
        cost = self.selections(definition.selection_set, condition, scale) if condition else 0
        self.spreading.discard(name)
        self.fragment_costs[name, scale] = cost
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType, scale: int) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        definition = _field(self.schema, parent, name)
        cost = 1 + self.model.weights.get((parent.name, name), 0)
        if definition is not None and node.selection_set is not None:
            page, child = self._page(definition, node), get_named_type(definition.type)
            if _is_list(definition.type):  # a paged list: each of its items
                cost += page * self.selections(node.selection_set, child)
            else:  # a paged connection or page object: the lists in it (`edges`, `changes`), not `pageInfo`
                cost += self.selections(node.selection_set, child, page)
        return cost * scale if definition is not None and _is_list(definition.type) else cost

    def _page(self, definition: GraphQLField, node: FieldNode) -> int:
        pages = [name for name in definition.args if name in self.model.page_arguments]
        if not pages:
            return 1
        try:
            values = get_argument_values(definition, node, self.variables)
        except GraphQLError:  # the executor refuses these arguments before the resolver runs
            values = {}
        return max(self.model.page_arguments[name].size(values.get(name)) for name in pages)

    def _included(self, node: SelectionNode) -> bool:
        try:
            skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
            include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        except GraphQLError:
            return True
        return not (skip and skip.get("if") is True) and not (include and include.get("if") is False)


def _is_list(type_: GraphQLOutputType) -> bool:
    return isinstance(get_nullable_type(type_), GraphQLList)


def _field(schema: GraphQLSchema, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if parent is schema.query_type and name in _META:
        return _META[name]
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


_META: dict[str, GraphQLField] = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}
_ROOTS = {OperationType.QUERY: "query_type", OperationType.MUTATION: "mutation_type",
          OperationType.SUBSCRIPTION: "subscription_type"}


def operation_cost(schema: GraphQLSchema, document: DocumentNode, *, operation_name: str | None,
                   variables: Mapping[str, Any] | None, model: CostModel) -> int:
    """The cost of the operation the request runs (0 when it names none the document holds)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)
                  and (operation_name is None or (d.name is not None and d.name.value == operation_name))]
    if len(operations) != 1:
        return 0
    operation = operations[0]
    root = getattr(schema, _ROOTS[operation.operation])
    if root is None:
        return 0
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}))
    values = coerced if isinstance(coerced, VariableValues) else None  # bad ones: the executor refuses them
    return _Walk(schema, document, values, model).selections(operation.selection_set, root)
