"""syncPush over real HTTP: exactly once, in order, never wedged, and only for the caller's own client id."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from core.settings import Settings
from tests.support import citizen, error_codes
from tests.sync.helpers import BIRTH, BIRTH_FORM, mutation, pull_all, push


async def test_a_create_is_applied_once_and_a_resend_answers_the_stored_original(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    batch = [mutation(1, "draft.create", draft, {"procedureCode": BIRTH, "fields": {"child_name": "An"}})]
    first = (await push(client, who, device, batch))["data"]["syncPush"]
    again = (await push(client, who, device, batch))["data"]["syncPush"]  # the first answer was "lost"
    assert [r["status"] for r in first["results"]] == ["APPLIED"]
    assert [(r["status"], r["originalStatus"]) for r in again["results"]] == [("DUPLICATE", "APPLIED")]
    assert again["results"][0]["record"] == first["results"][0]["record"]
    assert first["lastAppliedSeq"] == again["lastAppliedSeq"] == 1
    seen, _ = await pull_all(client, who)
    drafts = [c for c in seen.values() if c["type"] == "draft"]
    assert [(d["id"], d["version"], d["data"]["fields"]) for d in drafts] == [(draft, 1, {"child_name": "An"})]


async def test_a_gap_answers_out_of_order_and_stops_the_batch(settings: Settings, client: httpx.AsyncClient) -> None:
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    gap = [mutation(2, "draft.create", draft, {"procedureCode": BIRTH, "fields": {}}),
           mutation(3, "draft.update", draft, {"fields": {"child_name": "B"}})]
    body = (await push(client, who, device, gap))["data"]["syncPush"]
    assert [(r["status"], r["expectedSeq"]) for r in body["results"]] == [("OUT_OF_ORDER", 1)]
    assert body["lastAppliedSeq"] == 0


async def test_a_reordered_batch_is_applied_in_seq_order(settings: Settings, client: httpx.AsyncClient) -> None:
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    batch = [mutation(2, "draft.update", draft, {"fields": {"child_name": "Sau"}}, base=1),
             mutation(1, "draft.create", draft, {"procedureCode": BIRTH, "fields": {"child_name": "Trước"}})]
    body = (await push(client, who, device, batch))["data"]["syncPush"]
    assert [(r["seq"], r["status"]) for r in body["results"]] == [(1, "APPLIED"), (2, "APPLIED")]
    assert body["results"][1]["record"]["fields"] == {"child_name": "Sau"}


async def test_a_rejected_mutation_consumes_its_seq_so_the_queue_moves_on(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    batch = [mutation(1, "draft.create", draft, {"procedureCode": "9.999999", "fields": {}}),
             mutation(2, "draft.create", draft, {"procedureCode": BIRTH, "fields": {}}),
             mutation(3, "draft.update", draft, {"fields": {}, "status": "submitted"}, base=1),
             mutation(4, "dossier.rate", "000.00.00.G09-260101-0001", {"score": 5})]
    body = (await push(client, who, device, batch))["data"]["syncPush"]
    answers = [(r["status"], (r["error"] or {}).get("code")) for r in body["results"]]
    assert answers == [("REJECTED", "PROCEDURE_NOT_AVAILABLE"), ("APPLIED", None),
                       ("REJECTED", "SERVER_OWNED_FIELD"), ("REJECTED", "NOT_FOUND")]
    assert body["lastAppliedSeq"] == 4


async def test_an_unreadable_mutation_is_quarantined_not_dropped(
        settings: Settings, client: httpx.AsyncClient, db: object) -> None:
    who, device = citizen(settings), str(uuid.uuid4())
    body = (await push(client, who, device, [mutation(1, "draft.frobnicate", "x", {"a": 1})]))["data"]["syncPush"]
    assert [(r["status"], r["error"]["code"]) for r in body["results"]] == [("REJECTED", "MUTATION_QUARANTINED")]
    metrics = (await client.get("/metrics")).text
    count = [line for line in metrics.splitlines() if line.startswith("superapp_sync_quarantined_mutations_total ")]
    assert float(count[0].split()[1]) >= 1


async def test_another_citizens_client_id_is_refused_whatever_is_sent(
        settings: Settings, client: httpx.AsyncClient) -> None:
    owner, intruder, device, draft = citizen(settings), citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    await push(client, owner, device, [mutation(1, "draft.create", draft, {"procedureCode": BIRTH, "fields": {}})])
    for batch in ([], [mutation(1, "draft.create", draft, {"procedureCode": BIRTH, "fields": {}})],
                  [mutation(2, "draft.delete", draft, base=1)]):
        body = await push(client, intruder, device, batch)
        assert body["data"] is None or body["data"]["syncPush"] is None
        assert error_codes(body) == ["SYNC_CLIENT_NOT_OWNED"]
    seen, _ = await pull_all(client, owner)
    assert seen[("draft", draft)]["deleted"] is False  # nothing the intruder sent was applied
    own_device = str(uuid.uuid4())  # and the intruder cannot touch the owner's draft with their own client
    body = await push(client, intruder, own_device, [mutation(1, "draft.delete", draft, base=1)])
    result = body["data"]["syncPush"]["results"][0]  # answered as for a draft that does not exist
    assert (result["status"], result["version"], result["error"]) == ("APPLIED", None, None)
    seen, _ = await pull_all(client, owner)
    assert seen[("draft", draft)]["deleted"] is False


async def test_the_same_batch_on_two_connections_is_applied_once(
        settings: Settings, server: str) -> None:
    who, device = citizen(settings), str(uuid.uuid4())
    drafts = [str(uuid.uuid4()) for _ in range(6)]
    batch = [mutation(i + 1, "draft.create", d, {"procedureCode": BIRTH, "fields": {"child_name": str(i)}})
             for i, d in enumerate(drafts)]
    async with httpx.AsyncClient(base_url=server, timeout=30) as a, httpx.AsyncClient(base_url=server, timeout=30) as b:
        one, two = await asyncio.gather(push(a, who, device, batch), push(b, who, device, batch))
        statuses = sorted(r["status"] for body in (one, two) for r in body["data"]["syncPush"]["results"])
        assert statuses.count("APPLIED") == 6
        assert set(statuses) <= {"APPLIED", "DUPLICATE", "RETRY"}
        seen, _ = await pull_all(a, who)
    assert sorted(k[1] for k in seen if k[0] == "draft") == sorted(drafts)
    assert all(seen[("draft", d)]["version"] == 1 for d in drafts)


async def test_a_submitted_draft_becomes_a_dossier_once(settings: Settings, client: httpx.AsyncClient) -> None:
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    batch = [mutation(1, "draft.create", draft, {"procedureCode": BIRTH, "fields": BIRTH_FORM}),
             mutation(2, "draft.submit", draft, base=1)]
    body = (await push(client, who, device, batch))["data"]["syncPush"]
    assert [r["status"] for r in body["results"]] == ["APPLIED", "APPLIED"]
    code = body["results"][1]["record"]["dossierCode"]
    again = (await push(client, who, device, batch))["data"]["syncPush"]
    assert [r["status"] for r in again["results"]] == ["DUPLICATE", "DUPLICATE"]
    seen, _ = await pull_all(client, who)
    assert [k for k in seen if k[0] == "dossier"] == [("dossier", code)]
    assert seen[("draft", draft)]["data"]["status"] == "submitted"


async def test_an_unsupported_schema_version_is_a_typed_error(settings: Settings, client: httpx.AsyncClient) -> None:
    from sync.wire import PULL_DOCUMENT
    from tests.support import gql

    body = await gql(client, PULL_DOCUMENT, {"schemaVersion": 99}, who=citizen(settings))
    assert error_codes(body) == ["SCHEMA_VERSION_UNSUPPORTED"]
