"""Every operation the app ships validates against the schema and runs against the demo data, and its
answer has the shape of the example stored beside it (`<Name>.response.json`).

`pytest tests/mobile_contract --update-contract-examples` rewrites the examples from the running server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, validate
from sqlmodel import select

from api.auth import issue_dev_token
from api.graphql.schema import contract_schema
from core.clock import utc_now
from core.db import Database
from core.dossier_status import DossierStatus
from core.dossiers import change_status
from core.models import Dossier
from core.seed import DEMO_CITIZEN_ID_NUMBER
from core.seed_data import PROCEDURES, RETURNED_DEMO_DOSSIER_CODE
from core.settings import Settings
from mobile_contract.manifest import operation_files, operation_text
from tests.support import SUBMIT, Citizen, citizen, gql
from tests.uploads.tus_client import jpeg_bytes, uploaded

MUTATIONS_AS_FRESH_CITIZEN = {"SubmitDossier", "WithdrawDossier", "SupplementDossier", "SyncPush",
                              "RegisterDevice", "UnregisterDevice", "RateDossier",
                              "UpdateNotificationPreferences", "SubmitDossierWithAttachments",
                              "SupplementDossierWithAttachments", "PayDossierFee", "DossierPayment"}
# Subscriptions run over WebSocket, not HTTP: tests/notifications/test_subscription.py drives them.
SUBSCRIPTIONS = {"DossierStatusChanged"}


def _shape_mismatches(example: Any, actual: Any, path: str = "$") -> list[str]:
    """Same keys and JSON types; null matches anything (nullable), an empty example list any list."""
    if example is None or actual is None:
        return []
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected object, got {type(actual).__name__}"]
        if set(example) != set(actual):
            return [f"{path}: keys {sorted(actual)} != example keys {sorted(example)}"]
        return [m for k in example for m in _shape_mismatches(example[k], actual[k], f"{path}.{k}")]
    if isinstance(example, list):
        if not isinstance(actual, list):
            return [f"{path}: expected list, got {type(actual).__name__}"]
        if not example:
            return []
        return [m for i, item in enumerate(actual) for m in _shape_mismatches(example[0], item, f"{path}[{i}]")]
    if isinstance(example, bool) or isinstance(actual, bool):
        same = isinstance(example, bool) and isinstance(actual, bool)
    elif isinstance(example, int | float):
        same = isinstance(actual, int | float)
    else:
        same = type(example) is type(actual)
    return [] if same else [f"{path}: {actual!r} is not like the example {example!r}"]


def test_shape_check_catches_a_missing_field_and_a_type_change() -> None:
    example = {"a": [{"b": 1, "c": "x"}], "d": None}
    assert _shape_mismatches(example, {"a": [{"b": 2, "c": "y"}], "d": {"e": 1}}) == []
    assert _shape_mismatches(example, {"a": [{"b": 2}], "d": None}) == [
        "$.a[0]: keys ['b'] != example keys ['b', 'c']"]
    assert _shape_mismatches(example, {"a": [{"b": "2", "c": "y"}], "d": None}) == [
        "$.a[0].b: '2' is not like the example 1"]


@pytest.mark.parametrize("path", operation_files(), ids=lambda p: p.stem)
def test_operation_is_valid_against_the_schema(settings: Settings, path: Path) -> None:
    schema = contract_schema(settings)._schema
    document = parse(operation_text(path))
    assert validate(schema, document) == []
    assert [d.name.value for d in document.definitions if d.name] == [path.stem]  # type: ignore[attr-defined]


async def _submitted_dossier_code(client: httpx.AsyncClient, who: Citizen) -> str:
    variables = json.loads((operation_files()[0].parent / "SubmitDossier.variables.json").read_text())
    variables["input"]["clientMutationId"] = None
    body = await gql(client, operation_text(operation_files()[0].parent / "SubmitDossier.graphql"), variables,
                     who=who)
    return str(body["data"]["submitDossier"]["dossier"]["code"])


def _substitute(value: Any, replacements: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return replacements[value[1:]]
    if isinstance(value, dict):
        return {k: _substitute(v, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, replacements) for v in value]
    return value


async def _supplement_requested_dossier_code(client: httpx.AsyncClient, who: Citizen, db: Database) -> str:
    """A dossier of `who` that the agency sent back for more information (moved as the agency would)."""
    code = await _submitted_dossier_code(client, who)
    for target in (DossierStatus.ACCEPTED, DossierStatus.PROCESSING, DossierStatus.SUPPLEMENT_REQUESTED):
        async with db.write() as session:
            dossier = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
            await change_status(session, dossier=dossier, target=target, source="agency", occurred_at=utc_now())
    return code


async def _returned_dossier_code(client: httpx.AsyncClient, who: Citizen, db: Database) -> str:
    """A dossier of `who` whose result was returned (moved as the agency would): rateable."""
    code = await _submitted_dossier_code(client, who)
    for target in (DossierStatus.ACCEPTED, DossierStatus.PROCESSING, DossierStatus.PROCESSED, DossierStatus.RETURNED):
        async with db.write() as session:
            dossier = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
            await change_status(session, dossier=dossier, target=target, source="agency", occurred_at=utc_now())
    return code


async def _payment_requested_dossier_code(client: httpx.AsyncClient, who: Citizen, db: Database) -> str:
    """A temporary-residence dossier of `who` (15,000 VND) the agency asked them to pay for."""
    body = await gql(client, SUBMIT, {"p": "1.004206", "f": next(p["sample"] for p in PROCEDURES
                                                                 if p["code"] == "1.004206")}, who=who)
    code = str(body["data"]["submitDossier"]["dossier"]["code"])
    for target in (DossierStatus.ACCEPTED, DossierStatus.PROCESSING, DossierStatus.PAYMENT_REQUESTED):
        async with db.write() as session:
            dossier = (await session.execute(select(Dossier).where(Dossier.code == code))).scalars().one()
            await change_status(session, dossier=dossier, target=target, source="agency", occurred_at=utc_now())
    return code


@pytest.mark.parametrize("path", operation_files(), ids=lambda p: p.stem)
async def test_operation_runs_and_answers_like_its_example(
    settings: Settings, client: httpx.AsyncClient, db: Database, path: Path, request: pytest.FixtureRequest
) -> None:
    if path.stem in SUBSCRIPTIONS:
        pytest.skip("a subscription: exercised over graphql-transport-ws in tests/notifications")
    demo = Citizen(DEMO_CITIZEN_ID_NUMBER, issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER))
    who = citizen(settings, name="Trần Văn Mẫu") if path.stem in MUTATIONS_AS_FRESH_CITIZEN else demo
    variables_file = path.with_suffix(".variables.json")
    variables = json.loads(variables_file.read_text(encoding="utf-8")) if variables_file.exists() else {}
    replacements: dict[str, str] = {}
    if "$ownSubmittedDossierCode" in json.dumps(variables):
        replacements["ownSubmittedDossierCode"] = await _submitted_dossier_code(client, who)
    if "$ownPaymentRequestedDossierCode" in json.dumps(variables):
        replacements["ownPaymentRequestedDossierCode"] = await _payment_requested_dossier_code(client, who, db)
    if "$ownSupplementRequestedDossierCode" in json.dumps(variables):
        replacements["ownSupplementRequestedDossierCode"] = await _supplement_requested_dossier_code(client, who, db)
    if "$ownUploadId" in json.dumps(variables):  # a complete upload of `who`'s, sent with tus
        replacements["ownUploadId"] = await uploaded(client, who, jpeg_bytes(20_000))
    if "$ownReturnedDossierCode" in json.dumps(variables):
        replacements["ownReturnedDossierCode"] = await _returned_dossier_code(client, who, db)
    body = await gql(client, operation_text(path), _substitute(variables, replacements), who=who)
    assert "errors" not in body, body
    assert all(v is not None for v in body["data"].values()), body
    example_file = path.with_suffix(".response.json")
    if request.config.getoption("--update-contract-examples"):
        example_file.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert example_file.exists(), f"no example; run pytest {__file__} --update-contract-examples"
    example = json.loads(example_file.read_text(encoding="utf-8"))
    assert _shape_mismatches(example, body) == []


@pytest.mark.parametrize("path", [p for p in operation_files() if p.stem not in MUTATIONS_AS_FRESH_CITIZEN],
                         ids=lambda p: p.stem)
def test_the_demo_citizens_variables_hold_real_values(path: Path) -> None:
    """Pasted into GraphiQL with the demo token (`make run`), these variables must work as they are."""
    variables_file = path.with_suffix(".variables.json")
    text = variables_file.read_text(encoding="utf-8") if variables_file.exists() else "{}"
    assert '"$' not in text, f"{variables_file.name} holds a placeholder"


async def test_dossier_detail_variables_name_the_demo_citizens_returned_dossier(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    demo = Citizen(DEMO_CITIZEN_ID_NUMBER, issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER))
    path = operation_files()[0].parent / "DossierDetail.graphql"
    variables = json.loads(path.with_suffix(".variables.json").read_text(encoding="utf-8"))
    assert variables == {"code": RETURNED_DEMO_DOSSIER_CODE}
    body = await gql(client, operation_text(path), variables, who=demo)
    assert "errors" not in body, body
    assert (body["data"]["dossier"]["code"], body["data"]["dossier"]["status"]) == (RETURNED_DEMO_DOSSIER_CODE,
                                                                                    "RETURNED")
