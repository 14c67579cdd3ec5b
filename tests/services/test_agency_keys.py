"""Agencies' result-signing keys: configured public keys, the sandbox demo key outside production, none
derived in production; and the demo wallet verifies against the keys the demo server trusts."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from api.auth import issue_dev_token
from core.seed import DEMO_CITIZEN_ID_NUMBER
from core.settings import Settings
from core.signatures import SigningKey
from services.agency_keys import agency_verify_keys, demo_signing_key
from services.agency_settings import load_agency_settings
from services.registry import load_registry
from tests.support import Citizen, gql

SANDBOX = "http://127.0.0.1:8103"


def test_configured_keys_replace_the_demo_key_and_production_derives_none() -> None:
    rotated = [SigningKey.generate("x").public().x, SigningKey.generate("y").public().x]
    configured = load_agency_settings("social_insurance", production=False, default_base_url=SANDBOX,
                                      override={"signing_keys": {"2026-1": rotated[0], "2026-2": rotated[1]}})
    assert [(k.kid, k.x) for k in configured.result_keys("social_insurance")] == [
        ("agency:social_insurance:2026-1", rotated[0]), ("agency:social_insurance:2026-2", rotated[1])]

    demo = load_agency_settings("social_insurance", production=False, default_base_url=SANDBOX)
    assert demo.result_keys("social_insurance") == [
        demo_signing_key("social_insurance", b"dev-secret-social_insurance").public()]

    production = load_agency_settings("social_insurance", production=True, default_base_url=None,
                                      override={"base_url": "https://bhxh.example.vn", "secret": "s3cret"})
    assert production.result_keys("social_insurance") == []


@pytest.mark.parametrize("keys", [{"bad id!": SigningKey.generate("k").public().x}, {"k1": "not-a-key"},
                                  {"k1": "AAAA"}])
def test_a_malformed_key_is_refused_at_load(keys: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        load_agency_settings("residence", production=False, default_base_url=SANDBOX,
                             override={"signing_keys": keys})


async def test_the_demo_wallet_verifies_against_the_demo_servers_keys(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    demo = Citizen(DEMO_CITIZEN_ID_NUMBER, issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER))
    body = await gql(client, "{ me { documents { verification isValid signedPayload signature signingKeyId } } }",
                     who=demo)
    documents = body["data"]["me"]["documents"]
    assert documents
    assert all((d["verification"], d["isValid"]) == ("VALID", True) for d in documents)
    # A registry with no agency settings at all is what `make run` serves with.
    keys = {k.kid: k for k in agency_verify_keys(load_registry(settings))}
    for document in documents:
        assert keys[document["signingKeyId"]].verify(document["signedPayload"], document["signature"])
