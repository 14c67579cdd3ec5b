"""supplementDossier over HTTP: only while the agency asked for more, validated with the form, owner only."""

from __future__ import annotations

import uuid

import httpx
from sqlmodel import col, select

from core.clock import utc_now
from core.db import Database
from core.dossier_status import DossierStatus as S
from core.dossiers import change_status
from core.models import Dossier, ForwardJob
from core.seed_data import PROCEDURES
from core.settings import Settings
from tests.support import Citizen, citizen, gql
from tests.sync.helpers import mutation, push

SUBMIT = """mutation($f: JSON!) { submitDossier(input: {procedureCode: "1.001193", formData: $f}) {
  dossier { code } errors { code } } }"""
SUPPLEMENT = """mutation($code: String!, $f: JSON!) { supplementDossier(input: {code: $code, formData: $f}) {
  dossier { code status formData events { status source note { en } } } errors { code field } } }"""
SAMPLE = next(p for p in PROCEDURES if p["code"] == "1.001193")["sample"]


async def _dossier(client: httpx.AsyncClient, db: Database, who: Citizen, path: list[S]) -> str:
    body = await gql(client, SUBMIT, {"f": SAMPLE}, who=who)
    code = str(body["data"]["submitDossier"]["dossier"]["code"])
    for target in path:
        async with db.write() as session:
            dossier = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
            await change_status(session, dossier=dossier, target=target, source="agency", occurred_at=utc_now())
    return code


async def test_a_supplement_joins_the_form_and_resumes_processing(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    who = citizen(settings)
    code = await _dossier(client, db, who, [S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED])
    body = await gql(client, SUPPLEMENT, {"code": code, "f": {"father_name": "Nguyễn Văn Bình"}}, who=who)
    answer = body["data"]["supplementDossier"]
    assert answer["errors"] == []
    assert answer["dossier"]["status"] == "PROCESSING"
    assert answer["dossier"]["formData"]["father_name"] == "Nguyễn Văn Bình"
    assert answer["dossier"]["formData"]["child_name"] == SAMPLE["child_name"]
    assert answer["dossier"]["events"][-1] == {"status": "PROCESSING", "source": "citizen",
                                               "note": {"en": "The citizen supplemented"}}


async def test_a_supplement_is_validated_with_the_form_and_stores_nothing_when_wrong(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    who = citizen(settings)
    code = await _dossier(client, db, who, [S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED])
    body = await gql(client, SUPPLEMENT, {"code": code, "f": {"child_sex": "unknown", "shoe_size": 42}}, who=who)
    answer = body["data"]["supplementDossier"]
    assert answer["dossier"] is None
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [
        ("NOT_ALLOWED_VALUE", "formData.child_sex"), ("UNKNOWN_FIELD", "formData.shoe_size")]
    async with db.read() as session:
        stored = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
    assert stored.status == S.SUPPLEMENT_REQUESTED
    assert stored.form_data["child_sex"] == SAMPLE["child_sex"]


async def test_a_supplement_nobody_asked_for_is_refused(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    who = citizen(settings)
    code = await _dossier(client, db, who, [S.ACCEPTED])
    body = await gql(client, SUPPLEMENT, {"code": code, "f": {"father_name": "X"}}, who=who)
    assert [e["code"] for e in body["data"]["supplementDossier"]["errors"]] == ["INVALID_TRANSITION"]
    empty = await gql(client, SUPPLEMENT, {"code": code, "f": {}}, who=who)
    assert [e["code"] for e in empty["data"]["supplementDossier"]["errors"]] == ["INVALID_TYPE"]


async def test_another_citizens_dossier_is_not_found(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    owner, intruder = citizen(settings), citizen(settings)
    code = await _dossier(client, db, owner, [S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED])
    body = await gql(client, SUPPLEMENT, {"code": code, "f": {"father_name": "X"}}, who=intruder)
    assert body["data"] == {"supplementDossier": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    unauthenticated = await gql(client, SUPPLEMENT, {"code": code, "f": {"father_name": "X"}})
    assert [e["extensions"]["code"] for e in unauthenticated["errors"]] == ["UNAUTHENTICATED"]


# --- identity cannot be supplemented (issue 9, item 6) ----------------------------------------------------

IMPOSTOR = {"applicant_id_number": "079301123456", "applicant_name": "Kẻ Mạo Danh"}


async def _stored_and_forwarded(db: Database, code: str) -> tuple[dict[str, object], dict[str, object] | None]:
    async with db.read() as session:
        dossier = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
        jobs = (await session.execute(select(ForwardJob).where(ForwardJob.dossier_id == dossier.id)
                                      .order_by(col(ForwardJob.id)))).scalars().all()
    return dossier.form_data, jobs[-1].payload


async def test_a_supplement_cannot_change_identity_fields_nor_forward_them(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    who = citizen(settings, name="Chủ Hồ Sơ")
    code = await _dossier(client, db, who, [S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED])
    body = await gql(client, SUPPLEMENT, {"code": code, "f": {**IMPOSTOR, "father_name": "Nguyễn Văn Bình"}},
                     who=who)
    answer = body["data"]["supplementDossier"]
    assert answer["errors"] == []
    assert answer["dossier"]["status"] == "PROCESSING"
    form, forwarded = await _stored_and_forwarded(db, code)
    assert (form["applicant_id_number"], form["applicant_name"]) == (who.id_number, "Chủ Hồ Sơ")
    assert answer["dossier"]["formData"] == form
    assert form["father_name"] == "Nguyễn Văn Bình"
    assert forwarded == {"father_name": "Nguyễn Văn Bình"}


async def test_an_offline_supplement_cannot_change_identity_fields_nor_forward_them(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    who = citizen(settings, name="Chủ Hồ Sơ")
    code = await _dossier(client, db, who, [S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED])
    body = await push(client, who, str(uuid.uuid4()), [
        mutation(1, "dossier.supplement", code, {"fields": {**IMPOSTOR, "father_name": "Lê Văn Nam"}})])
    [result] = body["data"]["syncPush"]["results"]
    assert result["status"] == "APPLIED", result
    form, forwarded = await _stored_and_forwarded(db, code)
    assert (form["applicant_id_number"], form["applicant_name"]) == (who.id_number, "Chủ Hồ Sơ")
    assert result["record"]["formData"] == form
    assert forwarded == {"father_name": "Lê Văn Nam"}


async def test_an_offline_supplement_has_the_same_size_limits(
        settings: Settings, client: httpx.AsyncClient, db: Database) -> None:
    who = citizen(settings)
    code = await _dossier(client, db, who, [S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED])
    huge = {f"k{i:05d}": i for i in range(40_000)}
    body = await push(client, who, str(uuid.uuid4()), [mutation(1, "dossier.supplement", code, {"fields": huge})])
    [result] = body["data"]["syncPush"]["results"]
    assert (result["status"], result["error"]["code"], result["error"]["field"]) == (
        "REJECTED", "FORM_TOO_LARGE", "fields")
