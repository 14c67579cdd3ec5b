"""Paying a dossier's fees end to end: the residence agency's sandbox asks for payment, the citizen pays on the
sandbox gateway's page with test cards, and the gateway's signed notification (or, when it is lost, the
poller's status query) moves the dossier on. The gateway's own record of charges is the proof that nothing is
charged twice.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from core.clock import utc_now
from core.db import Database
from core.errors import DomainError, ErrorCode
from core.models import Citizen as CitizenRow
from core.models import Dossier, ForwardJob
from core.seed_data import PROCEDURES
from core.settings import Settings
from services.payment_gateway import PaymentGateway
from services.payment_sandbox import CARD_CONFIRMS, CARD_DECLINES, CARD_TIMES_OUT
from services.payments import PaymentPoller, pay
from services.signing import signed_headers
from tests.support import (
    SUBMIT,
    Citizen,
    RunningGateway,
    RunningSandbox,
    citizen,
    error_codes,
    gql,
    gql_with_cost,
    until_received,
)
from tests.sync.helpers import mutation, push

TEMPORARY_RESIDENCE = "1.004206"  # 15,000 VND, routed to the residence sandbox (national status codes)
SAMPLE = next(p["sample"] for p in PROCEDURES if p["code"] == TEMPORARY_RESIDENCE)
PAY = """mutation($c: String!, $m: String) { payDossierFee(input: {dossierCode: $c, clientMutationId: $m}) {
  payment { reference amountVnd status gatewayUrl attempts items { kind amountVnd description { vi en } }
            deadline problem { code } receipt { reference transactionId amountVnd paidAt } }
  dossier { code status } errors { code field messageVi messageEn } clientMutationId } }"""
PAYMENT = """query($c: String!) { dossier(code: $c) { status events { status source note { vi en } }
  payment { reference amountVnd status gatewayUrl items { kind amountVnd } deadline problem { code }
            receipt { reference transactionId amountVnd paidAt } } } }"""
INBOX = """{ myNotifications(first: 20) { edges { node { dossierCode status } } } }"""


async def payment_requested(client: httpx.AsyncClient, residence: RunningSandbox, who: Citizen) -> str:
    """A temporary-residence dossier the agency (its sandbox) has asked the citizen to pay for."""
    body = await gql(client, SUBMIT, {"p": TEMPORARY_RESIDENCE, "f": SAMPLE}, who=who)
    assert body["data"]["submitDossier"]["errors"] == [], body
    code = str(body["data"]["submitDossier"]["dossier"]["code"])
    await until_received(residence, code)
    for status in ("2", "4", "6"):  # accepted, processing, payment requested (national codes)
        answer = await residence.advance(code, status=status)
        assert answer["callback"]["outcome"] == "applied", answer
    return code


async def dossier(client: httpx.AsyncClient, who: Citizen, code: str) -> dict[str, Any]:
    body = await gql(client, PAYMENT, {"c": code}, who=who)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["dossier"]
    return found


async def until_payment(client: httpx.AsyncClient, who: Citizen, code: str, status: str,
                        seconds: float = 30) -> dict[str, Any]:
    async with asyncio.timeout(seconds):
        while True:
            found = await dossier(client, who, code)
            if found["payment"] is not None and found["payment"]["status"] == status:
                return found
            await asyncio.sleep(0.1)


async def charges_for(gateway: RunningGateway, reference: str) -> list[dict[str, Any]]:
    charges: list[dict[str, Any]] = await gateway.control("/_control/charges")
    return [c for c in charges if c["order_reference"].startswith(f"{reference}-")]


@pytest.fixture
async def gateway_sends(gateway: RunningGateway) -> Any:
    yield gateway
    await gateway.control("/_control/callbacks", {"drop": False})


async def test_the_dossier_shows_what_it_owes_before_anything_is_paid(client: httpx.AsyncClient,
                                                                       sandboxes: dict[str, RunningSandbox],
                                                                       settings: Settings) -> None:
    who = citizen(settings)
    code = await payment_requested(client, sandboxes["residence"], who)
    found = await dossier(client, who, code)
    payment = found["payment"]
    assert found["status"] == "PAYMENT_REQUESTED"
    assert payment["status"] == "UNPAID"
    assert payment["amountVnd"] == 15000
    assert payment["items"] == [{"kind": "FEE", "amountVnd": 15000}]
    assert payment["reference"].startswith(f"TT-{code}-")
    assert payment["gatewayUrl"] is None
    assert payment["deadline"] > utc_now().isoformat()


async def test_declined_then_accepted_card_and_a_retried_request_charge_once(
        client: httpx.AsyncClient, sandboxes: dict[str, RunningSandbox], gateway: RunningGateway,
        settings: Settings, db: Database) -> None:
    who = citizen(settings)
    code = await payment_requested(client, sandboxes["residence"], who)
    first = (await gql(client, PAY, {"c": code, "m": "pay-1"}, who=who))["data"]["payDossierFee"]
    assert first["errors"] == [], first
    assert first["clientMutationId"] == "pay-1"
    payment = first["payment"]
    assert payment["status"] == "PENDING"
    assert payment["gatewayUrl"].startswith(gateway.url)
    # The retried request (a lost answer) is the same payment on the same page: no second order.
    again = (await gql(client, PAY, {"c": code}, who=who))["data"]["payDossierFee"]["payment"]
    assert (again["reference"], again["gatewayUrl"], again["attempts"]) == (payment["reference"],
                                                                             payment["gatewayUrl"], 1)

    declined = await gateway.pay(payment["gatewayUrl"], CARD_DECLINES)
    assert declined["status"] == "declined"
    found = await until_payment(client, who, code, "DECLINED")
    assert found["status"] == "PAYMENT_REQUESTED"  # a declined card moves nothing
    assert found["payment"]["problem"] == {"code": "PAYMENT_DECLINED"}

    retry = (await gql(client, PAY, {"c": code}, who=who))["data"]["payDossierFee"]["payment"]
    assert (retry["status"], retry["gatewayUrl"], retry["attempts"]) == ("PENDING", payment["gatewayUrl"], 2)
    paid = await gateway.pay(retry["gatewayUrl"], CARD_CONFIRMS)
    assert paid["status"] == "paid"
    found = await until_payment(client, who, code, "CONFIRMED")
    receipt = found["payment"]["receipt"]
    assert receipt["transactionId"] == paid["transaction_id"]
    assert (receipt["reference"], receipt["amountVnd"]) == (payment["reference"], 15000)
    assert found["status"] == "PROCESSING"
    assert found["events"][-1]["source"] == "system"
    assert payment["reference"] in found["events"][-1]["note"]["vi"]

    # Paying again after the confirmation: the same receipt, never a second charge.
    after = (await gql(client, PAY, {"c": code}, who=who))["data"]["payDossierFee"]
    assert after["errors"] == []
    assert after["payment"]["status"] == "CONFIRMED"
    twice = await gateway.pay(payment["gatewayUrl"], CARD_CONFIRMS)
    assert twice.get("error") == "order is paid"
    assert len(await charges_for(gateway, payment["reference"])) == 1

    # The citizen is told (an inbox entry for the move back to processing), and so is the agency.
    inbox = (await gql(client, INBOX, who=who))["data"]["myNotifications"]["edges"]
    assert {"dossierCode": code, "status": "PROCESSING"} in [edge["node"] for edge in inbox]
    async with db.read() as session:
        row = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
        jobs = list((await session.execute(select(ForwardJob).where(ForwardJob.dossier_id == row.id,
                                                                    ForwardJob.action == "payment"))).scalars())
    assert len(jobs) == 1
    async with asyncio.timeout(15):
        while not any(a.action == "payment" and a.dossier_code == code
                      for a in sandboxes["residence"].sandbox.actions.values()):
            await asyncio.sleep(0.05)


async def test_concurrent_requests_open_one_order(client: httpx.AsyncClient, sandboxes: dict[str, RunningSandbox],
                                                  gateway: RunningGateway, settings: Settings) -> None:
    who = citizen(settings)
    code = await payment_requested(client, sandboxes["residence"], who)
    answers = await asyncio.gather(*(gql(client, PAY, {"c": code}, who=who) for _ in range(4)))
    urls = {a["data"]["payDossierFee"]["payment"]["gatewayUrl"] for a in answers}
    assert len(urls) == 1
    orders = [o for o in await gateway.control("/_control/orders") if o["order_reference"].startswith(f"TT-{code}-")]
    assert len(orders) == 1


async def test_a_lost_notification_is_recovered_by_polling(client: httpx.AsyncClient,
                                                           sandboxes: dict[str, RunningSandbox],
                                                           gateway_sends: RunningGateway, settings: Settings) -> None:
    gateway = gateway_sends
    who = citizen(settings)
    code = await payment_requested(client, sandboxes["residence"], who)
    payment = (await gql(client, PAY, {"c": code}, who=who))["data"]["payDossierFee"]["payment"]
    await gateway.control("/_control/callbacks", {"drop": True})
    paid = await gateway.pay(payment["gatewayUrl"], CARD_CONFIRMS)
    assert paid["status"] == "paid"
    found = await until_payment(client, who, code, "CONFIRMED")
    assert found["payment"]["receipt"]["transactionId"] == paid["transaction_id"]
    assert found["status"] == "PROCESSING"
    sent = [n for n in await gateway.control("/_control/notifications")
            if n["order_reference"].startswith(f"TT-{code}-")]
    assert [n["dropped"] for n in sent] == [True]  # no notification arrived: the poller asked
    assert (await gateway.control("/_control/requests")).get("status", 0) >= 1
    assert len(await charges_for(gateway, payment["reference"])) == 1


async def test_an_order_that_never_settles_expires_and_a_new_one_is_charged_once(
        client: httpx.AsyncClient, sandboxes: dict[str, RunningSandbox], gateway: RunningGateway,
        settings: Settings, db: Database) -> None:
    who = citizen(settings)
    code = await payment_requested(client, sandboxes["residence"], who)
    payment = (await gql(client, PAY, {"c": code}, who=who))["data"]["payDossierFee"]["payment"]
    stuck = await gateway.pay(payment["gatewayUrl"], CARD_TIMES_OUT)
    assert stuck["status"] == "processing"
    # A poller round an hour later (the server's own poller cancels after an hour too): the order is cancelled.
    poller = PaymentPoller(db=db, settings=settings.payments.model_copy(update={"gateway_url": gateway.url}))
    await poller.poll_once(now=utc_now() + timedelta(hours=2))
    assert (await dossier(client, who, code))["payment"]["status"] == "EXPIRED"
    fresh = (await gql(client, PAY, {"c": code}, who=who))["data"]["payDossierFee"]["payment"]
    assert fresh["status"] == "PENDING"
    assert fresh["gatewayUrl"] != payment["gatewayUrl"]
    assert fresh["reference"] == payment["reference"]
    await gateway.pay(fresh["gatewayUrl"], CARD_CONFIRMS)
    await until_payment(client, who, code, "CONFIRMED")
    charges = await charges_for(gateway, payment["reference"])
    assert [c["order_reference"] for c in charges] == [f"{payment['reference']}-2"]


async def test_a_forged_or_stale_notification_is_refused(client: httpx.AsyncClient,
                                                          sandboxes: dict[str, RunningSandbox],
                                                          gateway_sends: RunningGateway, settings: Settings) -> None:
    who = citizen(settings)
    code = await payment_requested(client, sandboxes["residence"], who)
    payment = (await gql(client, PAY, {"c": code}, who=who))["data"]["payDossierFee"]["payment"]
    event = {"event_id": str(uuid.uuid4()), "order_reference": f"{payment['reference']}-1", "status": "paid",
             "amount_vnd": 15000, "transaction_id": "FORGED"}
    body = json.dumps(event).encode()
    now = str(int(utc_now().timestamp()))
    forged = await client.post("/payments/callback", content=body, headers=signed_headers(b"not-the-secret", now, body))
    assert (forged.status_code, forged.json()["reason"]) == (401, "BAD_SIGNATURE")
    secret = settings.payments.secret.get_secret_value().encode()
    stale = str(int(utc_now().timestamp()) - 3600)
    old = await client.post("/payments/callback", content=body, headers=signed_headers(secret, stale, body))
    assert (old.status_code, old.json()["reason"]) == (401, "STALE_TIMESTAMP")
    unsigned = await client.post("/payments/callback", content=body)
    assert unsigned.status_code == 401
    wrong_amount = json.dumps({**event, "amount_vnd": 1}).encode()
    mismatch = await client.post("/payments/callback", content=wrong_amount,
                                 headers=signed_headers(secret, now, wrong_amount))
    assert (mismatch.status_code, mismatch.json()["outcome"]) == (409, "amount_mismatch")
    found = await dossier(client, who, code)
    assert (found["status"], found["payment"]["status"]) == ("PAYMENT_REQUESTED", "PENDING")
    assert await charges_for(gateway_sends, payment["reference"]) == []


async def test_another_citizen_can_neither_see_nor_pay(client: httpx.AsyncClient,
                                                       sandboxes: dict[str, RunningSandbox],
                                                       gateway: RunningGateway, settings: Settings) -> None:
    owner, other = citizen(settings), citizen(settings)
    code = await payment_requested(client, sandboxes["residence"], owner)
    paid = await gql(client, PAY, {"c": code}, who=other)
    assert error_codes(paid) == ["NOT_FOUND"]
    seen = await gql(client, PAYMENT, {"c": code}, who=other)
    assert error_codes(seen) == ["NOT_FOUND"]
    assert (await dossier(client, owner, code))["payment"]["status"] == "UNPAID"
    anonymous = await gql(client, PAY, {"c": code})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_a_dossier_not_waiting_for_payment_cannot_be_paid(client: httpx.AsyncClient,
                                                                 sandboxes: dict[str, RunningSandbox],
                                                                 settings: Settings) -> None:
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": TEMPORARY_RESIDENCE, "f": SAMPLE}, who=who)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    answer = (await gql(client, PAY, {"c": code}, who=who))["data"]["payDossierFee"]
    assert [e["code"] for e in answer["errors"]] == ["PAYMENT_NOT_REQUESTED"]
    assert answer["errors"][0]["messageVi"]
    assert answer["errors"][0]["messageEn"]
    assert answer["payment"] is None
    too_long = await gql(client, PAY, {"c": "x" * 65}, who=who)
    assert error_codes(too_long) == ["NOT_FOUND"]


async def test_offline_pay_intent_opens_one_order_however_often_the_queue_is_sent(
        client: httpx.AsyncClient, sandboxes: dict[str, RunningSandbox], gateway: RunningGateway,
        settings: Settings) -> None:
    who = citizen(settings)
    code = await payment_requested(client, sandboxes["residence"], who)
    install = str(uuid.uuid4())
    queued = [mutation(1, "dossier.pay", code, cmid="offline-pay-1")]
    first = await push(client, who, install, queued)
    again = await push(client, who, install, queued)  # the answer was lost: the queue is sent again
    results = [first["data"]["syncPush"]["results"][0], again["data"]["syncPush"]["results"][0]]
    assert [r["status"] for r in results] == ["APPLIED", "DUPLICATE"], results
    found = await until_payment(client, who, code, "PENDING")
    async with asyncio.timeout(15):
        while (found := await dossier(client, who, code))["payment"]["gatewayUrl"] is None:
            await asyncio.sleep(0.1)
    await gateway.pay(found["payment"]["gatewayUrl"], CARD_CONFIRMS)
    await until_payment(client, who, code, "CONFIRMED")
    orders = [o for o in await gateway.control("/_control/orders") if o["order_reference"].startswith(f"TT-{code}-")]
    assert len(orders) == 1
    assert len(await charges_for(gateway, found["payment"]["reference"])) == 1


async def test_procedures_carry_their_fees(client: httpx.AsyncClient) -> None:
    body = await gql(client, """{ procedure(code: "2.000986") {
      feeVnd fees { kind amountVnd description { vi en } } } }""")
    procedure = body["data"]["procedure"]
    assert sum(f["amountVnd"] for f in procedure["fees"]) == procedure["feeVnd"] == 200000
    assert {f["kind"] for f in procedure["fees"]} == {"FEE", "CHARGE"}


async def test_paying_costs_what_a_gateway_call_costs(client: httpx.AsyncClient, settings: Settings) -> None:
    """Quotas charge each operation its cost: a payment weighs like an agency call (25 over its fields)."""
    who = citizen(settings)
    body = await gql_with_cost(client, "mutation { payDossierFee(input: {dossierCode: \"x\"}) { errors { code } } }",
                               who=who)
    assert body["extensions"]["cost"]["requested"] == 1 + 25 + 1 + 1


async def test_the_agency_waits_for_the_payment_and_then_carries_on(client: httpx.AsyncClient,
                                                                     sandboxes: dict[str, RunningSandbox],
                                                                     gateway: RunningGateway,
                                                                     settings: Settings) -> None:
    """The residence sandbox walks its own road (as in `make run`): it asks for the fee after processing,
    waits there, and moves on (to processed) only once our payment notice reached it."""
    residence = sandboxes["residence"]
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": TEMPORARY_RESIDENCE, "f": SAMPLE}, who=who)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await until_received(residence, code)
    assert [(await residence.advance(code))["status"] for _ in range(3)] == ["2", "4", "6"]
    async with httpx.AsyncClient(base_url=residence.url, timeout=10) as http:
        waiting = await http.post(f"/_control/advance/{code}", json={})
    assert waiting.status_code == 409  # it waits for the payment
    payment = (await gql(client, PAY, {"c": code}, who=who))["data"]["payDossierFee"]["payment"]
    await gateway.pay(payment["gatewayUrl"], CARD_CONFIRMS)
    await until_payment(client, who, code, "CONFIRMED")
    async with asyncio.timeout(15):
        while residence.sandbox.dossier(code).awaiting_payment:  # type: ignore[union-attr]
            await asyncio.sleep(0.05)
    moved = await residence.advance(code)
    assert (moved["status"], moved["callback"]["outcome"]) == ("9", "applied")
    assert (await dossier(client, who, code))["status"] == "PROCESSED"


async def test_a_gateway_outage_leaves_the_payment_pending_and_the_poller_opens_it(
        client: httpx.AsyncClient, sandboxes: dict[str, RunningSandbox], gateway: RunningGateway,
        settings: Settings, db: Database) -> None:
    """The order could not be opened (the gateway did not answer): nothing is charged, the citizen is told
    PAYMENT_GATEWAY_UNAVAILABLE, and the server's poller opens the very same order later."""
    who = citizen(settings)
    code = await payment_requested(client, sandboxes["residence"], who)
    async with db.read() as session:
        owner = (await session.execute(select(CitizenRow).where(CitizenRow.id_number == who.id_number))).scalars().one()
    assert owner.id is not None
    down = settings.payments.model_copy(update={"gateway_url": "http://127.0.0.1:9", "timeout_seconds": 1.0})
    with pytest.raises(DomainError) as refused:
        await pay(db, PaymentGateway(down), down, citizen_id=owner.id, code=code)
    assert refused.value.code is ErrorCode.PAYMENT_GATEWAY_UNAVAILABLE
    async with asyncio.timeout(30):
        while (found := await dossier(client, who, code))["payment"]["gatewayUrl"] is None:
            assert found["payment"]["status"] == "PENDING"
            await asyncio.sleep(0.1)
    assert found["payment"]["gatewayUrl"].startswith(gateway.url)
    assert await charges_for(gateway, found["payment"]["reference"]) == []
