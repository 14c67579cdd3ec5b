"""The privacy audit trail over real HTTP: reads of @personal fields and changes of personal data are recorded,
the citizen reads their own log, a trail that cannot be written withholds the data, and the chain holds under
concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlmodel import col
from websockets.asyncio.client import connect

from core import audit
from core.db import Database
from core.models import Agency, AuditEntry, Citizen
from core.settings import Settings
from tests.notifications.support import agency_event, forwarded_dossier
from tests.support import Citizen as Person
from tests.support import RunningSandbox, citizen, error_codes, gql


async def _rows_of(db: Database, id_number: str, *, actor: str = "citizen") -> list[AuditEntry]:
    """The citizen's rows by one kind of actor (the forwarder's agency rows come when delivery settles)."""
    async with db.read() as session:
        found = (await session.execute(select(Citizen).where(col(Citizen.id_number) == id_number))).scalar_one()
        rows = await session.execute(select(AuditEntry).where(col(AuditEntry.subject_citizen_id) == found.id,
                                                              col(AuditEntry.actor_kind) == actor)
                                     .order_by(col(AuditEntry.seq)))
        return list(rows.scalars().all())


@contextlib.asynccontextmanager
async def refusing_audit_writes(db: Database) -> AsyncIterator[None]:
    """Every insert into the trail fails (as a full disk or a revoked grant would) until the block ends."""
    async with db.write() as session:
        if db.dialect == "sqlite":
            await session.execute(text("CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_entry "
                                       "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"))
        else:
            await session.execute(text("ALTER TABLE audit_entry ADD CONSTRAINT audit_refuse CHECK (seq < 0) "
                                       "NOT VALID"))
    try:
        yield
    finally:
        async with db.write() as session:
            if db.dialect == "sqlite":
                await session.execute(text("DROP TRIGGER audit_refuse"))
            else:
                await session.execute(text("ALTER TABLE audit_entry DROP CONSTRAINT audit_refuse"))


async def test_reading_marked_fields_writes_one_row_listing_them(client: httpx.AsyncClient, settings: Settings,
                                                                  db: Database) -> None:
    who = citizen(settings)
    body = await gql(client, "query Profile { me { fullName phone birthDate } procedures(first: 1) "
                             "{ edges { cursor } } }", who=who)
    assert body["data"]["me"]["fullName"] == "Công Dân Thử"
    assert body["data"]["me"]["phone"] is None
    [row] = await _rows_of(db, who.id_number)  # a null shows nothing: `phone` is not listed
    assert (row.fields, row.operation, row.actor_kind, row.purpose) == (
        "Me.birthDate,Me.fullName", "Profile", "citizen", "self_service")
    assert row.actor_id == str(row.subject_citizen_id)
    assert len(row.request_id) == 32
    assert len(row.hash) == 64


async def test_fields_not_marked_write_no_row(client: httpx.AsyncClient, settings: Settings, db: Database) -> None:
    who = citizen(settings)
    body = await gql(client, "{ unreadNotificationCount myNotifications(first: 5) { edges { cursor } } "
                             "procedures(first: 2) { edges { node { code } } } }", who=who)
    assert body["data"]["unreadNotificationCount"] == 0
    assert await _rows_of(db, who.id_number) == []


async def test_a_plug_in_field_marked_personal_is_audited_with_no_code(client: httpx.AsyncClient,
                                                                        settings: Settings, db: Database) -> None:
    """`Me.libraryCard` of the example plug-in carries @personal and nothing else: the gateway records it."""
    who = citizen(settings)
    body = await gql(client, "query Card { me { libraryCard { number } } }", who=who)
    assert body["data"]["me"]["libraryCard"]["number"] == f"TV-{who.id_number[-6:]}"
    [row] = await _rows_of(db, who.id_number)
    assert (row.fields, row.operation) == ("Me.libraryCard", "Card")


async def test_a_change_is_recorded_in_its_own_transaction(client: httpx.AsyncClient, settings: Settings,
                                                           db: Database) -> None:
    who = citizen(settings)
    body = await gql(client, 'mutation { registerDevice(input: {token: "tok-audit-1", platform: "android"}) '
                             "{ device { platform } errors { code } } }", who=who)
    assert body["data"]["registerDevice"] == {"device": {"platform": "android"}, "errors": []}
    [row] = await _rows_of(db, who.id_number)
    assert (row.fields, row.operation) == ("Device.token", "registerDevice")


async def test_a_failing_audit_write_withholds_the_data(client: httpx.AsyncClient, settings: Settings,
                                                        db: Database) -> None:
    who = citizen(settings, name="Người Kiểm Toán")
    async with refusing_audit_writes(db):
        response = await client.post("/graphql", headers=who.headers,
                                     json={"query": "{ me { idNumber fullName } procedures(first: 1) "
                                                    "{ edges { cursor } } }"})
        change = await gql(client, 'mutation { registerDevice(input: {token: "tok-audit-2", platform: "ios"}) '
                                   "{ device { platform } errors { code messageEn } } }", who=who)
    body = response.json()
    assert response.status_code == 503
    assert error_codes(body) == ["AUDIT_UNAVAILABLE"]
    assert body.get("data") is None
    assert who.id_number not in response.text
    assert "Người Kiểm Toán" not in response.text
    assert body["errors"][0]["extensions"]["messageEn"].startswith("Access to personal data could not be recorded")
    assert change["data"]["registerDevice"]["device"] is None
    assert [e["code"] for e in change["data"]["registerDevice"]["errors"]] == ["AUDIT_UNAVAILABLE"]
    devices = await gql(client, "{ myDevices { platform } }", who=who)
    assert devices["data"]["myDevices"] == []  # the change rolled back with its audit row
    assert [r.fields for r in await _rows_of(db, who.id_number)] == ["Query.myDevices"]


async def test_the_citizen_reads_their_own_log_in_both_languages(client: httpx.AsyncClient, settings: Settings,
                                                                 db: Database) -> None:
    who, other = citizen(settings), citizen(settings)
    await gql(client, "query HomeScreen { me { fullName idNumber } }", who=who)
    await gql(client, "query Wallet { me { documents { number } } }", who=who)
    await gql(client, "query Mine { me { phone } }", who=other)
    log_query = """query($after: String) { myDataAccessLog(first: 1, after: $after) {
      edges { cursor node { actorKind actor { vi en } data { vi en } fields purpose { en } operation } }
      pageInfo { hasNextPage endCursor } } }"""
    first = (await gql(client, log_query, who=who))["data"]["myDataAccessLog"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["edges"][0]["node"] == {
        "actorKind": "CITIZEN", "actor": {"vi": "Bạn", "en": "You"},
        "data": [{"vi": "Giấy tờ trong ví điện tử", "en": "Documents in the wallet"}], "fields": ["Me.documents"],
        "purpose": {"en": "You viewing or using your own data in the app"}, "operation": "Wallet"}
    second = (await gql(client, log_query, {"after": first["pageInfo"]["endCursor"]}, who=who))["data"]
    [edge] = second["myDataAccessLog"]["edges"]
    assert edge["node"]["fields"] == ["Me.fullName", "Me.idNumber"]
    assert [d["en"] for d in edge["node"]["data"]] == ["Personal ID number", "Full name"]
    assert second["myDataAccessLog"]["pageInfo"]["hasNextPage"] is False  # the other citizen's row is not here
    assert len(await _rows_of(db, who.id_number)) == 2  # reading the log is not itself logged


async def test_twenty_concurrent_requests_keep_the_chain_linear(client: httpx.AsyncClient, settings: Settings,
                                                                db: Database) -> None:
    people = [citizen(settings) for _ in range(4)]
    for who in people:  # enrolled first, so the 20 requests below only read and audit
        await gql(client, "{ myDevices { platform } }", who=who)
    async with db.read() as session:
        before, broken = await audit.verify(session)
    assert broken is None
    bodies = await asyncio.gather(*(gql(client, "{ me { fullName birthDate } }", who=people[i % 4])
                                    for i in range(20)))
    assert all(b["data"]["me"]["fullName"] for b in bodies)
    async with db.read() as session:
        after, broken = await audit.verify(session)
    assert broken is None
    assert after == before + 20


SYNC = """query Pull($checkpoint: String) { syncChanges(schemaVersion: 3, checkpoint: $checkpoint, limit: 200) {
  changes { type data } checkpoint hasMore } }"""


async def _pull_all(client: httpx.AsyncClient, who: Person, checkpoint: str | None) -> tuple[list[Any], str]:
    changes: list[Any] = []
    while True:
        page = (await gql(client, SYNC, {"checkpoint": checkpoint}, who=who))["data"]["syncChanges"]
        changes += page["changes"]
        checkpoint = page["checkpoint"]
        if not page["hasMore"]:
            return changes, page["checkpoint"]


async def test_a_sync_pull_is_audited_only_when_it_returns_personal_records(
    client: httpx.AsyncClient, settings: Settings, db: Database, sandboxes: dict[str, RunningSandbox],
) -> None:
    who = citizen(settings)
    first, checkpoint = await _pull_all(client, who, None)
    assert {c["type"] for c in first} == {"procedure"}  # the public catalogue only
    assert await _rows_of(db, who.id_number) == []
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    after, _ = await _pull_all(client, who, checkpoint)
    assert code in {c["data"]["code"] for c in after if c["type"] == "dossier"}
    rows = await _rows_of(db, who.id_number)
    # The submission's change row (its transaction), its answer's read (`dossier { code status }` reads nothing
    # marked), then the pull that brought the dossier's form back.
    assert [(r.operation, r.fields) for r in rows] == [("submitDossier", "Dossier.formData"),
                                                       ("Pull", "SyncChange.data")]


async def test_a_subscription_event_with_personal_data_is_audited(
    server: str, client: httpx.AsyncClient, settings: Settings, db: Database, sandboxes: dict[str, RunningSandbox],
) -> None:
    who = citizen(settings)
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    before = len(await _rows_of(db, who.id_number))
    url = server.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {who.token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription Live { dossierStatusChanged { dossierCode dossier { formData } } }"}}))
        await asyncio.sleep(0.5)  # registered on the hub
        await agency_event(client, code, "accepted")
        async with asyncio.timeout(10):
            heard = json.loads(await ws.recv())
    assert heard["payload"]["data"]["dossierStatusChanged"]["dossierCode"] == code
    rows = (await _rows_of(db, who.id_number))[before:]
    assert [(r.operation, r.fields) for r in rows] == [("Live", "Dossier.formData")]


async def test_an_agency_receiving_the_dossier_shows_in_the_log_by_name(
    client: httpx.AsyncClient, settings: Settings, db: Database, sandboxes: dict[str, RunningSandbox],
) -> None:
    who = citizen(settings)
    code = await forwarded_dossier(client, who, sandboxes["residence"])
    async with asyncio.timeout(10):  # the delivery is recorded when the forwarder settles the job
        while not (rows := await _rows_of(db, who.id_number, actor="agency")):
            await asyncio.sleep(0.05)
    [row] = rows
    assert (row.fields, row.operation, row.purpose) == ("Dossier.formData,Me.idNumber", "forward:submit",
                                                        "dossier_processing")
    async with db.read() as session:
        agency = (await session.execute(select(Agency).where(col(Agency.code) == row.actor_id))).scalar_one()
    log = await gql(client, "{ myDataAccessLog(first: 10) { edges { node { actorKind actor { vi en } "
                            "purpose { en } data { en } } } } }", who=who)
    nodes = [e["node"] for e in log["data"]["myDataAccessLog"]["edges"]]
    assert {"actorKind": "AGENCY", "actor": {"vi": agency.name_vi, "en": agency.name_en},
            "purpose": {"en": "Processing your dossier"},
            "data": [{"en": "Personal ID number"}, {"en": "Dossier form answers"}]} in nodes
    assert code.startswith(agency.code)
