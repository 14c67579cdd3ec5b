"""Signed receipts: every received dossier has one, its QR payload verifies online and offline, and any
changed character is refused; keys rotate without invalidating what the old key signed."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.keys_cli import verify as cli_verify
from core import qr_payload
from core.receipts import sign_receipt
from core.server_keys import KeyRing, server_keys
from core.settings import Settings
from core.signatures import SigningKey, seed_of
from tests.api.helpers import BIRTH_REGISTRATION, received_on, submitted_code
from tests.support import Citizen, citizen, gql, serve

RECEIPT = """query($code: String!) { dossier(code: $code) { code submittedAt dueDate
  receipt { issuedAt receivedOn dueDate signedBy qrPayload } } }"""
VERIFY = """query($payload: String!) { verifyPayload(payload: $payload) { result claims signedBy } }"""
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


async def _receipt(client: httpx.AsyncClient, who: Citizen, code: str) -> dict[str, Any]:
    body = await gql(client, RECEIPT, {"code": code}, who=who)
    assert "errors" not in body, body
    dossier: dict[str, Any] = body["data"]["dossier"]
    return dossier


async def _verdict(client: httpx.AsyncClient, payload: str) -> dict[str, Any]:
    body = await gql(client, VERIFY, {"payload": payload})
    assert "errors" not in body, body
    answer: dict[str, Any] = body["data"]["verifyPayload"]
    return answer


def _tampered(payload: str, index: int) -> str:
    """The payload with one character changed to another base64url character."""
    old = payload[index]
    new = B64[(B64.index(old) + 1) % len(B64)] if old in B64 else "A"
    return payload[:index] + new + payload[index + 1:]


def _superapp_verify(payload: str, jwks: Path) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process, with nothing but the JWKS file."""
    return subprocess.run([sys.executable, "-m", "api.cli", "verify", payload, "--jwks", str(jwks)],
                          capture_output=True, text=True, timeout=60, check=False)


def _cli(settings: Settings, payload: str, jwks: Path | None) -> tuple[int, list[str]]:
    lines: list[str] = []
    args = argparse.Namespace(payload=payload, jwks=str(jwks) if jwks else None)
    return cli_verify(settings, args, lines.append, lines.append), lines


async def test_a_received_dossier_has_a_signed_receipt_without_personal_data(
        client: httpx.AsyncClient, settings: Settings) -> None:
    who = citizen(settings, name="Người Có Biên Nhận")
    code = await submitted_code(client, who)
    dossier = await _receipt(client, who, code)
    receipt = dossier["receipt"]
    payload = receipt["qrPayload"]
    assert payload.startswith("VN1.")
    assert len(payload) < 1024
    assert who.id_number not in payload
    assert "Người" not in payload
    assert receipt["issuedAt"] == dossier["submittedAt"]
    assert receipt["dueDate"] == dossier["dueDate"]
    assert receipt["receivedOn"] == received_on(dossier["submittedAt"]).isoformat()
    answer = await _verdict(client, payload)
    assert answer["result"] == "VALID"
    assert answer["signedBy"] == receipt["signedBy"] == server_keys(settings).signing.kid
    assert answer["claims"] == {"typ": "receipt", "dossier": code, "procedure": BIRTH_REGISTRATION,
                                "agency": code.rsplit("-", 2)[0], "received": receipt["receivedOn"],
                                "due": dossier["dueDate"], "iss": settings.signing.issuer}
    assert who.id_number not in json.dumps(answer, ensure_ascii=False)
    # Recomputed, not stored: asking again gives the very same bytes.
    assert (await _receipt(client, who, code))["receipt"]["qrPayload"] == payload


async def test_every_changed_character_is_refused_by_the_endpoint_and_the_cli(
        client: httpx.AsyncClient, settings: Settings, tmp_path: Path) -> None:
    who = citizen(settings)
    payload = (await _receipt(client, who, await submitted_code(client, who)))["receipt"]["qrPayload"]
    jwks = tmp_path / "jwks.json"
    jwks.write_text((await client.get("/.well-known/jwks.json")).text, encoding="utf-8")
    assert _cli(settings, payload, jwks)[0] == 0
    claims_start = len("VN1.")
    signature_start = payload.rindex(".") + 1
    for index in [*range(claims_start, payload.index(".", claims_start)), *range(signature_start, len(payload))]:
        changed = _tampered(payload, index)
        assert (await _verdict(client, changed))["result"] in {"INVALID", "MALFORMED"}, index
        status, lines = _cli(settings, changed, jwks)
        assert status == 1, (index, lines)
        assert lines[0] in {"INVALID", "MALFORMED"}, (index, lines)
        assert not any("receipt" in line for line in lines)  # no claims shown for a refused payload
    signature_changed = _tampered(payload, len(payload) - 10)
    claims_changed = _tampered(payload, claims_start + 20)
    assert (await _verdict(client, signature_changed))["result"] == "INVALID"
    for bad in (signature_changed, claims_changed):
        run = _superapp_verify(bad, jwks)
        assert run.returncode == 1, run.stdout + run.stderr
    run = _superapp_verify(payload, jwks)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("VALID")
    assert '"typ": "receipt"' in run.stdout


@pytest.mark.parametrize("payload", ["", "VN1", "VN1...", "VN2.e30.k.sig", "x" * 5000, "VN1.W10.k." + "A" * 86,
                                     "VN1.e30.k." + "A" * 85, "VN1.e30..AAAA", "VN1.é.k.sig",
                                     "VN1." + "W" * 900 + ".k." + "A" * 86])
async def test_garbage_is_malformed_not_an_error(client: httpx.AsyncClient, payload: str) -> None:
    assert (await _verdict(client, payload))["result"] == "MALFORMED"


async def test_the_published_jwks_is_cached_and_public(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == f"public, max-age={settings.signing.jwks_max_age}"
    keys = response.json()["keys"]
    # The server's receipt keys first, then each agency's document keys (wallet documents verify offline too).
    server = [k.kid for k in server_keys(settings).published]
    assert [k["kid"] for k in keys][:len(server)] == server
    agencies = [k["kid"] for k in keys][len(server):]
    assert agencies, "the agencies' document keys are published"
    assert all(kid.startswith("agency:") for kid in agencies)
    assert all(set(k) == {"kty", "crv", "kid", "x", "alg", "use"} for k in keys)  # nothing private (no "d")


def _signed_by(key: SigningKey, code: str) -> str:
    return sign_receipt(dossier_code=code, procedure_code=BIRTH_REGISTRATION, agency_code="000.00.00.H01",
                        submitted_at=__import__("datetime").datetime(2026, 1, 5, 3, tzinfo=__import__(
                            "datetime").UTC), due=date(2026, 1, 9), tz_name="Asia/Ho_Chi_Minh", issuer="superapp",
                        key=key).payload


async def test_rotation_keeps_old_receipts_valid_and_refuses_unknown_keys(
        settings: Settings, tmp_path: Path) -> None:
    old, new, retired, stranger = (SigningKey.generate(k) for k in ("srv-old", "srv-new", "srv-2024", "srv-old"))
    rotated = settings.updated(signing={"keys": f"srv-new:{seed_of(new)},srv-old:{seed_of(old)}",
                                        "retired_keys": f"srv-2024:{retired.public().x}"})
    with serve(create_app(rotated)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            jwks = (await http.get("/.well-known/jwks.json")).json()
            kids = [k["kid"] for k in jwks["keys"]]
            assert kids[:3] == ["srv-new", "srv-old", "srv-2024"]
            assert all(kid.startswith("agency:") for kid in kids[3:])
            for key in (old, new, retired):
                assert (await _verdict(http, _signed_by(key, "K-1")))["result"] == "VALID", key.kid
            assert (await _verdict(http, _signed_by(stranger, "K-1")))["result"] == "INVALID"  # same kid, other key
            unknown = _signed_by(SigningKey.generate("srv-gone"), "K-1")
            assert await _verdict(http, unknown) == {"result": "UNKNOWN_KEY", "claims": None, "signedBy": "srv-gone"}
    assert server_keys(rotated).signing.kid == "srv-new"
    # Offline: the published JWKS alone, no server and no settings behind it.
    offline = tmp_path / "jwks.json"
    offline.write_text(json.dumps(jwks), encoding="utf-8")
    assert qr_payload.verify(_signed_by(old, "K-2"), KeyRing.from_jwks(jwks)).verdict is qr_payload.Verdict.VALID
    assert _cli(settings, _signed_by(retired, "K-3"), offline)[0] == 0
    assert _cli(settings, unknown, offline) == (1, ["UNKNOWN_KEY", "signer: srv-gone"])


def test_the_longest_legal_receipt_stays_under_one_kilobyte() -> None:
    """Every claim at its column's maximum length (dossier code 64, procedure and agency codes 32, issuer and
    kid 64), with multi-byte characters where a value may hold them."""
    key = SigningKey.generate("k" * 64)
    payload = sign_receipt(dossier_code="Đ" * 64, procedure_code="Đ" * 32, agency_code="Đ" * 32,
                           submitted_at=__import__("datetime").datetime(2026, 12, 31, tzinfo=__import__(
                               "datetime").UTC), due=date(9999, 12, 31), tz_name="Asia/Ho_Chi_Minh",
                           issuer="i" * 64, key=key).payload
    assert len(payload.encode("utf-8")) < 1024
    assert qr_payload.verify(payload, KeyRing([lambda: [key.public()]])).verdict is qr_payload.Verdict.VALID


async def test_public_verification_is_charged_to_the_callers_ip(settings: Settings) -> None:
    """Anonymous, so the IP quota pays: each verification costs its weight, and a flood is refused with 429."""
    # In process: on PostgreSQL the shared bucket of 127.0.0.1 would stay drained for the other tests.
    limited = settings.updated(quota={"ip_limit": 30, "ip_period_seconds": 3600, "backend": "memory"})
    payload = _signed_by(SigningKey.generate("srv-x"), "K-9")
    with serve(create_app(limited)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            statuses = []
            for _ in range(6):
                response = await http.post("/graphql", json={"query": VERIFY, "variables": {"payload": payload}})
                statuses.append(response.status_code)
                if response.status_code == 429:
                    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
                    assert "retry-after" in response.headers
    assert statuses[0] == 200
    assert 429 in statuses  # 9 units each (5 for verifyPayload): the fourth is over 30


async def test_post_verify_answers_like_verify_payload(client: httpx.AsyncClient, settings: Settings) -> None:
    """For a desk scanner that speaks no GraphQL: the same verdicts, and plain refusals for what is not a request."""
    who = citizen(settings)
    payload = (await _receipt(client, who, await submitted_code(client, who)))["receipt"]["qrPayload"]
    valid = await client.post("/verify", json={"payload": payload})
    assert valid.status_code == 200
    assert valid.json() == {**await _verdict(client, payload)}
    assert valid.json()["result"] == "VALID"
    tampered = await client.post("/verify", json={"payload": _tampered(payload, len(payload) - 5)})
    assert tampered.json() == {"result": "INVALID", "claims": None, "signedBy": server_keys(settings).signing.kid}
    assert (await client.post("/verify", json={"payload": "nope"})).json()["result"] == "MALFORMED"
    for body in (b"[", b'{"payload": 5}', b"[1]", b"\xff"):
        refused = await client.post("/verify", content=body, headers={"content-type": "application/json"})
        assert refused.status_code == 400, body
    assert (await client.post("/verify", json={"payload": "x" * 5000})).status_code == 413
    wrong = await client.get("/verify")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
