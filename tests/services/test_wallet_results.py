"""Agency results into the wallet, end to end: the sandboxes sign what they issue, the server verifies it
against that agency's keys, stores it once, and the app sees it (GraphQL and the next sync page)."""

from __future__ import annotations

from typing import Any

import httpx

from core.settings import Settings
from services.agency_keys import agency_verify_keys
from services.registry import load_registry
from tests.support import SUBMIT, RunningSandbox, citizen, gql, until_received
from tests.sync.helpers import pull_all

FORM = {"child_name": "Trần Gia Bảo", "child_birth_date": "2026-10-20", "child_sex": "female",
        "place_of_birth": "Bệnh viện Phụ sản Hà Nội", "mother_name": "Trần Thị Mai",
        "new_address": "Số 3 ngõ 5 Phúc Xá, Ba Đình, Hà Nội", "clinic": "Bệnh viện Nhi Trung ương"}
OWNERS = {"1.001193": "civil_status", "1.004194": "residence", "1.001612": "social_insurance"}
PARTS = """query($c: String!) { dossier(code: $c) { status parts { code procedure { code } } documents { kind } } }"""
WALLET = """query($k: String) { me { documents(kind: $k, includeUnverified: true) {
  id kind number validFrom validUntil verification isValid
  signature signingKeyId signedPayload qrPayload holder { relation name birthDate } issuingAgency { code } } } }"""
VERIFY = """query($payload: String!) { verifyPayload(payload: $payload) { result claims signedBy } }"""


async def _returned_birth(client: httpx.AsyncClient, sandboxes: dict[str, RunningSandbox], who: Any,
                          **last_step: Any) -> str:
    """Submit the interconnected birth procedure and walk every part to `returned`; the parent's code."""
    body = await gql(client, SUBMIT, {"p": "LT.KS-TT-BHYT", "f": FORM}, who=who)
    assert body["data"]["submitDossier"]["errors"] == []
    parent_code: str = body["data"]["submitDossier"]["dossier"]["code"]
    parent = (await gql(client, PARTS, {"c": parent_code}, who=who))
    parts = {p["procedure"]["code"]: p["code"] for p in parent["data"]["dossier"]["parts"]}
    for procedure, code in parts.items():
        await until_received(sandboxes[OWNERS[procedure]], code)
        for step in range(4):
            answer = await sandboxes[OWNERS[procedure]].advance(code, **(last_step if step == 3 else {}))
            assert answer["callback_status"] == 200, answer
    return parent_code


async def _registered_birth(client: httpx.AsyncClient, civil: RunningSandbox, who: Any, *, result: str) -> Any:
    """A birth registration walked to `returned`, its result sent as `result` asks (tampered, foreign...); the
    sandbox's answer to the last step. (A residence registration filed alone would wait for its fee first.)"""
    body = await gql(client, SUBMIT, {"p": "1.001193", "f": {k: FORM[k] for k in (
        "child_name", "child_birth_date", "child_sex", "place_of_birth", "mother_name")}}, who=who)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await until_received(civil, code)
    for _ in range(3):
        await civil.advance(code)
    return await civil.advance(code, result=result)


async def test_the_interconnected_birth_procedure_delivers_three_signed_documents(
    client: httpx.AsyncClient, settings: Settings, sandboxes: dict[str, RunningSandbox]
) -> None:
    who = citizen(settings)
    parent_code = await _returned_birth(client, sandboxes, who)
    documents = (await gql(client, WALLET, who=who))["data"]["me"]["documents"]
    # The citizen follows the parent dossier: its detail lists the three results of its parts.
    parent = (await gql(client, PARTS, {"c": parent_code}, who=who))["data"]["dossier"]
    assert parent["status"] == "RETURNED"
    assert sorted(d["kind"] for d in parent["documents"]) == ["birth_certificate", "health_insurance_card",
                                                              "residence_confirmation"]
    assert sorted(d["kind"] for d in documents) == ["birth_certificate", "health_insurance_card",
                                                     "residence_confirmation"]
    for document in documents:
        assert (document["verification"], document["isValid"]) == ("VALID", True)
        assert document["signingKeyId"].startswith("agency:")
    for kind in ("birth_certificate", "health_insurance_card"):  # the residence part's form names no child
        holder = next(d["holder"] for d in documents if d["kind"] == kind)
        assert holder == {"relation": "child", "name": FORM["child_name"], "birthDate": "2026-10-20"}
    card = next(d for d in documents if d["kind"] == "health_insurance_card")
    assert card["validUntil"] == "2032-10-20"  # until the child turns six
    assert card["issuingAgency"]["code"] == "000.00.00.G22"

    # The signature verifies offline against the published agency keys, over exactly `signedPayload`.
    keys = {k.kid: k for k in agency_verify_keys(load_registry(settings, overrides={
        code: {"secret": f"test-secret-{code}"} for code in OWNERS.values()}))}
    for document in documents:
        assert keys[document["signingKeyId"]].verify(document["signedPayload"], document["signature"])

    # Each document's QR code verifies with nothing but the published keys (the public endpoint uses the same
    # key ring as the JWKS), and one changed character does not.
    for document in documents:
        payload = document["qrPayload"]
        assert len(payload) < 1024
        answer = (await gql(client, VERIFY, {"payload": payload}))["data"]["verifyPayload"]
        assert (answer["result"], answer["signedBy"]) == ("VALID", document["signingKeyId"])
        assert answer["claims"] == document["signedPayload"]
        cut = payload.index(".", 4) - 3  # inside the claims
        tampered = payload[:cut] + ("A" if payload[cut] != "A" else "B") + payload[cut + 1:]
        answer = (await gql(client, VERIFY, {"payload": tampered}))["data"]["verifyPayload"]
        assert answer["result"] != "VALID"
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert {d["signingKeyId"] for d in documents} <= {k["kid"] for k in jwks["keys"]}

    # `kind` offers only the matching documents.
    only = (await gql(client, WALLET, {"k": "birth_certificate"}, who=who))["data"]["me"]["documents"]
    assert [d["kind"] for d in only] == ["birth_certificate"]

    # The wallet opens with no signal: the three documents are in the sync page, signed form and all.
    seen, _ = await pull_all(client, who)
    synced = [c["data"] for (kind, _), c in seen.items() if kind == "document"]
    assert sorted(d["kind"] for d in synced) == ["birth_certificate", "health_insurance_card",
                                                  "residence_confirmation"]
    for record in synced:
        assert record["verification"] == "VALID"
        assert keys[record["signingKeyId"]].verify(record["signedPayload"], record["signature"])
        assert record["nodeId"] in {d["id"] for d in documents}


async def test_a_result_that_does_not_verify_is_flagged_and_never_valid(
    client: httpx.AsyncClient, settings: Settings, sandboxes: dict[str, RunningSandbox]
) -> None:
    who = citizen(settings)
    civil = sandboxes["civil_status"]
    answer = await _registered_birth(client, civil, who, result="tampered")
    assert answer["callback"]["outcome"] == "applied"
    documents = (await gql(client, WALLET, who=who))["data"]["me"]["documents"]
    assert [(d["verification"], d["isValid"]) for d in documents] == [("INVALID", False)]
    # An app that does not ask for unverified documents (the released `Wallet` operation) never sees it.
    plain = await gql(client, "{ me { documents { id number } } }", who=who)
    assert plain["data"]["me"]["documents"] == []

    # Replaying the event (the agency retries) changes nothing and stores no second document.
    replay = await civil.sandbox.send(civil.sandbox.sent[-1])
    assert replay.json()["outcome"] == "duplicate"
    assert len((await gql(client, WALLET, who=who))["data"]["me"]["documents"]) == 1


async def test_a_foreign_or_unknown_key_is_never_valid(
    client: httpx.AsyncClient, settings: Settings, sandboxes: dict[str, RunningSandbox]
) -> None:
    for mode, expected in (("foreign", "INVALID"), ("unknown_key", "UNKNOWN_KEY")):
        who = citizen(settings)
        assert (await _registered_birth(client, sandboxes["civil_status"], who, result=mode))["callback_status"] == 200
        documents = (await gql(client, WALLET, who=who))["data"]["me"]["documents"]
        assert [(d["kind"], d["verification"], d["isValid"]) for d in documents] == [
            ("birth_certificate", expected, False)]


async def test_a_malformed_result_is_refused_field_by_field(
    client: httpx.AsyncClient, settings: Settings, sandboxes: dict[str, RunningSandbox]
) -> None:
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": "1.004194", "f": {"new_address": FORM["new_address"]}}, who=who)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    residence = sandboxes["residence"].sandbox
    await until_received(sandboxes["residence"], code)
    event = {"event_id": "residence-bad-result-" + code[-4:] + who.id_number[-6:], "dossier_ref": code,
             "status": "2", "occurred_at": "2026-12-01T00:00:00+00:00",
             "result": {"document": {"kind": "Bad Kind", "number": "x\x00"}, "signature": "a", "kid": "k"}}
    answer = await residence.send(event)
    assert answer.status_code == 400
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"result.document.kind", "result.document.number", "result.document.holder",
            "result.document.issued_at"} <= fields
