"""A citizen reaches only their own dossiers and documents, on every path; "not yours" looks like "no such"."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from api.auth import issue_dev_token
from core.db import Database
from core.settings import Settings
from tests.api.helpers import (
    SUBMIT,
    WITHDRAW,
    sample_form,
    stored_dossier,
    submitted_code,
    walk_my_dossiers,
)
from tests.support import Citizen, citizen, gql

SECOND_CITIZEN = "040192004567"
NODE = "query Node($id: ID!) { node(id: $id) { id __typename ... on Dossier { code } ... on Document { number } } }"
DOSSIER = "query Dossier($code: String!) { dossier(code: $code) { code status } }"


def _global_id(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


async def _seeded(client: httpx.AsyncClient, settings: Settings, id_number: str) -> tuple[Citizen, dict[str, Any]]:
    """A seeded citizen, their dossiers by status, and their documents' global ids."""
    who = Citizen(id_number, issue_dev_token(settings, id_number=id_number))
    body = await gql(client, "{ myDossiers(first: 100) { edges { node { id code status } } } "
                             "me { documents { id number } } }", who=who)
    assert "errors" not in body, body
    by_status = {e["node"]["status"]: e["node"] for e in body["data"]["myDossiers"]["edges"]}
    assert len(by_status) == 10
    return who, {"dossiers": by_status, "documents": body["data"]["me"]["documents"]}


def _only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


async def test_dossier_of_another_citizen_is_the_same_not_found_as_a_missing_code(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    _, other = await _seeded(client, settings, SECOND_CITIZEN)
    me = citizen(settings)
    theirs = await gql(client, DOSSIER, {"code": other["dossiers"]["SUBMITTED"]["code"]}, who=me)
    missing = await gql(client, DOSSIER, {"code": "000.00.00.G09-991231-9999"}, who=me)
    assert theirs["data"] == {"dossier": None}
    assert missing["data"] == {"dossier": None}
    assert _only_error(theirs)["extensions"]["code"] == "NOT_FOUND"
    assert theirs["errors"] == missing["errors"]


async def test_node_with_another_citizens_dossier_id_is_the_same_not_found_as_a_missing_one(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    _, other = await _seeded(client, settings, SECOND_CITIZEN)
    me = citizen(settings)
    theirs = await gql(client, NODE, {"id": other["dossiers"]["RETURNED"]["id"]}, who=me)
    missing = await gql(client, NODE, {"id": _global_id("Dossier", "000.00.00.G09-991231-9999")}, who=me)
    assert theirs["data"] == {"node": None}
    assert missing["data"] == {"node": None}
    assert _only_error(theirs)["extensions"]["code"] == "NOT_FOUND"
    assert theirs["errors"] == missing["errors"]


async def test_node_with_another_citizens_document_id_is_the_same_not_found_as_a_missing_one(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    owner, other = await _seeded(client, settings, SECOND_CITIZEN)
    assert len(other["documents"]) == 1
    document_id = other["documents"][0]["id"]
    own = await gql(client, NODE, {"id": document_id}, who=owner)
    assert own == {"data": {"node": {"id": document_id, "__typename": "Document",
                                     "number": other["documents"][0]["number"]}}}

    me = citizen(settings)
    theirs = await gql(client, NODE, {"id": document_id}, who=me)
    missing = await gql(client, NODE, {"id": _global_id("Document", "987654321")}, who=me)
    assert theirs["data"] == {"node": None}
    assert _only_error(theirs)["extensions"]["code"] == "NOT_FOUND"
    assert theirs["errors"] == missing["errors"]


async def test_node_resolves_own_dossier(client: httpx.AsyncClient, settings: Settings) -> None:
    owner, own = await _seeded(client, settings, SECOND_CITIZEN)
    node = own["dossiers"]["PROCESSING"]
    body = await gql(client, NODE, {"id": node["id"]}, who=owner)
    assert body == {"data": {"node": {"id": node["id"], "__typename": "Dossier", "code": node["code"]}}}


async def test_my_dossiers_lists_only_the_callers_dossiers_on_every_page(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    me = citizen(settings)
    mine = {await submitted_code(client, me) for _ in range(3)}
    for first in (1, 2, 100):
        assert [n["code"] for n in await walk_my_dossiers(client, me, first)] == sorted(mine, reverse=True)

    _, other = await _seeded(client, settings, SECOND_CITIZEN)
    theirs = {n["code"] for n in other["dossiers"].values()}
    assert not mine & theirs


async def test_withdraw_of_another_citizens_dossier_is_not_found_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    _, other = await _seeded(client, settings, SECOND_CITIZEN)
    code = other["dossiers"]["SUBMITTED"]["code"]  # withdrawable, if it were the caller's
    before = await stored_dossier(db, code)

    me = citizen(settings)
    theirs = await gql(client, WITHDRAW, {"code": code}, who=me)
    missing = await gql(client, WITHDRAW, {"code": "000.00.00.G09-991231-9999"}, who=me)
    assert theirs["data"] == {"withdrawDossier": None}
    assert _only_error(theirs)["extensions"]["code"] == "NOT_FOUND"
    assert theirs["errors"] == missing["errors"]
    assert await stored_dossier(db, code) == before


async def test_not_found_is_localised_identically_for_foreign_and_missing_dossiers(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    _, other = await _seeded(client, settings, SECOND_CITIZEN)
    me = citizen(settings)
    en = {"Accept-Language": "en"}
    theirs = await gql(client, DOSSIER, {"code": other["dossiers"]["ACCEPTED"]["code"]}, who=me, headers=en)
    missing = await gql(client, DOSSIER, {"code": "nope"}, who=me, headers=en)
    error = _only_error(theirs)
    assert error["message"] == error["extensions"]["messageEn"]
    assert error["extensions"]["messageVi"] != error["extensions"]["messageEn"]
    assert theirs["errors"] == missing["errors"]


# --- without a token ------------------------------------------------------------------------------------------

CITIZEN_OPERATIONS: list[tuple[str, str, dict[str, Any], list[Any]]] = [
    ("me", "{ me { idNumber } }", {}, ["me"]),
    ("formPrefill", '{ me { formPrefill(procedureCode: "1.001193") } }', {}, ["me"]),
    ("myDossiers", "{ myDossiers { edges { node { code } } } }", {}, ["myDossiers"]),
    ("dossier", DOSSIER, {"code": "000.20.31.H26-260101-0001"}, ["dossier"]),
    ("node-dossier", NODE, {"id": _global_id("Dossier", "000.20.31.H26-260101-0001")}, ["node"]),
    ("node-document", NODE, {"id": _global_id("Document", "1")}, ["node"]),
    ("submitDossier", SUBMIT, {"input": {"procedureCode": "1.001193", "formData": sample_form("1.001193")}},
     ["submitDossier"]),
    ("withdrawDossier", WITHDRAW, {"code": "000.20.31.H26-260101-0001"}, ["withdrawDossier"]),
]


@pytest.mark.parametrize(("query", "variables", "path"), [op[1:] for op in CITIZEN_OPERATIONS],
                         ids=[op[0] for op in CITIZEN_OPERATIONS])
async def test_every_citizen_field_without_a_token_is_unauthenticated(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], path: list[Any]
) -> None:
    body = await gql(client, query, variables)
    assert body["data"] == {path[0]: None}
    error = _only_error(body)
    assert error["path"] == path
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["reason"] == "MISSING_TOKEN"


async def test_a_real_dossier_id_without_a_token_reveals_nothing(client: httpx.AsyncClient,
                                                                 settings: Settings) -> None:
    _, other = await _seeded(client, settings, SECOND_CITIZEN)
    real = await gql(client, NODE, {"id": other["dossiers"]["SUBMITTED"]["id"]})
    missing = await gql(client, NODE, {"id": _global_id("Dossier", "000.00.00.G09-991231-9999")})
    assert _only_error(real)["extensions"]["code"] == "UNAUTHENTICATED"
    assert real == missing


async def test_the_catalogue_answers_without_a_token(client: httpx.AsyncClient) -> None:
    query = ('query($id: ID!) { procedures(first: 2) { edges { node { code } } } '
             'procedure(code: "1.001193") { code name { vi } } node(id: $id) { ... on Procedure { code } } }')
    body = await gql(client, query, {"id": _global_id("Procedure", "1.004222")})
    assert body == {"data": {
        "procedures": {"edges": [{"node": {"code": "1.000045"}}, {"node": {"code": "1.000894"}}]},
        "procedure": {"code": "1.001193", "name": {"vi": "Đăng ký khai sinh"}},
        "node": {"code": "1.004222"},
    }}


# --- forged global ids ----------------------------------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


NOT_FOUND_IDS = [
    _b64(b"Dossier:"), _b64(b"Dossier:' OR '1'='1"), _b64(b"Document:"), _b64(b"Document:-1"),
    _b64(b"Document:abc"), _b64(b"Document:0"), _b64(b"Citizen:1"), _b64(b"DossierEvent:1"), _b64(b"Agency:nope"),
    _b64(b"Procedure:9.999999"), _b64(b":"), _b64("Hồ sơ:1".encode()),
]
MALFORMED_IDS = ["garbage", "", "%%%", _b64(b"no-colon-at-all"), "RG9zc2llcjo"]


@pytest.mark.parametrize("gid", NOT_FOUND_IDS)
async def test_forged_global_ids_answer_not_found(client: httpx.AsyncClient, settings: Settings, gid: str) -> None:
    for who in (citizen(settings), None):
        response = await client.post("/graphql", json={"query": NODE, "variables": {"id": gid}},
                                     headers=who.headers if who else {})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data"] == {"node": None}
        assert _only_error(body)["extensions"]["code"] in ({"NOT_FOUND"} if who else {"NOT_FOUND", "UNAUTHENTICATED"})


@pytest.mark.parametrize("gid", MALFORMED_IDS)
async def test_undecodable_global_ids_answer_bad_user_input(client: httpx.AsyncClient, settings: Settings,
                                                            gid: str) -> None:
    body = await gql(client, NODE, {"id": gid}, who=citizen(settings))
    assert body["data"] == {"node": None}
    assert _only_error(body)["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("key", [
    pytest.param("Document:²", id="superscript-two"),
    pytest.param("Document:١٢", id="arabic-indic-digits"),
    pytest.param("Document:" + "9" * 25, id="25-digits"),
    pytest.param("Document:3000000000", id="beyond-int32"),
    pytest.param("Document:2147483648", id="int32-max-plus-one"),
    pytest.param("Document:007", id="leading-zeros"),
    pytest.param("Dossier:000.20.31.H26-260101-0001\x00", id="nul-in-dossier-code"),
    pytest.param("Procedure:1.001193\x00", id="nul-in-procedure-code"),
])
async def test_forged_keys_answer_not_found(client: httpx.AsyncClient, settings: Settings, key: str) -> None:
    body = await gql(client, NODE, {"id": _b64(key.encode())}, who=citizen(settings))
    assert body["data"] == {"node": None}
    assert _only_error(body)["extensions"]["code"] == "NOT_FOUND"


async def test_a_nul_character_anywhere_is_a_request_error(client: httpx.AsyncClient, settings: Settings) -> None:
    """PostgreSQL cannot compare or store U+0000, so it never reaches the database: a request error instead."""
    who = citizen(settings)
    for query, variables in [(DOSSIER, {"code": "000.20.31.H26-260101-0001\x00"}),
                             (WITHDRAW, {"code": "000.20.31.H26-260101-0001\x00"})]:
        body = await gql(client, query, variables, who=who)
        assert "data" not in body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    literal = await gql(client, '{ procedure(code: "1.001193\\u0000") { code } }')
    assert "data" not in literal
    assert [e["extensions"]["code"] for e in literal["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("code", [pytest.param("000.20.31.H26-260101-0001", id="well-formed")])
async def test_dossier_with_a_forged_code_is_not_found(client: httpx.AsyncClient, settings: Settings,
                                                       code: str) -> None:
    who = citizen(settings)
    for query, variables in [(DOSSIER, {"code": code}), (WITHDRAW, {"code": code})]:
        body = await gql(client, query, variables, who=who)
        assert list(body["data"].values()) == [None]
        assert _only_error(body)["extensions"]["code"] == "NOT_FOUND"
