"""The interconnected birth procedure end to end: one submission, three agencies, one dossier to follow."""

from __future__ import annotations

import httpx

from core.settings import Settings
from tests.support import SUBMIT, citizen, gql, until_received

FORM = {"child_name": "Trần Gia Bảo", "child_birth_date": "2026-10-20", "child_sex": "female",
        "place_of_birth": "Bệnh viện Phụ sản Hà Nội", "mother_name": "Trần Thị Mai",
        "new_address": "Số 3 ngõ 5 Phúc Xá, Ba Đình, Hà Nội", "clinic": "Bệnh viện Nhi Trung ương"}

PARENT = """query($c: String!) { dossier(code: $c) { status events { status source }
  parts { code status procedure { code } events { status source } } } }"""


async def test_one_submission_reaches_three_agencies_and_the_parent_follows_the_parts(
    client: httpx.AsyncClient, settings: Settings, sandboxes
):
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": "LT.KS-TT-BHYT", "f": FORM}, who=who)
    assert body["data"]["submitDossier"]["errors"] == []
    parent_code = body["data"]["submitDossier"]["dossier"]["code"]

    parent = (await gql(client, PARENT, {"c": parent_code}, who=who))["data"]["dossier"]
    parts = {p["procedure"]["code"]: p["code"] for p in parent["parts"]}
    assert sorted(parts) == [
        "1.001193", "1.001612", "1.004194"]
    owners = {"1.001193": "civil_status", "1.004194": "residence", "1.001612": "social_insurance"}
    for procedure, code in parts.items():
        await until_received(sandboxes[owners[procedure]], code)
    received = sandboxes["residence"].sandbox.received[f"superapp:{parts['1.004194']}"]
    assert received.body["form"]["new_address"] == FORM["new_address"]
    assert received.body["parent_code"] == parent_code

    # Two agencies accept: the parent waits for the slowest part.
    await sandboxes["civil_status"].advance(parts["1.001193"])
    await sandboxes["residence"].advance(parts["1.004194"])
    assert (await gql(client, PARENT, {"c": parent_code}, who=who))["data"]["dossier"]["status"] == "SUBMITTED"
    await sandboxes["social_insurance"].advance(parts["1.001612"])
    parent = (await gql(client, PARENT, {"c": parent_code}, who=who))["data"]["dossier"]
    assert parent["status"] == "ACCEPTED"
    assert [e["source"] for e in parent["events"]] == ["citizen", "system"]

    # Every agency goes all the way; the parent walks the road with the slowest.
    for procedure, code in parts.items():
        for _ in range(3):
            answer = await sandboxes[owners[procedure]].advance(code)
            assert answer["callback_status"] == 200
    parent = (await gql(client, PARENT, {"c": parent_code}, who=who))["data"]["dossier"]
    assert parent["status"] == "RETURNED"
    assert [e["status"] for e in parent["events"]] == ["SUBMITTED", "ACCEPTED", "PROCESSING", "PROCESSED",
                                                         "RETURNED"]
    for part in parent["parts"]:
        assert [e["status"] for e in part["events"]] == ["SUBMITTED", "ACCEPTED", "PROCESSING", "PROCESSED",
                                                           "RETURNED"]

    # The citizen's list shows the one parent, not its parts.
    listed = await gql(client, "{ myDossiers { edges { node { code } } } }", who=who)
    assert [e["node"]["code"] for e in listed["data"]["myDossiers"]["edges"]] == [parent_code]


async def test_a_part_form_error_points_at_the_parent_field(client: httpx.AsyncClient, settings: Settings):
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": "LT.KS-TT-BHYT", "f": {**FORM, "clinic": "x" * 201}}, who=who)
    assert body["data"]["submitDossier"]["dossier"] is None
    assert {"code": "INVALID_LENGTH", "field": "formData.clinic"} in body["data"]["submitDossier"]["errors"]
