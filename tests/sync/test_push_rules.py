"""syncPush rules found by an independent client (issue 9): impossible seqs, a device's own queue, and input
limits that must be the same on SQLite and PostgreSQL, so no mutation is lost or left to retry forever."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from core.settings import Settings
from tests.support import citizen
from tests.sync.helpers import BIRTH, BIRTH_FORM, mutation, pull_all, push


def _answers(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    assert "errors" not in body, body
    return [(r["status"], (r["error"] or {}).get("code")) for r in body["data"]["syncPush"]["results"]]


@pytest.mark.parametrize("seq", [0, -1, -2147483648])
async def test_a_seq_below_one_is_rejected_never_a_duplicate(
        settings: Settings, client: httpx.AsyncClient, seq: int) -> None:
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    body = await push(client, who, device, [mutation(seq, "draft.create", draft, {"procedureCode": BIRTH})])
    [result] = body["data"]["syncPush"]["results"]
    assert (result["status"], result["originalStatus"], result["error"]["code"]) == (
        "REJECTED", None, "SEQUENCE_INVALID")
    assert body["data"]["syncPush"]["lastAppliedSeq"] == 0  # nothing consumed: seq 1 is still the next one
    body = await push(client, who, device, [mutation(1, "draft.create", draft, {"procedureCode": BIRTH})])
    assert _answers(body) == [("APPLIED", None)]


async def test_duplicate_only_repeats_a_recorded_answer(settings: Settings, client: httpx.AsyncClient) -> None:
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    create = mutation(1, "draft.create", draft, {"procedureCode": BIRTH, "fields": {"child_name": "An"}})
    batch = [mutation(0, "draft.update", draft, {"fields": {"child_name": "Sai"}}), create]
    assert _answers(await push(client, who, device, batch)) == [("REJECTED", "SEQUENCE_INVALID"), ("APPLIED", None)]
    again = (await push(client, who, device, [create]))["data"]["syncPush"]["results"]
    assert [(r["status"], r["originalStatus"]) for r in again] == [("DUPLICATE", "APPLIED")]
    # The same action sent again under a new seq (a client that renumbered) is still that one action.
    moved = {**create, "seq": 2}
    again = (await push(client, who, device, [moved]))["data"]["syncPush"]
    assert [(r["status"], r["originalStatus"], r["seq"]) for r in again["results"]] == [("DUPLICATE", "APPLIED", 2)]
    assert again["lastAppliedSeq"] == 2  # the seq holds that answer: the queue moves on
    again = (await push(client, who, device, [moved, mutation(3, "draft.update", draft, {"fields": {}}, base=1)]))
    assert [(r["status"], r["originalStatus"]) for r in again["data"]["syncPush"]["results"]] == [
        ("DUPLICATE", "APPLIED"), ("APPLIED", None)]
    seen, _ = await pull_all(client, who)
    assert seen[("draft", draft)]["data"]["fields"] == {"child_name": "An"}


async def test_a_devices_own_queue_never_conflicts_with_itself(
        settings: Settings, client: httpx.AsyncClient) -> None:
    """update, update, submit, each with the baseVersion last received from the server (1)."""
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    fields = {**BIRTH_FORM, "child_name": "Nháp"}
    body = await push(client, who, device, [mutation(1, "draft.create", draft, {"procedureCode": BIRTH,
                                                                                "fields": fields})])
    assert _answers(body) == [("APPLIED", None)]
    queue = [mutation(2, "draft.update", draft, {"fields": {"child_name": "Nguyễn Bé"}}, base=1),
             mutation(3, "draft.update", draft, {"fields": {"child_name": "Nguyễn Bé Na"}}, base=1),
             mutation(4, "draft.submit", draft, base=1)]
    results = (await push(client, who, device, queue))["data"]["syncPush"]["results"]
    assert [(r["status"], r["conflicts"], r["error"]) for r in results] == [("APPLIED", [], None)] * 3
    record = results[2]["record"]
    assert (record["status"], record["fields"]["child_name"], record["history"]) == (
        "submitted", "Nguyễn Bé Na", [])
    assert record["dossierCode"]


async def test_a_draft_created_offline_is_edited_and_submitted_from_base_zero(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    queue = [mutation(1, "draft.create", draft, {"procedureCode": BIRTH, "fields": BIRTH_FORM}, base=0),
             mutation(2, "draft.update", draft, {"fields": {"child_name": "Bé Hai"}}, base=0),
             mutation(3, "draft.submit", draft, base=0)]
    results = (await push(client, who, device, queue))["data"]["syncPush"]["results"]
    assert [(r["status"], r["conflicts"]) for r in results] == [("APPLIED", [])] * 3


async def test_another_installs_change_still_conflicts_with_a_base_from_before_it(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who, mine, other, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    await push(client, who, mine, [mutation(1, "draft.create", draft, {"procedureCode": BIRTH,
                                                                        "fields": BIRTH_FORM})])
    await push(client, who, other, [mutation(1, "draft.update", draft, {"fields": {"mother_name": "Khác"}}, base=1)])
    queue = [mutation(2, "draft.update", draft, {"fields": {"child_name": "Của tôi", "mother_name": "Tôi"}}, base=1),
             mutation(3, "draft.update", draft, {"fields": {"child_name": "Của tôi 2"}}, base=1),
             mutation(4, "draft.submit", draft, base=1)]
    results = (await push(client, who, mine, queue))["data"]["syncPush"]["results"]
    assert [r["status"] for r in results] == ["MERGED", "APPLIED", "APPLIED"]
    assert [(c["field"], c["serverValue"]) for c in results[0]["conflicts"]] == [("mother_name", "Khác")]
    assert results[1]["conflicts"] == []  # never against its own earlier value
    assert results[2]["record"]["status"] == "submitted"  # every field is now as this install left it


async def test_a_submit_conflicts_with_a_field_another_install_changed_after_its_base(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who, mine, other, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    await push(client, who, mine, [mutation(1, "draft.create", draft, {"procedureCode": BIRTH,
                                                                        "fields": BIRTH_FORM})])
    await push(client, who, other, [mutation(1, "draft.update", draft, {"fields": {"mother_name": "Khác"}}, base=1)])
    queue = [mutation(2, "draft.update", draft, {"fields": {"child_name": "Của tôi"}}, base=1),
             mutation(3, "draft.update", draft, {"fields": {"child_name": "Của tôi 2"}}, base=1),
             mutation(4, "draft.submit", draft, base=1)]
    results = (await push(client, who, mine, queue))["data"]["syncPush"]["results"]
    assert [(r["status"], r["conflicts"]) for r in results[:2]] == [("MERGED", []), ("MERGED", [])]
    assert results[2]["status"] == "CONFLICT"  # the citizen reviews the other install's mother_name first
    assert [(c["field"], c["serverValue"]) for c in results[2]["conflicts"]] == [("mother_name", "Khác")]
    assert results[2]["error"]["code"] == "INVALID_VALUE"


def _mark_read(seq: int, ids: list[Any]) -> dict[str, Any]:
    return mutation(seq, "notifications.markRead", None, {"ids": ids})


async def test_mark_read_ids_beyond_the_column_are_rejected_and_the_queue_moves_on(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who, device = citizen(settings), str(uuid.uuid4())
    queue = [_mark_read(1, [2**31]), _mark_read(2, [1, 2**53]), _mark_read(3, [0]), _mark_read(4, [-5]),
             _mark_read(5, [1, 2])]
    body = await push(client, who, device, queue)
    assert _answers(body) == [("REJECTED", "OUT_OF_RANGE")] * 4 + [("APPLIED", None)]
    assert [r["error"]["field"] for r in body["data"]["syncPush"]["results"][:4]] == [
        "args.ids[0]", "args.ids[1]", "args.ids[0]", "args.ids[0]"]
    assert body["data"]["syncPush"]["lastAppliedSeq"] == 5
    again = await push(client, who, device, queue[:1])  # answered, recorded, and repeated: never retried
    assert [(r["status"], r["originalStatus"]) for r in again["data"]["syncPush"]["results"]] == [
        ("DUPLICATE", "REJECTED")]


async def test_every_string_past_its_column_or_with_nul_is_rejected_on_both_databases(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who, device, draft = citizen(settings), str(uuid.uuid4()), str(uuid.uuid4())
    queue = [
        mutation(1, "dossier.withdraw", "X" * 65),
        mutation(2, "dossier.withdraw", "000.00.00.G09-260101-0001\x00"),
        mutation(3, "draft.create", draft, {"procedureCode": "1" * 33, "fields": {}}),
        mutation(4, "draft.create", draft, {"procedureCode": BIRTH, "fields": {"f" * 129: "x"}}),
        mutation(5, "draft.create", draft, {"procedureCode": BIRTH, "fields": {"child_name": "A\x00"}}),
        mutation(6, "draft.create", draft, {"procedureCode": BIRTH, "fields": {"n\x00": 1}}),
        mutation(7, "draft.update", draft, {"fields": {}}, base=-1),
        mutation(8, "draft.create" + "x" * 60, draft, {}),
        mutation(9, "draft.create", draft, {"procedureCode": BIRTH}, cmid="c" * 49),
        mutation(10, "draft.create", draft, {"procedureCode": BIRTH}, cmid="c\x00"),
        mutation(11, "draft.create", draft, {"procedureCode": BIRTH, "fields": {"child_name": "B\ud800"}}),
        mutation(12, "draft.create", draft, {"procedureCode": BIRTH, "fields": {"\udc00": 1}}),
        mutation(13, "dossier.withdraw", "000.00.00.G09-260101-0001\udfff"),
        mutation(14, "draft.create", draft, {"procedureCode": BIRTH}, cmid="c\ud83d"),
        mutation(15, "draft.create", draft, {"procedureCode": BIRTH, "fields": {"child_name": "Bé"}}),
    ]
    body = await push(client, who, device, queue)
    assert _answers(body) == [
        ("REJECTED", "INVALID_LENGTH"), ("REJECTED", "INVALID_VALUE"), ("REJECTED", "INVALID_LENGTH"),
        ("REJECTED", "INVALID_LENGTH"), ("REJECTED", "INVALID_VALUE"), ("REJECTED", "INVALID_VALUE"),
        ("REJECTED", "OUT_OF_RANGE"), ("REJECTED", "INVALID_LENGTH"), ("REJECTED", "INVALID_LENGTH"),
        ("REJECTED", "INVALID_VALUE"), *[("REJECTED", "INVALID_VALUE")] * 4, ("APPLIED", None)]
    fields = [r["error"]["field"] for r in body["data"]["syncPush"]["results"][:10]]
    assert fields == ["recordId", "recordId", "args.procedureCode", "args.fields." + "f" * 128,
                      "args.fields.child_name", "args.fields", "baseVersion", "intent", "clientMutationId",
                      "clientMutationId"]
    again = await push(client, who, device, queue[8:10])  # the over-long ids were recorded all the same
    assert [r["status"] for r in again["data"]["syncPush"]["results"]] == ["DUPLICATE", "DUPLICATE"]
