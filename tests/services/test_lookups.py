"""Identifiers never travel in agency URLs: lookups are POSTs with the ID number in a JSON body, and a URL
that carries one is refused before anything is sent. That every installed plug-in's sandbox takes its lookups
that way is the conformance kit's sandbox check (tests/services/test_conformance.py)."""

from __future__ import annotations

import httpx
import pytest

from core.settings import Settings
from services.agency_settings import AgencySettings
from services.client import AgencyClient, IdentifierInUrl
from tests.support import RunningSandbox, citizen, gql, new_id_number


async def test_an_id_number_in_an_agency_url_is_refused_before_anything_is_sent(sandboxes: dict[str, RunningSandbox]):
    running = sandboxes["residence"]
    client = AgencyClient(code="residence", name_vi="Cư trú", name_en="Residence",
                          settings=AgencySettings(base_url=running.url, secret="s"))
    id_number = new_id_number()
    seen = running.sandbox.requests_seen
    try:
        with pytest.raises(IdentifierInUrl, match="send it in the body"):
            await client.get_json(f"/citizens/{id_number}")
        with pytest.raises(IdentifierInUrl):
            await client.get_json("/fines", params={"owner": id_number})
        assert running.sandbox.requests_seen == seen
        answer = await client.lookup("/citizens/lookup", {"id_number": id_number})
        assert answer["id_number"] == id_number
    finally:
        await client.aclose()


async def test_the_built_in_fields_answer_through_body_lookups(client: httpx.AsyncClient, settings: Settings):
    body = await gql(client, "{ me { populationRecord { ethnicity } healthInsuranceCard { clinic } "
                             "trafficFines { plate } birthRegistrations { dossierCode } } }", who=citizen(settings))
    assert "errors" not in body, body
    me = body["data"]["me"]
    assert me["populationRecord"] == {"ethnicity": "Kinh"}
    assert me["birthRegistrations"] == []
