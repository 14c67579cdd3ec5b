"""docs/agency-api.yaml is the agency-facing contract: it is valid OpenAPI 3.1, what our forwarder and our
lookups really send to a running sandbox fits its request schemas (and names no field it does not), what
the sandbox answers fits its response schemas, and every answer of our events endpoint, each error class
included, fits what it says for that status. A renamed field on either side fails here.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.agency_events import MAX_EVENT_BYTES, OUTCOME_DETAIL, Refusal
from api.app import create_app
from core.agency_events import DOSSIER_CODE_MAX, EVENT_ID_MAX, NOTE_MAX, STATUS_WORD_MAX, Outcome
from core.db import Database
from core.seed_data import PROCEDURES
from core.settings import Settings
from services import client as agency_client
from services.agency_settings import AgencySettings
from services.civil_status.client import RegistrationData, registrations_of
from services.client import AgencyClient
from services.errors import AgencyRefused, AgencyUnavailable
from services.events import EventBody
from services.payment_sandbox import CARD_CONFIRMS
from services.registry import LoadFailure, ServiceRegistry
from services.residence import ResidenceService
from services.residence.client import PopulationRecordData, population_record
from services.sandbox_kit import SeenRequest
from services.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers
from services.social_insurance.client import CardData, card_of
from services.traffic_fines.client import FineData, pending_fines
from tests.services import agency_api_doc as doc
from tests.services.test_payments import PAY, payment_requested
from tests.support import (
    SUBMIT,
    Citizen,
    RunningGateway,
    RunningSandbox,
    agency_overrides,
    citizen,
    gql,
    new_id_number,
    sandbox_secret,
    serve,
)

SAMPLES = {p["code"]: p["sample"] for p in PROCEDURES}
EVENTS = "/agencies/{service}/events"
WITHDRAW = """mutation($c: String!) { withdrawDossier(input: {code: $c}) { errors { code } } }"""
SUPPLEMENT = """mutation($c: String!, $f: JSON!) { supplementDossier(input: {code: $c, formData: $f}) {
  errors { code } } }"""


def test_the_document_is_valid_openapi_3_1() -> None:
    assert doc.spec()["openapi"].startswith("3.1")
    validate(doc.spec())


def test_the_document_names_what_the_code_checks_and_answers() -> None:
    """The parts no real request exercises field by field: limits, enums, header names, reason keys."""
    event = doc.schema("StatusEvent")
    assert set(event["properties"]) == set(EventBody.model_fields)
    assert set(event["required"]) == {name for name, f in EventBody.model_fields.items() if f.is_required()}
    limits = {"event_id": EVENT_ID_MAX, "dossier_ref": DOSSIER_CODE_MAX, "status": STATUS_WORD_MAX,
              "occurred_at": 64, "note_vi": NOTE_MAX, "note_en": NOTE_MAX}
    assert {name: p["maxLength"] for name, p in event["properties"].items() if name != "result"} == limits
    result = doc.schema("IssuedResult")["properties"]
    assert (result["signature"]["maxLength"], result["kid"]["maxLength"]) == (128, 128)
    assert f"{MAX_EVENT_BYTES:,}" in event["description"]
    assert doc.schema("EventRefusal")["properties"]["reason"]["enum"] == [r.value for r in Refusal]
    headers = {p["name"] for p in doc.parameters(EVENTS, "post") if p["in"] == "header"}
    assert headers == {TIMESTAMP_HEADER, SIGNATURE_HEADER}
    assert doc.schema("EventConflict")["properties"]["reason"]["const"] == OUTCOME_DETAIL[Outcome.CONFLICT]["reason"]
    assert doc.schema("EventRejected")["properties"]["reason"]["const"] == OUTCOME_DETAIL[Outcome.REJECTED]["reason"]
    # What we do with an agency's answers: the keys its reason is read from, and the 4xx that are retried.
    assert list(doc.schema("AgencyRefusal")["properties"]) == list(agency_client._REASON_KEYS)
    retried = ", ".join(str(s) for s in sorted(agency_client.TRANSIENT_4XX)[:-1])
    assert f"{retried} and {max(agency_client.TRANSIENT_4XX)}" in doc.spec()["info"]["description"]
    assert f"{agency_client.REASON_MAX} characters" in doc.spec()["info"]["description"]


# --- (a) what we send to an agency -------------------------------------------------------------------------

@pytest.fixture
async def agencies(sandboxes: dict[str, RunningSandbox]) -> AsyncIterator[dict[str, RunningSandbox]]:
    yield sandboxes
    for running in sandboxes.values():
        await running.fault("ok")


async def _seen(running: RunningSandbox, match: Callable[[SeenRequest], bool], seconds: float = 15) -> SeenRequest:
    async with asyncio.timeout(seconds):
        while not (found := [r for r in list(running.sandbox.journal) if match(r)]):
            await asyncio.sleep(0.05)
    return found[0]


def _dossier_post(code: str) -> Callable[[SeenRequest], bool]:
    return lambda r: r.path == "/dossiers" and json.loads(r.body).get("dossier_code") == code


async def _submit(client: httpx.AsyncClient, who: Citizen, procedure: str) -> str:
    body = await gql(client, SUBMIT, {"p": procedure, "f": SAMPLES[procedure]}, who=who)
    assert body["data"]["submitDossier"]["errors"] == [], body
    return str(body["data"]["submitDossier"]["dossier"]["code"])


async def _replayed_answer(running: RunningSandbox, seen: SeenRequest, path: str) -> list[str]:
    """The agency's answer to the same request again (its key makes it a repeat), checked against the document."""
    async with httpx.AsyncClient(base_url=running.url, timeout=5) as http:
        answer = await http.post(seen.path, content=seen.body, headers=seen.headers)
    return doc.response_problems(path, "post", answer.status_code, answer.json())


async def test_a_forwarded_dossier_and_its_withdrawal_fit_the_document(
    client: httpx.AsyncClient, settings: Settings, agencies: dict[str, RunningSandbox]
) -> None:
    residence = agencies["residence"]
    who = citizen(settings)
    code = await _submit(client, who, "1.004206")
    dossier = await _seen(residence, _dossier_post(code))
    assert doc.request_problems(dossier, "/dossiers", "post") == []
    assert await _replayed_answer(residence, dossier, "/dossiers") == []

    assert (await residence.advance(code))["callback_status"] == 200
    assert (await gql(client, WITHDRAW, {"c": code}, who=who))["data"]["withdrawDossier"]["errors"] == []
    withdrawal = await _seen(residence, lambda r: r.path == f"/dossiers/{code}/withdrawal")
    assert doc.request_problems(withdrawal, "/dossiers/{code}/withdrawal", "post") == []
    assert await _replayed_answer(residence, withdrawal, "/dossiers/{code}/withdrawal") == []


async def test_a_forwarded_supplement_fits_the_document(
    client: httpx.AsyncClient, settings: Settings, agencies: dict[str, RunningSandbox]
) -> None:
    civil = agencies["civil_status"]
    who = citizen(settings)
    code = await _submit(client, who, "1.001193")
    dossier = await _seen(civil, _dossier_post(code))
    assert doc.request_problems(dossier, "/dossiers", "post") == []
    for status in ("DA_TIEP_NHAN", "DANG_XU_LY", "BO_SUNG"):
        assert (await civil.advance(code, status=status))["callback_status"] == 200
    body = await gql(client, SUPPLEMENT, {"c": code, "f": {"father_name": "Nguyễn Văn Bình"}}, who=who)
    assert body["data"]["supplementDossier"]["errors"] == [], body
    supplement = await _seen(civil, lambda r: r.path == f"/dossiers/{code}/supplements")
    assert doc.request_problems(supplement, "/dossiers/{code}/supplements", "post") == []
    assert await _replayed_answer(civil, supplement, "/dossiers/{code}/supplements") == []


async def test_a_forwarded_payment_notice_fits_the_document(
    client: httpx.AsyncClient, settings: Settings, agencies: dict[str, RunningSandbox], gateway: RunningGateway
) -> None:
    residence = agencies["residence"]
    who = citizen(settings)
    code = await payment_requested(client, residence, who)
    payment = (await gql(client, PAY, {"c": code}, who=who))["data"]["payDossierFee"]["payment"]
    assert (await gateway.pay(payment["gatewayUrl"], CARD_CONFIRMS))["status"] == "paid"
    notice = await _seen(residence, lambda r: r.path == f"/dossiers/{code}/payments")
    assert doc.request_problems(notice, "/dossiers/{code}/payments", "post") == []
    assert await _replayed_answer(residence, notice, "/dossiers/{code}/payments") == []


LOOKUPS: dict[str, tuple[str, str, Any, type[Any]]] = {
    "residence": ("/citizens/lookup", "PopulationRecord", population_record, PopulationRecordData),
    "social_insurance": ("/cards/lookup", "InsuranceCard", card_of, CardData),
    "traffic_fines": ("/fines/search", "Fine", pending_fines, FineData),
    "civil_status": ("/registrations/search", "Registration", registrations_of, RegistrationData),
}


@pytest.mark.parametrize("service", sorted(LOOKUPS))
async def test_a_lookup_by_id_number_fits_the_document(service: str, sandboxes: dict[str, RunningSandbox]) -> None:
    path, answer_schema, lookup, model = LOOKUPS[service]
    running = sandboxes[service]
    http = AgencyClient(code=service, name_vi=service, name_en=service,
                        settings=AgencySettings(base_url=running.url, secret="x"))
    id_number = new_id_number()
    try:
        await lookup(http, id_number)
    finally:
        await http.aclose()
    seen = await _seen(running, lambda r: r.path == path and json.loads(r.body).get("id_number") == id_number)
    assert id_number not in seen.path
    assert doc.request_problems(seen, path, "post") == []
    async with httpx.AsyncClient(base_url=running.url, timeout=5) as agency:
        answer = await agency.post(path, content=seen.body, headers=seen.headers)
    assert doc.response_problems(path, "post", answer.status_code,
                                 answer.json() if answer.status_code == 200 else None) == []
    shape = doc.schema(answer_schema)  # the document's answer is the shape our parser requires
    assert set(shape["required"]) == {n for n, f in model.model_fields.items() if f.is_required()}
    assert set(shape["properties"]) == set(model.model_fields)


# --- (b) what our events endpoint answers ------------------------------------------------------------------

async def _post(client: httpx.AsyncClient, body: bytes, *, service: str = "residence", secret: bytes | None = None,
                stamp: str | None = None) -> httpx.Response:
    headers = signed_headers(secret or sandbox_secret(service), stamp or str(int(time.time())), body)
    return await client.post(f"/agencies/{service}/events", content=body, headers=headers)


def _event(code: str, event_id: str, status: str, **extra: Any) -> bytes:
    event = {"event_id": event_id, "dossier_ref": code, "status": status,
             "occurred_at": "2026-11-20T08:00:00+07:00", **extra}
    assert doc.schema_problems(event, {"$ref": "#/components/schemas/StatusEvent"}) == []
    return json.dumps(event).encode()


async def test_every_answer_of_the_events_endpoint_fits_the_document(
    client: httpx.AsyncClient, settings: Settings, db: Database, sandboxes: dict[str, RunningSandbox]
) -> None:
    who = citizen(settings)
    code = await _submit(client, who, "1.004194")
    await _seen(sandboxes["residence"], _dossier_post(code))
    stale = str(int(time.time()) - settings.agencies.agency_event_window_seconds - 5)
    answers = {
        "applied": await _post(client, _event(code, "doc-1", "2")),
        "duplicate": await _post(client, _event(code, "doc-1", "2")),
        "conflict": await _post(client, _event(code, "doc-1", "4")),
        "rejected": await _post(client, _event(code, "doc-2", "10")),
        "unknown_dossier": await _post(client, _event("NO-SUCH-DOSSIER", "doc-3", "2")),
        "UNKNOWN_SERVICE": await _post(client, _event(code, "doc-4", "2"), service="no_such_agency"),
        "METHOD_NOT_ALLOWED": await client.get("/agencies/residence/events"),
        "BAD_TIMESTAMP": await _post(client, _event(code, "doc-5", "4"), stamp="soon"),
        "STALE_TIMESTAMP": await _post(client, _event(code, "doc-6", "4"), stamp=stale),
        "BAD_SIGNATURE": await _post(client, _event(code, "doc-7", "4"), secret=b"not-the-secret"),
        "BODY_TOO_LARGE": await _post(client, _event(code, "doc-8", "4", padding="x" * MAX_EVENT_BYTES)),
        "BAD_JSON": await _post(client, b"{not json"),
        "BAD_EVENT": await _post(client, json.dumps({"event_id": "doc 9", "occurred_at": 1}).encode()),
        "BAD_EVENT/UNKNOWN_STATUS": await _post(client, _event(code, "doc-10", "no-such-word")),
        "BAD_EVENT/NOT_AN_OBJECT": await _post(client, b"[1, 2]"),
        "BAD_GZIP": await client.post("/agencies/residence/events", content=b"not gzip",
                                      headers={"Content-Encoding": "gzip"}),
    }
    failed = LoadFailure("residence", "settings missing", plugin=ResidenceService, keeps_fields=True)
    not_serving = create_app(settings, db=db, registry=ServiceRegistry([], [failed]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(not_serving), base_url="http://superapp.test") as http:
        answers["SERVICE_UNAVAILABLE"] = await _post(http, _event(code, "doc-11", "2"))
    # In process (`memory`): a quota of one left in the shared table would refuse other tests' callbacks.
    one_event = create_app(settings.updated(quota={"service_limit": 1, "backend": "memory"}), db=db,
                           agencies=agency_overrides(sandboxes))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(one_event), base_url="http://superapp.test") as http:
        await _post(http, _event("NO-SUCH-DOSSIER", "doc-12", "2"))
        answers["RATE_LIMITED"] = await _post(http, _event("NO-SUCH-DOSSIER", "doc-13", "2"))
    sandbox_sent = await sandboxes["residence"].advance(code)  # an agency's own event, sent by the sandbox
    for name, answer in answers.items():
        problems = doc.response_problems(EVENTS, "post", answer.status_code, answer.json(), dict(answer.headers))
        assert problems == [], (name, answer.status_code, answer.text)
    assert doc.response_problems(EVENTS, "post", sandbox_sent["callback_status"], sandbox_sent["callback"]) == []

    # Every outcome and every refusal the code has was answered above, so the document covers them all.
    seen = {answer.json().get("reason") if answer.json()["outcome"] == "refused" else answer.json()["outcome"]
            for answer in answers.values()}
    assert seen == {o.value for o in Outcome} | {r.value for r in Refusal}
    problems = answers["BAD_EVENT"].json()["errors"] + answers["BAD_EVENT/UNKNOWN_STATUS"].json()["errors"]
    assert {p["code"] for p in problems} >= {"REQUIRED", "INVALID_CHARACTER", "INVALID_FORMAT", "UNKNOWN_STATUS"}


# --- what we do with an agency's answers -------------------------------------------------------------------

@pytest.mark.parametrize(("status", "body", "outcome"), [
    (201, b'{"reference": "R-1"}', "taken"),
    (204, b"", "retried"),  # the document: a 2xx must carry JSON; an empty one is taken as garbled
    (422, b'{"reason": "Thi\\u1ebfu gi\\u1ea5y t\\u1edd"}', "final"),
    *((status, b"{}", "retried") for status in (408, 425, 429, 500, 503)),
])
async def test_the_agencys_answers_are_treated_as_the_document_says(status: int, body: bytes, outcome: str) -> None:
    async def answer(_: Request) -> Response:
        return Response(body, status_code=status, media_type="application/json")

    with serve(Starlette(routes=[Route("/dossiers", answer, methods=["POST"])])) as url:
        agency = AgencyClient(code="doc", name_vi="doc", name_en="doc",
                              settings=AgencySettings(base_url=url, secret="x", retries=0, timeout=5))
        try:
            result: object = await agency.post_json("/dossiers", {}, idempotency_key="k")
        except AgencyRefused as refusal:
            result = ("final", refusal.detail)
        except AgencyUnavailable as unavailable:
            result = ("retried", unavailable.reason)
        finally:
            await agency.aclose()
    documented = doc.operation("/dossiers", "post")["responses"]
    # Every answer here is documented for /dossiers, but the bare 204 the document leaves out on purpose.
    assert (str(status) in documented or f"{status // 100}XX" in documented) == (status != 204)
    expected = {"taken": {"reference": "R-1"}, "final": ("final", "Thiếu giấy tờ"),
                "retried": ("retried", "BAD_RESPONSE" if status == 204 else f"HTTP_{status}")}[outcome]
    assert result == expected
