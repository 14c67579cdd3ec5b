"""Identifiers never travel in agency URLs: lookups are POSTs with the ID number in a JSON body, and a URL
that carries one is refused before anything is sent."""

from __future__ import annotations

import httpx
import pytest

from core.settings import Settings
from services.agency_settings import AgencySettings
from services.client import AgencyClient, IdentifierInUrl
from tests.support import RunningSandbox, citizen, gql, new_id_number

LOOKUPS = {"residence": "/citizens/lookup", "social_insurance": "/cards/lookup",
           "traffic_fines": "/fines/search", "civil_status": "/registrations/search"}


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


@pytest.mark.parametrize(("code", "path"), sorted(LOOKUPS.items()))
async def test_each_sandbox_answers_a_lookup_posted_with_the_id_number_in_the_body(
        sandboxes: dict[str, RunningSandbox], code: str, path: str):
    id_number = new_id_number()[:-1] + "1"  # odd: the traffic sandbox has a fine for it
    async with httpx.AsyncClient(base_url=sandboxes[code].url, timeout=10) as http:
        posted = await http.post(path, json={"id_number": id_number})
        old_style = await http.get(f"{path.rsplit('/', 1)[0]}/000000000000")  # no real number in a URL, ever
    assert posted.status_code == 200, posted.text
    assert posted.json() or code == "civil_status"  # no registrations filed yet by this citizen
    assert old_style.status_code in (404, 405)


async def test_the_built_in_fields_answer_through_body_lookups(client: httpx.AsyncClient, settings: Settings):
    body = await gql(client, "{ me { populationRecord { ethnicity } healthInsuranceCard { clinic } "
                             "trafficFines { plate } birthRegistrations { dossierCode } } }", who=citizen(settings))
    assert "errors" not in body, body
    me = body["data"]["me"]
    assert me["populationRecord"] == {"ethnicity": "Kinh"}
    assert me["birthRegistrations"] == []
