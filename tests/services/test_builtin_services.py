"""Happy path of each built-in service against its sandbox, as a real HTTP server on loopback."""

from __future__ import annotations

import httpx

from core.settings import Settings
from tests.support import citizen, error_codes, gql, until_received


async def test_population_record_comes_from_the_residence_agency(client: httpx.AsyncClient, settings: Settings):
    who = citizen(settings, name="Nguyễn Thị Lan")
    body = await gql(client, "{ me { populationRecord { fullName sex ethnicity birthDate "
                             "permanentAddress { provinceCode districtCode wardCode } } } }", who=who)
    assert error_codes(body) == []
    record = body["data"]["me"]["populationRecord"]
    assert record["fullName"] == f"Công Dân {who.id_number[-4:]}"
    assert record["ethnicity"] == "Kinh"
    assert record["birthDate"] == "1990-01-01"
    assert record["permanentAddress"] == {"provinceCode": "01", "districtCode": "001", "wardCode": "00001"}


async def test_health_insurance_card_comes_from_social_security(client: httpx.AsyncClient, settings: Settings):
    who = citizen(settings)
    body = await gql(client, "{ me { healthInsuranceCard { number validFrom validUntil clinic } } }", who=who)
    card = body["data"]["me"]["healthInsuranceCard"]
    assert card["number"] == f"DN4{who.id_number[:2]}{who.id_number[-10:]}"
    assert (card["validFrom"], card["validUntil"]) == ("2026-01-01", "2026-12-31")


async def test_traffic_fines_lookup_lists_pending_fines(client: httpx.AsyncClient, settings: Settings):
    who = citizen(settings)
    body = await gql(client, "{ me { trafficFines { plate violation amountVnd } } }", who=who)
    fines = body["data"]["me"]["trafficFines"]
    expected = 1 if int(who.id_number[-1]) % 2 else 0
    assert len(fines) == expected
    if expected:
        assert fines[0]["amountVnd"] == 4_000_000


async def test_a_birth_registration_is_forwarded_and_the_registry_reports_it(
    client: httpx.AsyncClient, settings: Settings, sandboxes
):
    who = citizen(settings)
    submitted = await gql(client, """mutation($f: JSON!) { submitDossier(input: {procedureCode: "1.001193",
        formData: $f}) { dossier { code status } errors { code field } } }""",
        {"f": {"child_name": "Lê Văn Bé", "child_birth_date": "2026-10-01", "child_sex": "male",
               "place_of_birth": "Hà Nội", "mother_name": "Lê Thị Mẹ"}}, who=who)
    assert submitted["data"]["submitDossier"]["errors"] == []
    code = submitted["data"]["submitDossier"]["dossier"]["code"]
    await until_received(sandboxes["civil_status"], code)
    step = await sandboxes["civil_status"].advance(code)
    assert (step["status"], step["callback_status"]) == ("DA_TIEP_NHAN", 200)
    body = await gql(client, "{ me { birthRegistrations { dossierCode childName agencyStatus statusCode } } }",
                     who=who)
    assert body["data"]["me"]["birthRegistrations"] == [
        {"dossierCode": code, "childName": "Lê Văn Bé", "agencyStatus": "DA_TIEP_NHAN", "statusCode": 2}]
    dossier = await gql(client, "query($c: String!) { dossier(code: $c) { status events { status source } } }",
                        {"c": code}, who=who)
    assert dossier["data"]["dossier"]["status"] == "ACCEPTED"
    assert [e["source"] for e in dossier["data"]["dossier"]["events"]] == ["citizen", "agency"]

