"""What a hostile or careless form gets over HTTP: one small typed answer, never a huge one, never stored
(issue 9, item 11). The same limits answer on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import select

from core.db import Database
from core.form_validation import MAX_ERRORS
from core.models import Citizen as CitizenRow
from core.models import Dossier
from core.seed_data import PROCEDURES
from core.settings import Settings
from tests.support import Citizen, citizen
from tests.sync.helpers import mutation, push

SAMPLES = {p["code"]: p["sample"] for p in PROCEDURES}
SUBMIT = """mutation($p: String!, $f: JSON!, $id: String) {
  submitDossier(input: {procedureCode: $p, formData: $f, clientMutationId: $id}) {
    dossier { code formData } errors { code field message } } }"""


async def _submit(client: httpx.AsyncClient, who: Citizen, procedure: str, form: dict[str, Any],
                  ) -> tuple[dict[str, Any], int]:
    response = await client.post("/graphql", headers=who.headers, json={
        "query": SUBMIT, "variables": {"p": procedure, "f": form, "id": str(uuid.uuid4())}})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()["data"]["submitDossier"]
    return answer, len(response.content)


async def _dossiers_of(db: Database, who: Citizen) -> int:
    async with db.read() as session:
        rows = (await session.execute(select(Dossier.id).join_from(Dossier, CitizenRow).where(
            CitizenRow.id_number == who.id_number))).all()
    return len(rows)


async def test_forty_thousand_unknown_keys_answer_one_small_error(settings: Settings, client: httpx.AsyncClient,
                                                                 db: Database) -> None:
    who = citizen(settings)
    answer, size = await _submit(client, who, "1.001193",
                                 {**SAMPLES["1.001193"], **{f"k{i:05d}": i for i in range(40_000)}})
    assert answer["dossier"] is None
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [("FORM_TOO_LARGE", "formData")]
    assert size < 2_000
    assert await _dossiers_of(db, who) == 0


async def test_the_error_list_is_capped(settings: Settings, client: httpx.AsyncClient) -> None:
    who = citizen(settings)
    unknown = {f"k{i:03d}": i for i in range(300)}
    answer, size = await _submit(client, who, "1.001193", {**SAMPLES["1.001193"], **unknown})
    codes = [(e["code"], e["field"]) for e in answer["errors"]]
    assert codes[:MAX_ERRORS] == [("UNKNOWN_FIELD", f"formData.k{i:03d}") for i in range(MAX_ERRORS)]
    assert codes[MAX_ERRORS:] == [("MORE_ERRORS", "formData")]
    assert str(300 - MAX_ERRORS) in answer["errors"][-1]["message"]
    assert size < 20_000


@pytest.mark.parametrize("value", ["001190002233\n", "001190002233\r\n", "003190002233", "001190000000"])
async def test_an_id_number_field_applies_the_id_number_rules(settings: Settings, client: httpx.AsyncClient,
                                                             db: Database, value: str) -> None:
    who = citizen(settings)
    answer, _ = await _submit(client, who, "1.000894", {**SAMPLES["1.000894"], "partner_id_number": value})
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [("INVALID_ID_NUMBER", "formData.partner_id_number")]
    assert await _dossiers_of(db, who) == 0


@pytest.mark.parametrize("blank", ["   ", "\t\n"])
async def test_a_whitespace_only_required_field_is_missing(settings: Settings, client: httpx.AsyncClient,
                                                          blank: str) -> None:
    who = citizen(settings)
    answer, _ = await _submit(client, who, "1.001193", {**SAMPLES["1.001193"], "child_name": blank})
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [("REQUIRED", "formData.child_name")]


@pytest.mark.parametrize("text", ["\ud800", "Khôi\udc00"])
async def test_a_lone_surrogate_in_a_form_is_refused_on_every_database(
        settings: Settings, client: httpx.AsyncClient, db: Database, text: str) -> None:
    who = citizen(settings)
    form = {**SAMPLES["1.001193"], "child_name": text}
    raw = json.dumps({"query": SUBMIT, "variables": {"p": "1.001193", "f": form}})  # \u-escaped, valid JSON
    response = await client.post("/graphql", headers={**who.headers, "Content-Type": "application/json"},
                                 content=raw.encode())
    assert response.status_code == 200, response.text
    assert "data" not in response.json(), response.text  # refused as a request, like a NUL: nothing ran
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]
    assert await _dossiers_of(db, who) == 0


async def test_drafts_pushed_offline_have_the_same_limits(settings: Settings, client: httpx.AsyncClient) -> None:
    who = citizen(settings)
    huge = {f"k{i:05d}": i for i in range(40_000)}
    body = await push(client, who, str(uuid.uuid4()), [
        mutation(1, "draft.create", str(uuid.uuid4()), {"procedureCode": "1.001193", "fields": huge})])
    [result] = body["data"]["syncPush"]["results"]
    assert (result["status"], result["error"]["code"], result["error"]["field"]) == (
        "REJECTED", "FORM_TOO_LARGE", "fields")
