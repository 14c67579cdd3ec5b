"""Reuse instead of certified copies: a form field asking for a document kind takes a wallet document, checked
at submission, and the agency receives the document with its issuer's signature and verifies it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select
from strawberry.relay import to_base64

from core.clock import utc_now
from core.db import Database
from core.documents import issue_document
from core.models import Agency
from core.settings import Settings
from tests.support import SUBMIT, Citizen, RunningSandbox, citizen, gql, until_received
from tests.sync.helpers import citizen_row, mutation, push

BIRTH = {"child_name": "Lê Bảo Ngọc", "child_birth_date": "2026-09-01", "child_sex": "female",
         "place_of_birth": "Bệnh viện Phụ sản Hà Nội", "mother_name": "Lê Thị Hạnh"}
CARD = {"child_name": "Lê Bảo Ngọc", "child_birth_date": "2026-09-01", "clinic": "Bệnh viện Nhi Trung ương"}
OFFERED = """query($k: String) { me { documents(kind: $k, includeUnverified: true) {
  id kind number isValid verification } } }"""


async def _returned(client: httpx.AsyncClient, sandbox: RunningSandbox, who: Citizen, procedure: str,
                    form: dict[str, Any], **last_step: Any) -> None:
    body = await gql(client, SUBMIT, {"p": procedure, "f": form}, who=who)
    assert body["data"]["submitDossier"]["errors"] == [], body
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await until_received(sandbox, code)
    for step in range(4):
        await sandbox.advance(code, **(last_step if step == 3 else {}))


async def _birth_certificate(client: httpx.AsyncClient, sandboxes: dict[str, RunningSandbox], who: Citizen,
                             **last_step: Any) -> dict[str, Any]:
    await _returned(client, sandboxes["civil_status"], who, "1.001193", BIRTH, **last_step)
    offered = (await gql(client, OFFERED, {"k": "birth_certificate"}, who=who))["data"]["me"]["documents"]
    assert len(offered) == 1
    document: dict[str, Any] = offered[0]
    return document


async def _received(sandbox: RunningSandbox, dossier_code: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=5) as http:
        rows = (await http.get("/_control/received")).json()
    row: dict[str, Any] = next(r for r in rows if r["dossier_code"] == dossier_code and r["action"] == "submit")
    return row


async def test_a_wallet_birth_certificate_replaces_the_certified_copy(
    client: httpx.AsyncClient, settings: Settings, sandboxes: dict[str, RunningSandbox]
) -> None:
    who = citizen(settings)
    certificate = await _birth_certificate(client, sandboxes, who)
    assert certificate["isValid"] is True
    body = await gql(client, SUBMIT, {"p": "1.001612", "f": {**CARD, "birth_certificate": certificate["id"]}},
                     who=who)
    assert body["data"]["submitDossier"]["errors"] == []
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await until_received(sandboxes["social_insurance"], code)
    received = await _received(sandboxes["social_insurance"], code)
    assert received["documents"] == [{"field": "birth_certificate", "kind": "birth_certificate",
                                      "number": certificate["number"], "kid": "agency:civil_status:demo",
                                      "verified": True}]

    # The same reuse through the offline queue (draft.submit).
    draft = str(uuid.uuid4())
    batch = [mutation(1, "draft.create", draft, {"procedureCode": "1.001612",
                                                 "fields": {**CARD, "birth_certificate": certificate["id"]}}),
             mutation(2, "draft.submit", draft, base=1)]
    results = (await push(client, who, str(uuid.uuid4()), batch))["data"]["syncPush"]["results"]
    assert [r["status"] for r in results] == ["APPLIED", "APPLIED"]
    queued = results[1]["record"]["dossierCode"]
    await until_received(sandboxes["social_insurance"], queued)
    assert (await _received(sandboxes["social_insurance"], queued))["documents"][0]["verified"] is True


async def test_a_reference_must_name_a_usable_document_of_the_callers(
    client: httpx.AsyncClient, settings: Settings, sandboxes: dict[str, RunningSandbox]
) -> None:
    owner, other = citizen(settings), citizen(settings)
    certificate = await _birth_certificate(client, sandboxes, owner)
    # A document of another kind: the child's health-insurance card (a residence registration filed on its own
    # would wait for its fee before any result).
    await _returned(client, sandboxes["social_insurance"], owner, "1.001612", CARD)
    other_kind = (await gql(client, OFFERED, {"k": "health_insurance_card"}, who=owner))["data"]["me"]["documents"]

    async def refused(who: Citizen, reference: str) -> list[dict[str, Any]]:
        body = await gql(client, SUBMIT, {"p": "1.001612", "f": {**CARD, "birth_certificate": reference}}, who=who)
        assert body["data"]["submitDossier"]["dossier"] is None
        errors: list[dict[str, Any]] = body["data"]["submitDossier"]["errors"]
        return errors

    field = "formData.birth_certificate"
    assert await refused(other, certificate["id"]) == [{"code": "DOCUMENT_NOT_FOUND", "field": field}]
    assert await refused(owner, other_kind[0]["id"]) == [{"code": "DOCUMENT_KIND_MISMATCH", "field": field}]
    assert await refused(owner, "not-a-document-id") == [{"code": "DOCUMENT_NOT_FOUND", "field": field}]
    dossier_id = "RG9zc2llcjox"  # base64 of "Dossier:1": an id of another type names no document
    assert await refused(owner, dossier_id) == [{"code": "DOCUMENT_NOT_FOUND", "field": field}]

    # A birth certificate whose signature did not verify is refused, and never offered as valid.
    flagged = citizen(settings)
    tampered = await _birth_certificate(client, sandboxes, flagged, result="tampered")
    assert (tampered["verification"], tampered["isValid"]) == ("INVALID", False)
    assert await refused(flagged, tampered["id"]) == [{"code": "DOCUMENT_NOT_VERIFIED", "field": field}]


async def test_an_expired_document_is_refused(client: httpx.AsyncClient, settings: Settings, db: Database) -> None:
    who = citizen(settings)
    await gql(client, "{ me { idNumber } }", who=who)  # enrolled by the first request
    row = await citizen_row(db, who)
    assert row.id is not None

    async def expired(session: AsyncSession) -> int:
        agency = (await session.execute(select(Agency))).scalars().first()
        assert agency is not None
        assert agency.id is not None
        document = await issue_document(
            session, citizen_id=row.id or 0, agency_id=agency.id, kind="birth_certificate", title_vi="Giấy khai sinh",
            title_en="Birth certificate", number="KS-OLD", issued_at=utc_now() - timedelta(days=800),
            valid_until=(utc_now() - timedelta(days=1)).date(), verification="VALID")
        assert document.id is not None
        return document.id

    key = await db.transaction(expired)
    offered = (await gql(client, OFFERED, {"k": "birth_certificate"}, who=who))["data"]["me"]["documents"]
    assert [(d["verification"], d["isValid"]) for d in offered] == [("VALID", False)]
    body = await gql(client, SUBMIT, {"p": "1.001612", "f": {**CARD, "birth_certificate": to_base64("Document", key)}},
                     who=who)
    assert body["data"]["submitDossier"]["errors"] == [{"code": "DOCUMENT_EXPIRED",
                                                        "field": "formData.birth_certificate"}]


SUPPLEMENT = """mutation($c: String!, $f: JSON!) { supplementDossier(input: {code: $c, formData: $f}) {
  dossier { status } errors { code field } } }"""


async def test_a_supplement_can_bring_the_wallet_document_the_agency_asked_for(
    client: httpx.AsyncClient, settings: Settings, sandboxes: dict[str, RunningSandbox]
) -> None:
    who, other = citizen(settings), citizen(settings)
    certificate = await _birth_certificate(client, sandboxes, who)
    social = sandboxes["social_insurance"]
    body = await gql(client, SUBMIT, {"p": "1.001612", "f": CARD}, who=who)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await until_received(social, code)
    await social.advance(code)
    await social.advance(code)
    assert (await social.advance(code, status="need_documents"))["callback_status"] == 200

    # Someone else's certificate is refused like a missing one; the citizen's own goes to the agency.
    foreign = await _birth_certificate(client, sandboxes, other)
    refused = await gql(client, SUPPLEMENT, {"c": code, "f": {"birth_certificate": foreign["id"]}}, who=who)
    assert refused["data"]["supplementDossier"]["errors"] == [{"code": "DOCUMENT_NOT_FOUND",
                                                               "field": "formData.birth_certificate"}]
    body = await gql(client, SUPPLEMENT, {"c": code, "f": {"birth_certificate": certificate["id"]}}, who=who)
    assert body["data"]["supplementDossier"] == {"dossier": {"status": "PROCESSING"}, "errors": []}
    item = social.sandbox.dossier(code)
    assert item is not None
    async with asyncio.timeout(10):
        while not item.documents:
            await asyncio.sleep(0.05)
    assert item.documents == [{"field": "birth_certificate", "kind": "birth_certificate",
                               "number": certificate["number"], "kid": "agency:civil_status:demo",
                               "verified": True}]
