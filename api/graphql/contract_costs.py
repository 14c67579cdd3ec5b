"""The cost of each operation the app sends (`mobile_contract/operations/`), as the server would charge it
with its example variables: printed by `superapp contract cost`, and kept well under the budget by a test."""

from __future__ import annotations

import json
from dataclasses import dataclass

from graphql import OperationDefinitionNode, parse

from api.graphql.cost import operation_cost
from api.graphql.schema import contract_schema
from core.settings import Settings
from mobile_contract.manifest import operation_files, operation_text


@dataclass(frozen=True)
class OperationCost:
    name: str
    cost: int  # with its example variables (`<Name>.variables.json`)
    largest: int  # with every page as large as the server allows
    budget: int


def contract_costs(settings: Settings) -> list[OperationCost]:
    schema = contract_schema(settings)
    costs = []
    for path in operation_files():
        document = parse(operation_text(path))
        variables_file = path.with_suffix(".variables.json")
        variables = json.loads(variables_file.read_text(encoding="utf-8")) if variables_file.exists() else {}
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name is not None:
                name = definition.name.value
                cost = operation_cost(schema._schema, document, operation_name=name, variables=variables,
                                      model=schema.cost_model)
                largest = operation_cost(schema._schema, document, operation_name=name, variables=None,
                                         model=schema.cost_model.largest_pages())
                costs.append(OperationCost(name, cost, largest, schema.cost_model.budget))
    return costs
