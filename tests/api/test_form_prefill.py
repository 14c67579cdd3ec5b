"""Pre-fill where the e-ID token is silent: the population record (the residence service's agency data)
fills the gaps a form needs, and its agency being down is answered, never a crash (issue 9, item 21).

The residence sandbox is the session's real HTTP server; its faults are always switched off again, and the
agency-down tests use their own server so their circuit breaker does not leak into other tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import issue_dev_token
from core.seed_data import PROCEDURES
from core.settings import Settings
from services.residence.sandbox import _record
from tests.support import Citizen, RunningSandbox, agency_overrides, citizen, gql, new_id_number, serve

SAMPLES = {p["code"]: p["sample"] for p in PROCEDURES}
BUNDLE = "LT.KS-TT-BHYT"  # interconnected: its form and its residence part demand `new_address`
SUBMIT = """mutation($p: String!, $f: JSON!) { submitDossier(input: {procedureCode: $p, formData: $f}) {
  dossier { code formData parts { procedure { code } formData } } errors { code field } } }"""
PREFILL = """query($p: String!) { me { fullName formPrefill(procedureCode: $p) } }"""


def _nameless(settings: Settings) -> Citizen:
    """What `superapp token --citizen <id>` gives: a token with no name (nor anything else) in it."""
    id_number = new_id_number()
    return Citizen(id_number, issue_dev_token(settings, id_number=id_number))


def _population(id_number: str) -> dict[str, Any]:
    return _record(id_number)


async def test_a_citizen_whose_token_carries_no_name_is_pre_filled_and_can_file(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who = _nameless(settings)
    record = _population(who.id_number)
    body = await gql(client, PREFILL, {"p": "1.001193"}, who=who)
    assert body == {"data": {"me": {"fullName": record["full_name"], "formPrefill": {
        "applicant_name": record["full_name"], "applicant_id_number": who.id_number}}}}

    body = await gql(client, SUBMIT, {"p": "1.001193", "f": SAMPLES["1.001193"]}, who=who)
    answer = body["data"]["submitDossier"]
    assert answer["errors"] == []
    assert answer["dossier"]["formData"]["applicant_name"] == record["full_name"]
    assert answer["dossier"]["formData"]["applicant_id_number"] == who.id_number


async def test_the_population_record_fills_the_address_a_form_demands(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who = citizen(settings, name="Có Tên Không Địa Chỉ")
    address = _population(who.id_number)["permanent_address"]["text"]
    body = await gql(client, PREFILL, {"p": BUNDLE}, who=who)
    assert body["data"]["me"]["formPrefill"]["new_address"] == address
    assert body["data"]["me"]["formPrefill"]["applicant_name"] == "Có Tên Không Địa Chỉ"  # the e-ID's name wins

    assert "new_address" not in SAMPLES[BUNDLE]
    body = await gql(client, SUBMIT, {"p": BUNDLE, "f": SAMPLES[BUNDLE]}, who=who)
    answer = body["data"]["submitDossier"]
    assert answer["errors"] == []
    assert answer["dossier"]["formData"]["new_address"] == address
    residence_part = next(p for p in answer["dossier"]["parts"] if p["procedure"]["code"] == "1.004194")
    assert residence_part["formData"]["new_address"] == address


async def test_what_the_citizen_typed_is_kept_over_the_population_record(
        settings: Settings, client: httpx.AsyncClient) -> None:
    who = citizen(settings)
    body = await gql(client, SUBMIT, {"p": BUNDLE, "f": {**SAMPLES[BUNDLE], "new_address": "Số 9 phố Huế"}}, who=who)
    assert body["data"]["submitDossier"]["dossier"]["formData"]["new_address"] == "Số 9 phố Huế"


@pytest.fixture
async def residence_down(settings: Settings, sandboxes: dict[str, RunningSandbox]) -> AsyncIterator[httpx.AsyncClient]:
    """A server of its own (its own circuit breaker) while the population database answers 503."""
    residence = sandboxes["residence"]
    await residence.fault("error")
    try:
        with serve(create_app(settings, agencies=agency_overrides(sandboxes, timeout=0.5, retries=0))) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                yield http
    finally:
        await residence.fault("ok")


async def test_with_the_population_database_down_an_unknown_name_is_agency_unavailable(
        settings: Settings, residence_down: httpx.AsyncClient) -> None:
    who = _nameless(settings)
    body = await gql(residence_down, SUBMIT, {"p": "1.001193", "f": SAMPLES["1.001193"]}, who=who)
    assert body["data"]["submitDossier"] == {"dossier": None, "errors": [
        {"code": "AGENCY_UNAVAILABLE", "field": "formData.applicant_name"}]}
    # Pre-fill itself does not fail: what nobody can vouch for now is left out.
    body = await gql(residence_down, PREFILL, {"p": "1.001193"}, who=who)
    assert body == {"data": {"me": {"fullName": "", "formPrefill": {"applicant_id_number": who.id_number}}}}


async def test_with_the_population_database_down_an_editable_field_falls_back_to_the_citizen(
        settings: Settings, residence_down: httpx.AsyncClient) -> None:
    who = citizen(settings)
    body = await gql(residence_down, SUBMIT, {"p": BUNDLE, "f": SAMPLES[BUNDLE]}, who=who)
    assert body["data"]["submitDossier"] == {"dossier": None, "errors": [
        {"code": "REQUIRED", "field": "formData.new_address"}]}
    body = await gql(residence_down, SUBMIT, {"p": BUNDLE, "f": {**SAMPLES[BUNDLE], "new_address": "Số 9 phố Huế"}},
                     who=who)
    assert body["data"]["submitDossier"]["errors"] == []
