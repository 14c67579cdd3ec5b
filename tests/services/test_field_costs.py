"""A plug-in declares what its fields cost (`agency_field_cost`, `field_costs`); the declaration is checked at
load, and the server charges it."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint

import httpx
import pytest
import strawberry

from core.settings import Settings
from services.registry import GROUP, ServicePlugin, load_registry
from tests.support import citizen, gql_with_cost


@strawberry.type
class _MeShoes:
    shoe_size: int = 42


def _plugin(**declared: object) -> type[ServicePlugin]:
    return type("_Shoes", (ServicePlugin,), {"code": "shoes", "name_vi": "Giày", "name_en": "Shoes",
                                             "me_fields": _MeShoes, "calls_agency": False, **declared})


@pytest.mark.parametrize(("declared", "reason"), [
    ({"field_costs": {"shoeSizes": 3}}, "field_costs names 'shoeSizes', which is not a field of its me_fields"),
    ({"field_costs": {"shoe_size": 3}}, "field_costs names 'shoe_size'"),  # GraphQL names, as clients spell them
    ({"field_costs": {"shoeSize": -1}}, "field_costs['shoeSize'] must be an integer from 0 to 1000"),
    ({"field_costs": {"shoeSize": True}}, "field_costs['shoeSize'] must be an integer from 0 to 1000"),
    ({"agency_field_cost": 10**6}, "agency_field_cost must be an integer from 0 to 1000"),
    ({"field_costs": [("shoeSize", 3)]}, "field_costs must be a mapping"),
], ids=["unknown", "python-name", "negative", "bool", "too-large", "not-a-mapping"])
def test_a_bad_cost_declaration_leaves_the_plugin_out(settings: Settings, caplog: pytest.LogCaptureFixture,
                                                       declared: dict[str, object], reason: str):
    globals()["_Shoes"] = _plugin(**declared)
    entry = EntryPoint(name="shoes", value=f"{__name__}:_Shoes", group=GROUP)
    with caplog.at_level(logging.ERROR, logger="superapp.services"):
        registry = load_registry(settings, entries=[entry])
    assert registry.plugins == {}
    assert reason in registry.failures["shoes"].error


def test_a_good_declaration_gives_each_field_its_weight(settings: Settings):
    assert _plugin(field_costs={"shoeSize": 7}).field_weights() == {"Me": {"shoeSize": 7}}
    assert _plugin(calls_agency=True).field_weights() == {"Me": {"shoeSize": 25}}  # an agency call by default
    assert _plugin().field_weights() == {"Me": {"shoeSize": 0}}  # no agency, no weight


async def test_the_server_charges_each_plugin_field_its_declared_weight(client: httpx.AsyncClient,
                                                                        settings: Settings):
    who = citizen(settings)
    fines = await gql_with_cost(client, "{ me { trafficFines { plate } } }", who=who)
    library = await gql_with_cost(client, "{ me { libraryCard { number } } }", who=who)
    assert fines["extensions"]["cost"]["requested"] == 1 + (1 + 25) + 1  # the default agency-call weight
    assert library["extensions"]["cost"]["requested"] == 1 + (1 + 1) + 1  # the example declares 1
