"""The BOLA matrix: every argument in the schema that names a record is found by introspection, classified,
and, where it names something a citizen owns, tried as citizen A with citizen B's ids (raw and as forged
global ids) over HTTP and over the WebSocket.

Zero leaks (none of B's distinctive values in any answer A gets), nothing of B's changed, and an answer to a
foreign id identical to the answer to a missing one (same code, message and shape). A new field or input
field that takes an identifier fails `test_every_id_argument_in_the_schema_is_classified` until it is added
to ARGUMENTS below, with a probe when a citizen owns what it names.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from websockets.asyncio.client import connect

from api.auth import issue_dev_token
from core.db import Database
from core.models import Device, Draft
from core.settings import Settings
from tests.notifications.support import FORM, agency_event, forwarded_dossier, register
from tests.notifications.test_subscription import _next, subscribed
from tests.support import Citizen, RunningSandbox, citizen, gql, until_received
from tests.uploads.tus_client import jpeg_bytes, uploaded

SEEDED_B = "040192004567"  # seeded with a dossier in each of the ten statuses and one document
MARKER = "Zqxw-bimat-7731"  # B's distinctive value, in B's dossier form and B's draft
MISSING_CODE = "000.00.00.G09-991231-9999"
PUSH_FIELDS = ("results { clientMutationId seq status originalStatus recordType version record "
               "conflicts { field serverValue yourValue } error { code field message messageVi messageEn } "
               "expectedSeq } lastAppliedSeq")

INTROSPECT = """{ __schema { types { kind name
  fields(includeDeprecated: true) { name args { name type { ...T } } }
  inputFields { name type { ...T } } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"""

# Names of arguments and input fields that name a record (besides every argument of type ID).
_ID_NAME = re.compile(r"(?i)^(id|ids|code|codes|token|key|after|before|checkpoint)$|(Id|Ids|Code|Token|Key|From)$")


def _gid(type_name: str, key: object) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


@dataclass(frozen=True)
class Victim:
    """Citizen B, with something of every kind a citizen owns."""

    who: Citizen
    name: str
    dossier_code: str  # withdrawable
    supplement_code: str  # SUPPLEMENT_REQUESTED
    forwarded_code: str  # carries MARKER in its form
    document_id: str  # the document's global id
    document_key: str
    document_number: str
    notification_id: str
    device_token: str
    draft_id: str
    deleted_draft_id: str
    sync_client_id: str
    dossier_cursor: str
    notification_cursor: str
    access_log_cursor: str
    checkpoint: str
    upload_id: str  # complete, attached to nothing
    returned_code: str = ""  # RETURNED, not rated: rateable by B
    payment_code: str = ""  # PAYMENT_REQUESTED (a passport: 200,000 VND owed)

    def secrets(self) -> list[str]:
        return [self.who.id_number, self.name, MARKER, self.device_token, self.document_number, self.who.token]


@dataclass(frozen=True)
class Probe:
    """One way to name a record of B's: `pairs` are (foreign, missing) values of the same form."""

    argument: str  # the classified argument, as ARGUMENTS names it
    label: str
    query: str
    variables: Callable[[str], dict[str, Any]]
    pairs: list[tuple[str, str]]


async def _push(http: httpx.AsyncClient, who: Citizen, client_id: str, mutations: list[dict[str, Any]],
                fields: str = "lastAppliedSeq") -> dict[str, Any]:
    document = (f"mutation($input: SyncPushInput!) {{ syncPush(input: $input) {{ {fields} }} }}")
    return await gql(http, document, {"input": {"clientId": client_id, "schemaVersion": 3, "mutations": mutations}},
                     who=who)


def _mutation(intent: str, record_id: str | None, args: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"clientMutationId": "m-1", "seq": 1, "intent": intent, "recordId": record_id, "baseVersion": None,
            "args": args or {}}


@pytest.fixture(scope="module")
async def victim(server: str, settings: Settings, sandboxes: dict[str, RunningSandbox]) -> Victim:
    who = Citizen(SEEDED_B, issue_dev_token(settings, id_number=SEEDED_B))
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        seeded = await gql(http, "{ me { fullName documents { id number } } "
                                 "myDossiers(first: 100) { edges { cursor node { code status } } } }", who=who)
        by_status = {e["node"]["status"]: e["node"]["code"] for e in seeded["data"]["myDossiers"]["edges"]}
        forwarded = await forwarded_dossier(http, who, sandboxes["residence"])
        form_with_marker = {**FORM, "new_address": f"Số 9 {MARKER}, Ba Đình, Hà Nội"}
        marked = await gql(http, "mutation($f: JSON!) { submitDossier(input: {procedureCode: \"1.004194\", "
                                 "formData: $f}) { dossier { code } errors { code } } }", {"f": form_with_marker},
                           who=who)
        assert marked["data"]["submitDossier"]["errors"] == [], marked
        await until_received(sandboxes["residence"], marked["data"]["submitDossier"]["dossier"]["code"])
        await agency_event(http, forwarded, "accepted")
        token = f"fcm-victim-{secrets.token_urlsafe(16)}"
        assert (await register(http, who, token))["device"] is not None
        client_id, draft_id, deleted_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        created = await _push(http, who, client_id, [
            {**_mutation("draft.create", draft_id, {"procedureCode": "1.001193",
                                                    "fields": {"child_name": MARKER}}), "clientMutationId": "c-1"},
            {**_mutation("draft.create", deleted_id, {"procedureCode": "1.001193", "fields": {"child_name": MARKER}}),
             "clientMutationId": "c-2", "seq": 2},
            {**_mutation("draft.delete", deleted_id), "clientMutationId": "c-3", "seq": 3}])
        assert created["data"]["syncPush"]["lastAppliedSeq"] == 3, created
        inbox = await gql(http, "{ myNotifications(first: 1) { edges { cursor node { id } } } }", who=who)
        notification = inbox["data"]["myNotifications"]["edges"][0]
        page = await gql(http, "{ syncChanges(schemaVersion: 3, limit: 5) { checkpoint } }", who=who)
        access = await gql(http, "{ myDataAccessLog(first: 1) { edges { cursor } } }", who=who)
        upload_id = await uploaded(http, who, jpeg_bytes(5_000))
    document = seeded["data"]["me"]["documents"][0]
    return Victim(
        who=who, name=seeded["data"]["me"]["fullName"], dossier_code=by_status["SUBMITTED"],
        supplement_code=by_status["SUPPLEMENT_REQUESTED"], forwarded_code=marked["data"]["submitDossier"]["dossier"]
        ["code"], document_id=document["id"],
        document_key=base64.b64decode(document["id"]).decode().split(":", 1)[1], document_number=document["number"],
        notification_id=notification["node"]["id"], device_token=token, draft_id=draft_id,
        deleted_draft_id=deleted_id, sync_client_id=client_id,
        dossier_cursor=seeded["data"]["myDossiers"]["edges"][-1]["cursor"], notification_cursor=notification["cursor"],
        access_log_cursor=access["data"]["myDataAccessLog"]["edges"][0]["cursor"],
        checkpoint=page["data"]["syncChanges"]["checkpoint"], upload_id=upload_id,
        returned_code=by_status["RETURNED"],
        payment_code=by_status["PAYMENT_REQUESTED"])


# --- what every argument that names something is ------------------------------------------------------------

OWNED = "owned"  # names a record a citizen owns: probed below, foreign must equal missing
PUBLIC = "public"  # names a catalogue entry everyone may read
CURSOR = "cursor"  # a position in the caller's own list: B's cursor must show A only A's records
CLIENT_KEY = "client key"  # made up by the caller; never looks anything up across citizens
TAKEOVER = "takeover"  # a device token: holding it is the proof (core/devices.py), documented

ARGUMENTS: dict[str, str] = {
    "Query.procedures(after)": CURSOR,
    "Query.serviceDirectory(after)": CURSOR,  # a position in the public directory (category, order, tile id)
    "Query.procedure(code)": PUBLIC,
    "Query.screen(tileId)": PUBLIC,  # a tile of the public directory; descriptors hold no personal data
    "Query.myDossiers(after)": CURSOR,
    "Query.dossier(code)": OWNED,
    "Query.node(id)": OWNED,
    "Query.syncChanges(checkpoint)": CURSOR,
    "Query.syncPull(checkpoint)": CURSOR,
    "Query.myNotifications(after)": CURSOR,
    "Query.myDataAccessLog(after)": CURSOR,
    "Me.formPrefill(procedureCode)": PUBLIC,
    "Mutation.submitDossier(input.procedureCode)": PUBLIC,
    "Mutation.submitDossier(input.clientMutationId)": CLIENT_KEY,
    "Mutation.submitDossier(input.attachments)": OWNED,
    "Mutation.supplementDossier(input.attachments)": OWNED,
    "Mutation.supplementDossier(input.code)": OWNED,
    "Mutation.supplementDossier(input.clientMutationId)": CLIENT_KEY,
    "Mutation.payDossierFee(input.dossierCode)": OWNED,
    "Mutation.payDossierFee(input.clientMutationId)": CLIENT_KEY,
    "Mutation.withdrawDossier(input.code)": OWNED,
    "Mutation.withdrawDossier(input.clientMutationId)": CLIENT_KEY,
    "Mutation.syncPush(input.clientId)": OWNED,
    "Mutation.syncPush(input.pullFrom)": CURSOR,
    "Mutation.syncPush(input.mutations.clientMutationId)": CLIENT_KEY,
    "Mutation.syncPush(input.mutations.recordId)": OWNED,
    "Mutation.registerDevice(input.token)": TAKEOVER,
    "Mutation.registerDevice(input.clientMutationId)": CLIENT_KEY,
    "Mutation.unregisterDevice(input.token)": OWNED,
    "Mutation.unregisterDevice(input.clientMutationId)": CLIENT_KEY,
    "Mutation.markNotificationsRead(input.ids)": OWNED,
    "Mutation.markNotificationsRead(input.clientMutationId)": CLIENT_KEY,
    "Mutation.updateNotificationPreferences(input.clientMutationId)": CLIENT_KEY,
    "Mutation.rateDossier(input.dossierCode)": OWNED,
    "Mutation.rateDossier(input.clientMutationId)": CLIENT_KEY,
}


def _named(ref: dict[str, Any]) -> tuple[str, str]:
    while ref.get("ofType"):
        ref = ref["ofType"]
    return ref["kind"], ref["name"]


def id_arguments(types: list[dict[str, Any]]) -> set[str]:
    """Every argument (and input field under it, at any depth) of type ID or named like an identifier."""
    inputs = {t["name"]: t for t in types if t["kind"] == "INPUT_OBJECT"}
    found: set[str] = set()

    def walk(owner: str, path: str, ref: dict[str, Any], seen: frozenset[str]) -> None:
        kind, name = _named(ref)
        leaf = path.rsplit(".", 1)[-1]
        if kind == "INPUT_OBJECT" and name not in seen:
            for field in inputs[name]["inputFields"]:
                walk(owner, f"{path}.{field['name']}", field["type"], seen | {name})
        elif name == "ID" or _ID_NAME.search(leaf):
            found.add(f"{owner}({path})")

    for type_ in types:
        if type_["kind"] != "OBJECT" or type_["name"].startswith("__"):
            continue
        for field in type_["fields"] or []:
            for arg in field["args"]:
                walk(f"{type_['name']}.{field['name']}", arg["name"], arg["type"], frozenset())
    return found


async def test_every_id_argument_in_the_schema_is_classified(client: httpx.AsyncClient) -> None:
    body = await gql(client, INTROSPECT)
    found = id_arguments(body["data"]["__schema"]["types"])
    assert found - set(ARGUMENTS) == set(), "classify these in ARGUMENTS (and probe them if a citizen owns them)"
    assert set(ARGUMENTS) - found == set(), "these are no longer in the schema"
    probed = {p.argument for p in _probes(_placeholder())}
    assert {a for a, kind in ARGUMENTS.items() if kind == OWNED} - probed == set()


# --- the probes -------------------------------------------------------------------------------------------

_DOSSIER = "query($v: String!) { dossier(code: $v) { code status formData } }"
_NODE = "query($v: ID!) { node(id: $v) { id __typename ... on Dossier { code formData } ... on Document { number } } }"
_WITHDRAW = ("mutation($v: String!) { withdrawDossier(input: {code: $v}) { dossier { code status formData } "
             "errors { code field message messageVi messageEn } } }")
_SUPPLEMENT = ("mutation($v: String!) { supplementDossier(input: {code: $v, formData: {}}) "
               "{ dossier { code status formData } errors { code field message messageVi messageEn } } }")
_ATTACH = ("mutation($v: ID!, $f: JSON!) { submitDossier(input: {procedureCode: \"1.004194\", formData: $f, "
           "attachments: [$v]}) { dossier { code attachments { id sha256 } } errors { code field message } } }")
# A's supplement probe names no dossier of A's (A has none awaiting a supplement): it proves the refusal is
# alike; tests/uploads/test_attachments.py proves a foreign upload on A's own supplement is refused like a
# missing one (both paths attach through core.uploads.attach).
_ATTACH_SUPPLEMENT = ("mutation($v: ID!) { supplementDossier(input: {code: \"000.00.00.G09-991231-9999\", "
                      "formData: {}, attachments: [$v]}) { dossier { code } errors { code field message } } }")


_PAY = ("mutation($v: String!) { payDossierFee(input: {dossierCode: $v}) { payment { reference status gatewayUrl "
        "amountVnd } dossier { code status } errors { code field message messageVi messageEn } } }")
_MARK = "mutation($v: ID!) { markNotificationsRead(input: {ids: [$v]}) { markedIds unreadCount errors { code } } }"
_UNREGISTER = "mutation($v: String!) { unregisterDevice(input: {token: $v}) { removed } }"
_RATE = ("mutation($v: String!) { rateDossier(input: {dossierCode: $v, stars: 1, comment: \"A\"}) "
         "{ dossier { code status formData rating { stars comment } } errors { code field message } } }")
_PUSH = f"mutation($input: SyncPushInput!) {{ syncPush(input: $input) {{ {PUSH_FIELDS} }} }}"


def _sync(intent: str, args: Callable[[str], dict[str, Any]] | None = None,
          on_record: bool = True) -> Callable[[str], dict[str, Any]]:
    """A fresh install of A's for each push, so foreign and missing are answered from the same state."""
    def variables(value: str) -> dict[str, Any]:
        mutation = _mutation(intent, value if on_record else None, args(value) if args else None)
        return {"input": {"clientId": str(uuid.uuid4()), "schemaVersion": 3, "mutations": [mutation]}}
    return variables


def _placeholder() -> Victim:
    return Victim(Citizen("", ""), *[""] * 17)


def _probes(b: Victim) -> list[Probe]:
    missing_uuid = "00000000-0000-4000-8000-000000000000"
    dossier_pairs = [(b.dossier_code, MISSING_CODE), (_gid("Dossier", b.dossier_code), _gid("Dossier", MISSING_CODE)),
                     (b.forwarded_code, MISSING_CODE)]
    supplement_pairs = [(b.supplement_code, MISSING_CODE),
                        (_gid("Dossier", b.supplement_code), _gid("Dossier", MISSING_CODE))]
    notification_pairs = [(b.notification_id, "2147480000"), (_gid("InboxNotification", b.notification_id),
                                                               _gid("InboxNotification", "2147480000"))]
    code = {"Query.dossier(code)": _DOSSIER}
    return [
        *(Probe(arg, "dossier", q, lambda v: {"v": v}, dossier_pairs) for arg, q in code.items()),
        Probe("Query.node(id)", "dossier", _NODE, lambda v: {"v": v},
              [(_gid("Dossier", b.dossier_code), _gid("Dossier", MISSING_CODE)),
               (_gid("Dossier", b.forwarded_code), _gid("Dossier", MISSING_CODE)),
               (b.dossier_code, MISSING_CODE)]),
        Probe("Query.node(id)", "document", _NODE, lambda v: {"v": v},
              [(b.document_id, _gid("Document", "987654321")), (b.document_key, "987654321")]),
        Probe("Query.node(id)", "other kinds", _NODE, lambda v: {"v": v},
              [(_gid("Citizen", b.who.id_number), _gid("Citizen", "001090999999")),
               (_gid("InboxNotification", b.notification_id), _gid("InboxNotification", "2147480000")),
               (_gid("Draft", b.draft_id), _gid("Draft", missing_uuid)),
               (_gid("Device", b.device_token), _gid("Device", "fcm-missing"))]),
        Probe("Mutation.withdrawDossier(input.code)", "dossier", _WITHDRAW, lambda v: {"v": v}, dossier_pairs),
        Probe("Mutation.supplementDossier(input.code)", "dossier", _SUPPLEMENT, lambda v: {"v": v}, supplement_pairs),
        Probe("Mutation.submitDossier(input.attachments)", "upload", _ATTACH, lambda v: {"v": v, "f": FORM},
              [(b.upload_id, "missing-upload-" + "0" * 20)]),
        Probe("Mutation.supplementDossier(input.attachments)", "upload", _ATTACH_SUPPLEMENT, lambda v: {"v": v},
              [(b.upload_id, "missing-upload-" + "0" * 20)]),
        Probe("Mutation.rateDossier(input.dossierCode)", "dossier", _RATE, lambda v: {"v": v},
              [(b.returned_code, MISSING_CODE), (_gid("Dossier", b.returned_code), MISSING_CODE), *dossier_pairs]),
        Probe("Mutation.syncPush(input.mutations.recordId)", "dossier.rate", _PUSH,
              _sync("dossier.rate", lambda _: {"score": 1}), [(b.returned_code, MISSING_CODE)]),
        Probe("Mutation.payDossierFee(input.dossierCode)", "dossier", _PAY, lambda v: {"v": v},
              [(b.payment_code, MISSING_CODE), (b.dossier_code, MISSING_CODE)]),
        Probe("Mutation.syncPush(input.mutations.recordId)", "dossier.pay", _PUSH, _sync("dossier.pay"),
              [(b.payment_code, MISSING_CODE), (b.dossier_code, MISSING_CODE)]),
        Probe("Mutation.markNotificationsRead(input.ids)", "notification", _MARK, lambda v: {"v": v},
              notification_pairs),
        Probe("Mutation.unregisterDevice(input.token)", "device", _UNREGISTER, lambda v: {"v": v},
              [(b.device_token, f"fcm-missing-{secrets.token_hex(4)}")]),
        *(Probe("Mutation.syncPush(input.mutations.recordId)", intent, _PUSH, _sync(intent, args),
                [(b.draft_id, missing_uuid), (b.deleted_draft_id, missing_uuid)])
          for intent, args in [("draft.update", lambda _: {"fields": {"child_name": "A was here"}}),
                               ("draft.delete", None), ("draft.restore", None), ("draft.submit", None),
                               ("draft.create", lambda _: {"procedureCode": "1.001193", "fields": {}})]
          if intent != "draft.create"),
        Probe("Mutation.syncPush(input.mutations.recordId)", "dossier.withdraw", _PUSH, _sync("dossier.withdraw"),
              dossier_pairs),
        Probe("Mutation.syncPush(input.mutations.recordId)", "dossier.supplement", _PUSH,
              _sync("dossier.supplement", lambda _: {"fields": {"note": "A"}}), supplement_pairs),
        Probe("Mutation.syncPush(input.mutations.recordId)", "notifications.markRead", _PUSH,
              _sync("notifications.markRead", lambda v: {"ids": [int(v)]}, on_record=False),
              [(b.notification_id, "2147480000")]),
        Probe("Mutation.syncPush(input.clientId)", "install", _PUSH,
              lambda v: {"input": {"clientId": v, "schemaVersion": 3,
                                   "mutations": [_mutation("draft.delete", "00000000-0000-4000-8000-000000000001")]}},
              []),  # an install id is made by the app: B's is refused (below), a new one is registered
    ]


async def _snapshot(http: httpx.AsyncClient, db: Database, b: Victim) -> dict[str, Any]:
    """Everything of B's that A's probes could change."""
    view = await gql(http, "{ myDossiers(first: 100) { edges { node { code status version formData } } } "
                           "myNotifications(first: 50) { edges { node { id read } } } }", who=b.who)
    async with db.read() as session:
        drafts = [(d.id, d.status, d.version, d.fields) for d in (await session.execute(
            select(Draft).where(col(Draft.id).in_([b.draft_id, b.deleted_draft_id])).order_by(col(Draft.id))))
            .scalars()]
        devices = list((await session.execute(select(Device.token).where(Device.token == b.device_token))).scalars())
    return {"view": view, "drafts": drafts, "devices": devices}


def _assert_no_leak(body: dict[str, Any], b: Victim) -> None:
    text = json.dumps(body, ensure_ascii=False)
    for secret in [*b.secrets(), b.dossier_code, b.supplement_code, b.forwarded_code, b.returned_code]:
        assert secret not in text, (secret, body)


async def test_citizen_a_with_citizen_bs_ids_over_http_sees_nothing_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings, victim: Victim,
) -> None:
    a = citizen(settings)
    await gql(client, "{ me { fullName } }", who=a)
    before = await _snapshot(client, db, victim)
    differences: list[str] = []
    for probe in _probes(victim):
        for foreign, missing in probe.pairs:
            theirs = await gql(client, probe.query, probe.variables(foreign), who=a)
            nothing = await gql(client, probe.query, probe.variables(missing), who=a)
            _assert_no_leak(theirs, victim)
            if theirs != nothing:
                differences.append(f"{probe.argument} [{probe.label}] {foreign!r}:\n  foreign {theirs}\n"
                                   f"  missing {nothing}")
    assert differences == [], "\n".join(differences)
    assert await _snapshot(client, db, victim) == before


async def test_a_foreign_install_id_is_refused_and_reveals_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings, victim: Victim,
) -> None:
    a = citizen(settings)
    before = await _snapshot(client, db, victim)
    body = await gql(client, _PUSH, {"input": {"clientId": victim.sync_client_id, "schemaVersion": 3,
                                               "mutations": [_mutation("draft.delete", victim.draft_id)]}}, who=a)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SYNC_CLIENT_NOT_OWNED"]
    assert body["data"] == {"syncPush": None}
    _assert_no_leak(body, victim)
    assert await _snapshot(client, db, victim) == before


async def test_citizen_bs_cursors_show_a_only_their_own_records(
    client: httpx.AsyncClient, db: Database, settings: Settings, victim: Victim,
) -> None:
    a = citizen(settings)
    await gql(client, "{ me { fullName } }", who=a)
    queries = [
        ("query($v: String!) { myDossiers(after: $v) { edges { node { code formData } } } }", victim.dossier_cursor),
        ("query($v: String!) { myNotifications(after: $v) { edges { node { id dossierCode } } } }",
         victim.notification_cursor),
        ("query($v: String!) { syncChanges(schemaVersion: 3, checkpoint: $v) { changes { type id data } } }",
         victim.checkpoint),
        ("query($v: String!) { myDataAccessLog(after: $v) { edges { node { at operation data { en } } } } }",
         victim.access_log_cursor),
        (_PUSH.replace("$input: SyncPushInput!", "$v: String!").replace(
            "syncPush(input: $input)", 'syncPush(input: {clientId: "' + str(uuid.uuid4()) + '", schemaVersion: 3, '
            "mutations: [], pullFrom: $v})").replace(PUSH_FIELDS, "page { changes { type id data } }"),
         victim.checkpoint),
    ]
    for query, cursor in queries:
        body = await gql(client, query, {"v": cursor}, who=a)
        _assert_no_leak(body, victim)


async def test_the_socket_refuses_every_probe_alike_and_carries_only_the_callers_changes(
    server: str, client: httpx.AsyncClient, settings: Settings, victim: Victim,
    sandboxes: dict[str, RunningSandbox],
) -> None:
    """Over graphql-transport-ws only subscriptions run (`dossierStatusChanged`, no argument): a probe with B's
    id is refused exactly as one with a missing id."""
    a = citizen(settings)
    url = server.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {a.token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        n = 0
        for probe in _probes(victim):
            for foreign, missing in probe.pairs[:1]:
                answers = []
                for value in (foreign, missing):
                    n += 1
                    await ws.send(json.dumps({"id": str(n), "type": "subscribe",
                                              "payload": {"query": probe.query, "variables": probe.variables(value)}}))
                    message = json.loads(await ws.recv())
                    assert message["id"] == str(n)
                    _assert_no_leak(message, victim)
                    answers.append({k: v for k, v in message.items() if k != "id"})
                assert answers[0] == answers[1], (probe.argument, probe.label, answers)

    own = await forwarded_dossier(client, a, sandboxes["residence"])
    async with subscribed(server, payload={"Authorization": f"Bearer {a.token}"}) as ws:
        await agency_event(client, victim.forwarded_code, "accepted")  # B's change first: A must not hear it
        await agency_event(client, own, "accepted")
        heard = await _next(ws)
    assert heard["payload"]["data"]["dossierStatusChanged"]["dossierCode"] == own
    _assert_no_leak(heard, victim)
