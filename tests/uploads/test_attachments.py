"""Attachments on filings and supplements: only the caller's complete uploads, each once; shown to the
owner with the dossier; fetched by the agency, by its signed link, byte-identical."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from core.seed_data import PROCEDURES
from core.settings import Settings
from tests.services import agency_api_doc as doc
from tests.services.test_interconnected import FORM, PARENT
from tests.support import RunningSandbox, citizen, error_codes, gql, until_received
from tests.sync.helpers import mutation, push
from tests.uploads.tus_client import created, jpeg_bytes, patch, uploaded

SAMPLES = {p["code"]: p["sample"] for p in PROCEDURES}
BIRTH = "1.001193"  # civil_status: forwarded to its sandbox, which takes supplements
SUBMIT = """mutation($p: String!, $f: JSON!, $a: [ID!]) {
  submitDossier(input: {procedureCode: $p, formData: $f, attachments: $a}) {
    dossier { code attachments { id filename contentType size sha256 attachedWith } }
    errors { code field messageVi messageEn } } }"""
SUPPLEMENT = """mutation($c: String!, $f: JSON!, $a: [ID!]) {
  supplementDossier(input: {code: $c, formData: $f, attachments: $a}) {
    dossier { status attachments { id attachedWith } } errors { code field } } }"""
ATTACHMENTS = "query($c: String!) { dossier(code: $c) { attachments { id sha256 size } } }"


@pytest.fixture
async def civil(sandboxes: dict[str, RunningSandbox]) -> AsyncIterator[RunningSandbox]:
    yield sandboxes["civil_status"]
    await sandboxes["civil_status"].fault("ok")


def pdf_bytes(size: int) -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * (size - 20) + b"\n%%EOF\n"


async def _fetched(running: RunningSandbox, code: str, count: int) -> list[dict[str, Any]]:
    """What the agency fetched for `code`, once it has `count` of them (a rendezvous, generous ceiling)."""
    async with httpx.AsyncClient(base_url=running.url, timeout=5) as http:
        async with asyncio.timeout(30):
            while len(listed := (await http.get(f"/_control/attachments/{code}")).json()) < count:
                await asyncio.sleep(0.05)
    return list(listed)


async def test_a_filing_and_its_supplement_reach_the_agency_byte_identical(
        client: httpx.AsyncClient, settings: Settings, civil: RunningSandbox) -> None:
    who = citizen(settings)
    photo, scan = jpeg_bytes(300_000), pdf_bytes(50_000)
    photo_id, scan_id = await uploaded(client, who, photo), await uploaded(client, who, scan, "to-khai.pdf")
    body = await gql(client, SUBMIT, {"p": BIRTH, "f": SAMPLES[BIRTH], "a": [photo_id]}, who=who)
    payload = body["data"]["submitDossier"]
    assert payload["errors"] == [], payload
    code = payload["dossier"]["code"]
    assert payload["dossier"]["attachments"] == [{
        "id": photo_id, "filename": "giay-khai-sinh.jpg", "contentType": "image/jpeg", "size": len(photo),
        "sha256": hashlib.sha256(photo).hexdigest(), "attachedWith": "submit"}]

    [fetched] = await _fetched(civil, code, 1)
    assert fetched["fetched_sha256"] == hashlib.sha256(photo).hexdigest() == fetched["sha256"]
    assert fetched["fetched_size"] == len(photo)
    assert fetched["action"] == "submit"

    await until_received(civil, code)
    for _ in range(2):
        assert (await civil.advance(code))["callback_status"] == 200
    assert (await civil.advance(code, status="BO_SUNG"))["callback_status"] == 200
    body = await gql(client, SUPPLEMENT, {"c": code, "f": {}, "a": [scan_id]}, who=who)
    assert body["data"]["supplementDossier"]["errors"] == [], body
    assert [a["attachedWith"] for a in body["data"]["supplementDossier"]["dossier"]["attachments"]] == [
        "submit", "supplement"]
    _, second = await _fetched(civil, code, 2)
    assert (second["action"], second["fetched_sha256"]) == ("supplement", hashlib.sha256(scan).hexdigest())
    assert second["content_type"] == "application/pdf"


async def test_attachments_must_be_the_callers_complete_and_unused(
        client: httpx.AsyncClient, settings: Settings) -> None:
    owner, other = citizen(settings), citizen(settings)
    theirs = await uploaded(client, other, jpeg_bytes(10_000))
    half = jpeg_bytes(10_000)
    location = await created(client, owner, len(half))
    assert (await patch(client, owner, location, 0, half[:5_000])).status_code == 204
    unfinished = location.rsplit("/", 1)[1]
    mine = await uploaded(client, owner, jpeg_bytes(10_000))

    async def refused(attachments: list[str]) -> list[str]:
        body = await gql(client, SUBMIT, {"p": BIRTH, "f": SAMPLES[BIRTH], "a": attachments}, who=owner)
        payload = body["data"]["submitDossier"]
        assert payload["dossier"] is None, payload
        return [e["code"] for e in payload["errors"]]

    assert await refused([theirs]) == ["UPLOAD_NOT_FOUND"]
    assert await refused(["not an id at all"]) == ["UPLOAD_NOT_FOUND"]
    assert await refused([unfinished]) == ["UPLOAD_INCOMPLETE"]
    assert await refused([mine] * 1 + ["x" * 20] * settings.uploads.max_per_dossier) == ["TOO_MANY_ATTACHMENTS"]
    body = await gql(client, SUBMIT, {"p": BIRTH, "f": SAMPLES[BIRTH], "a": [mine]}, who=owner)
    assert body["data"]["submitDossier"]["errors"] == []
    assert await refused([mine]) == ["UPLOAD_ALREADY_ATTACHED"]
    # Attached, it can no longer be deleted from under the dossier.
    response = await client.delete(f"/uploads/{mine}", headers={"Tus-Resumable": "1.0.0", **owner.headers})
    assert response.status_code == 409
    assert error_codes(response.json()) == ["UPLOAD_ALREADY_ATTACHED"]


async def test_what_the_agency_receives_and_fetches_fits_the_agency_api_document(
        client: httpx.AsyncClient, settings: Settings, civil: RunningSandbox) -> None:
    who = citizen(settings)
    photo_id = await uploaded(client, who, jpeg_bytes(20_000))
    body = await gql(client, SUBMIT, {"p": BIRTH, "f": SAMPLES[BIRTH], "a": [photo_id]}, who=who)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await _fetched(civil, code, 1)
    [seen] = [r for r in civil.sandbox.journal
              if r.path == "/dossiers" and json.loads(r.body).get("dossier_code") == code]
    assert doc.request_problems(seen, "/dossiers", "post") == []
    path = json.loads(seen.body)["attachments"][0]["download_path"]
    answer = await client.get(path)
    assert answer.status_code == 200
    assert answer.headers["x-checksum-sha256"] == json.loads(seen.body)["attachments"][0]["sha256"]
    forged = await client.get(path.replace("signature=", "signature=0"))
    where = "/agencies/{service}/attachments/{id}"
    assert doc.response_problems(where, "get", forged.status_code, forged.json()) == []
    assert forged.json()["reason"] == "BAD_SIGNATURE"


async def test_the_agency_link_is_signed_for_one_agency_and_one_file(
        client: httpx.AsyncClient, settings: Settings, civil: RunningSandbox) -> None:
    who = citizen(settings)
    photo_id = await uploaded(client, who, jpeg_bytes(20_000))
    body = await gql(client, SUBMIT, {"p": BIRTH, "f": SAMPLES[BIRTH], "a": [photo_id]}, who=who)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await until_received(civil, code)
    item = civil.sandbox.dossier(code)
    assert item is not None
    [listed] = item.body["attachments"]
    path = listed["download_path"]
    assert (await client.get(path)).status_code == 200
    url = urlsplit(path)
    query = parse_qs(url.query)
    other_service = path.replace("/agencies/civil_status/", "/agencies/residence/")
    later = path.replace(f"expires={query['expires'][0]}", f"expires={int(query['expires'][0]) + 1}")
    for forged in (other_service, later, url.path, url.path + "?expires=1&signature=00"):
        assert (await client.get(forged)).status_code in (403, 404), forged


async def test_a_foreign_upload_on_ones_own_supplement_is_refused_like_a_missing_one(
        client: httpx.AsyncClient, settings: Settings, civil: RunningSandbox) -> None:
    owner, other = citizen(settings), citizen(settings)
    theirs = await uploaded(client, other, jpeg_bytes(8_000))
    body = await gql(client, SUBMIT, {"p": BIRTH, "f": SAMPLES[BIRTH], "a": None}, who=owner)
    code = body["data"]["submitDossier"]["dossier"]["code"]
    await until_received(civil, code)
    for _ in range(2):
        await civil.advance(code)
    await civil.advance(code, status="BO_SUNG")
    answers = [await gql(client, SUPPLEMENT, {"c": code, "f": {}, "a": [upload]}, who=owner)
               for upload in (theirs, "missing-upload-" + "0" * 20)]
    assert answers[0] == answers[1]
    assert [e["code"] for e in answers[0]["data"]["supplementDossier"]["errors"]] == ["UPLOAD_NOT_FOUND"]
    body = await gql(client, SUPPLEMENT, {"c": code, "f": {}, "a": []}, who=owner)
    assert [e["code"] for e in body["data"]["supplementDossier"]["errors"]] == ["INVALID_TYPE"]


async def test_offline_intents_carry_attachments_to_the_agency(
        client: httpx.AsyncClient, settings: Settings, civil: RunningSandbox) -> None:
    who = citizen(settings)
    photo, scan = jpeg_bytes(40_000), pdf_bytes(30_000)
    photo_id, scan_id = await uploaded(client, who, photo), await uploaded(client, who, scan, "bo-sung.pdf")
    draft = str(uuid.uuid4())
    body = await push(client, who, str(uuid.uuid4()), [
        mutation(1, "draft.create", draft, {"procedureCode": BIRTH, "fields": SAMPLES[BIRTH]}),
        mutation(2, "draft.submit", draft, {"attachments": [photo_id]})])
    results = body["data"]["syncPush"]["results"]
    assert [r["status"] for r in results] == ["APPLIED", "APPLIED"], results
    code = (await gql(client, "{ myDossiers(first: 1) { edges { node { code } } } }", who=who)
            )["data"]["myDossiers"]["edges"][0]["node"]["code"]
    [fetched] = await _fetched(civil, code, 1)
    assert fetched["fetched_sha256"] == hashlib.sha256(photo).hexdigest()

    await until_received(civil, code)
    for _ in range(2):
        await civil.advance(code)
    await civil.advance(code, status="BO_SUNG")
    body = await push(client, who, str(uuid.uuid4()), [
        mutation(1, "dossier.supplement", code, {"fields": {}, "attachments": [scan_id]})])
    assert body["data"]["syncPush"]["results"][0]["status"] == "APPLIED", body
    _, second = await _fetched(civil, code, 2)
    assert (second["action"], second["fetched_sha256"]) == ("supplement", hashlib.sha256(scan).hexdigest())
    shown = await gql(client, ATTACHMENTS, {"c": code}, who=who)
    assert [a["sha256"] for a in shown["data"]["dossier"]["attachments"]] == [
        hashlib.sha256(photo).hexdigest(), hashlib.sha256(scan).hexdigest()]


async def test_an_interconnected_filings_attachments_reach_every_parts_agency(
        client: httpx.AsyncClient, settings: Settings, sandboxes: dict[str, RunningSandbox]) -> None:
    who = citizen(settings)
    scan = pdf_bytes(40_000)
    scan_id = await uploaded(client, who, scan, "giay-chung-sinh.pdf")
    body = await gql(client, SUBMIT, {"p": "LT.KS-TT-BHYT", "f": FORM, "a": [scan_id]}, who=who)
    assert body["data"]["submitDossier"]["errors"] == [], body
    parent_code = body["data"]["submitDossier"]["dossier"]["code"]
    parent = (await gql(client, PARENT, {"c": parent_code}, who=who))["data"]["dossier"]
    owners = {"1.001193": "civil_status", "1.004194": "residence", "1.001612": "social_insurance"}
    for part in parent["parts"]:
        [fetched] = await _fetched(sandboxes[owners[part["procedure"]["code"]]], part["code"], 1)
        assert fetched["fetched_sha256"] == hashlib.sha256(scan).hexdigest()
