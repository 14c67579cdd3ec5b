"""Rating a dossier: once, by its owner, after its result is returned; the same rules offline (`dossier.rate`)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from core.db import Database
from core.dossier_status import DossierStatus
from core.ratings import COMMENT_MAX
from core.settings import Settings
from tests.api.helpers import move, submitted_code
from tests.support import Citizen, citizen, error_codes, gql
from tests.sync.helpers import mutation, push

RATE = """mutation($input: RateDossierInput!) { rateDossier(input: $input) {
  dossier { code version rating { stars comment ratedAt } } rating { stars comment } clientMutationId
  errors { code field messageVi messageEn } } }"""
RATING = """query($code: String!) { dossier(code: $code) { rating { stars comment } } }"""
S = DossierStatus
TO_RETURNED = (S.ACCEPTED, S.PROCESSING, S.PROCESSED, S.RETURNED)


async def _rate(client: httpx.AsyncClient, who: Citizen, code: str, stars: int, comment: str | None = None,
                client_mutation_id: str | None = None) -> dict[str, Any]:
    body = await gql(client, RATE, {"input": {"dossierCode": code, "stars": stars, "comment": comment,
                                              "clientMutationId": client_mutation_id}}, who=who)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["rateDossier"]
    return payload


def _codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def _returned(client: httpx.AsyncClient, db: Database, who: Citizen) -> str:
    code = await submitted_code(client, who)
    await move(db, who.id_number, code, *TO_RETURNED)
    return code


async def test_a_returned_dossier_is_rated_once(client: httpx.AsyncClient, settings: Settings, db: Database) -> None:
    who = citizen(settings)
    code = await submitted_code(client, who)
    refused = await _rate(client, who, code, 5)
    assert _codes(refused) == [("NOT_RATEABLE", "dossierCode")]
    assert "Submitted" in refused["errors"][0]["messageEn"]
    await move(db, who.id_number, code, *TO_RETURNED)
    rated = await _rate(client, who, code, 4, "  Nhanh, chu đáo  ", client_mutation_id="r-1")
    assert rated["errors"] == []
    assert rated["rating"] == {"stars": 4, "comment": "Nhanh, chu đáo"}
    assert rated["dossier"]["rating"]["stars"] == 4
    again = await _rate(client, who, code, 1, "đổi ý")
    assert _codes(again) == [("ALREADY_RATED", "dossierCode")]
    retry = await _rate(client, who, code, 4, "  Nhanh, chu đáo  ", client_mutation_id="r-1")  # the answer was lost
    assert retry["errors"] == []
    assert retry["dossier"]["version"] == rated["dossier"]["version"]
    body = await gql(client, RATING, {"code": code}, who=who)
    assert body["data"]["dossier"]["rating"] == {"stars": 4, "comment": "Nhanh, chu đáo"}


async def test_only_the_owner_rates(client: httpx.AsyncClient, settings: Settings, db: Database) -> None:
    owner, other = citizen(settings), citizen(settings)
    code = await _returned(client, db, owner)
    body = await gql(client, RATE, {"input": {"dossierCode": code, "stars": 5}}, who=other)
    assert error_codes(body) == ["NOT_FOUND"]
    body = await gql(client, RATE, {"input": {"dossierCode": code, "stars": 5}})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert (await gql(client, RATING, {"code": code}, who=owner))["data"]["dossier"]["rating"] is None


@pytest.mark.parametrize(("stars", "comment", "expected"), [
    (0, None, ("OUT_OF_RANGE", "stars")), (6, None, ("OUT_OF_RANGE", "stars")),
    (-2**31, None, ("OUT_OF_RANGE", "stars")), (2**31 - 1, None, ("OUT_OF_RANGE", "stars")),
    (3, "x" * (COMMENT_MAX + 1), ("INVALID_LENGTH", "comment")),
    (3, "ồ" * (COMMENT_MAX + 1), ("INVALID_LENGTH", "comment"))])
async def test_out_of_bounds_ratings_are_typed_errors_on_both_databases(
        client: httpx.AsyncClient, settings: Settings, db: Database, stars: int, comment: str | None,
        expected: tuple[str, str]) -> None:
    who = citizen(settings)
    code = await _returned(client, db, who)
    assert _codes(await _rate(client, who, code, stars, comment)) == [expected]
    longest = await _rate(client, who, code, 5, "ồ" * COMMENT_MAX)  # the limit itself is stored on both
    assert longest["errors"] == []
    assert len(longest["rating"]["comment"]) == COMMENT_MAX


async def test_a_nul_in_the_comment_is_refused(client: httpx.AsyncClient, settings: Settings, db: Database) -> None:
    who = citizen(settings)
    code = await _returned(client, db, who)
    body = await gql(client, RATE, {"input": {"dossierCode": code, "stars": 5, "comment": "a\x00b"}}, who=who)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    device = str(uuid.uuid4())
    answer = (await push(client, who, device, [mutation(1, "dossier.rate", code, {"score": 5, "comment": "a\x00"})]))
    result = answer["data"]["syncPush"]["results"][0]
    assert (result["status"], result["error"]["code"]) == ("REJECTED", "INVALID_VALUE")


async def test_the_offline_intent_follows_the_same_rules(
        client: httpx.AsyncClient, settings: Settings, db: Database) -> None:
    who, device = citizen(settings), str(uuid.uuid4())
    open_code = await submitted_code(client, who)
    code = await _returned(client, db, who)
    batch = [mutation(1, "dossier.rate", open_code, {"score": 5}),
             mutation(2, "dossier.rate", code, {"score": 9}),
             mutation(3, "dossier.rate", code, {"score": 3, "comment": "ổn"}),
             mutation(4, "dossier.rate", code, {"score": 5}),
             mutation(5, "dossier.rate", code, {"score": 5, "status": "returned"})]
    results = (await push(client, who, device, batch))["data"]["syncPush"]["results"]
    assert [(r["status"], (r["error"] or {}).get("code")) for r in results] == [
        ("REJECTED", "NOT_RATEABLE"), ("REJECTED", "OUT_OF_RANGE"), ("APPLIED", None),
        ("REJECTED", "ALREADY_RATED"), ("REJECTED", "SERVER_OWNED_FIELD")]
    assert results[2]["record"]["rating"]["score"] == 3
    assert results[2]["record"]["rating"]["comment"] == "ổn"
    body = await gql(client, RATING, {"code": code}, who=who)
    assert body["data"]["dossier"]["rating"] == {"stars": 3, "comment": "ổn"}
    other = citizen(settings)
    theirs = (await push(client, other, str(uuid.uuid4()), [mutation(1, "dossier.rate", code, {"score": 1})]))
    assert theirs["data"]["syncPush"]["results"][0]["error"]["code"] == "NOT_FOUND"
