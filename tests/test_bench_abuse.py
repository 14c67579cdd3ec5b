"""The abuse benchmark states its quotas in cost units from the operations' costs: when a cost changes, the
bench's figures must be re-measured, not silently drift."""

from graphql import parse

from api.graphql.contract_costs import contract_costs
from api.graphql.cost import operation_cost
from api.graphql.schema import contract_schema
from bench import abuse
from core.settings import Settings
from mobile_contract.manifest import OPERATIONS, operation_text


def test_the_benchs_costs_are_the_servers(settings: Settings) -> None:
    costs = {c.name: c.cost for c in contract_costs(settings)}
    assert abuse.HOME_COST == costs["HomeScreen"]
    schema = contract_schema(settings)
    [my_dossiers] = [body for body in abuse.LEGIT_BODIES if body["variables"]]
    assert abuse.MY_DOSSIERS_COST == operation_cost(
        schema._schema, parse(operation_text(OPERATIONS / "MyDossiers.graphql")), operation_name=None,
        variables=my_dossiers["variables"], model=schema.cost_model)
    search = operation_cost(schema._schema, parse(abuse.CATALOGUE), operation_name=None, variables=None,
                            model=schema.cost_model)
    flood = operation_cost(schema._schema, parse(abuse.EXPENSIVE), operation_name=None, variables=None,
                           model=schema.cost_model)
    assert abuse.SEARCH_COST == search
    assert schema.cost_model.budget * 0.8 < flood <= schema.cost_model.budget  # expensive, yet under the budget
