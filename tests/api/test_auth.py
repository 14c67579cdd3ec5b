"""e-ID bearer tokens over HTTP: accepted, refused with a machine reason, and the catalogue still answering."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette

from api.app import create_app
from api.auth import DEV_KEY_ID, issue_dev_token, load_dev_private_key
from core.db import Database
from core.errors import MESSAGES, ErrorCode
from core.seed import DEMO_CITIZEN_ID_NUMBER
from core.settings import Environment, Settings
from tests.api.helpers import is_enrolled
from tests.support import TEST_SIGNING_KEYS, citizen, gql, new_id_number

ME_AND_CATALOGUE = "{ me { idNumber } procedures(first: 1) { edges { node { code } } } }"
ME = "{ me { idNumber fullName } }"
VI, EN = MESSAGES[ErrorCode.UNAUTHENTICATED]


def _claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": settings.auth.eid_issuer, "aud": settings.auth.eid_audience,
                              "sub": DEMO_CITIZEN_ID_NUMBER, "iat": now, "nbf": now, "exp": now + 600}
    claims.update(overrides)
    return claims


def _dev_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    return load_dev_private_key(settings.dev_key_path)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _single_unauthenticated(body: dict[str, Any], path: list[str]) -> dict[str, Any]:
    errors = body["errors"]
    assert len(errors) == 1, body
    error: dict[str, Any] = errors[0]
    assert error["path"] == path
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["messageVi"] == VI
    assert error["extensions"]["messageEn"] == EN
    return error


# --- accepted tokens -------------------------------------------------------------------------------------------

async def test_a_valid_dev_token_signs_in_its_subject(client: httpx.AsyncClient, settings: Settings) -> None:
    token = issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER)
    body = await gql(client, ME, headers=_bearer(token))
    assert body == {"data": {"me": {"idNumber": DEMO_CITIZEN_ID_NUMBER, "fullName": "Nguyễn Văn An"}}}


async def test_the_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient, settings: Settings) -> None:
    token = issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER)
    body = await gql(client, ME, headers={"Authorization": f"bearer {token}"})
    assert body["data"]["me"]["idNumber"] == DEMO_CITIZEN_ID_NUMBER


async def test_a_token_just_under_the_lifetime_cap_is_accepted(client: httpx.AsyncClient,
                                                                settings: Settings) -> None:
    assert settings.auth.eid_max_token_lifetime_seconds == 24 * 3600
    token = issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER, ttl_seconds=24 * 3600 - 60)
    body = await gql(client, ME, headers=_bearer(token))
    assert body["data"]["me"]["idNumber"] == DEMO_CITIZEN_ID_NUMBER


async def test_a_token_expired_within_the_leeway_is_still_accepted(client: httpx.AsyncClient,
                                                                   settings: Settings) -> None:
    assert settings.auth.eid_leeway_seconds == 30
    token = issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER, ttl_seconds=-10)
    body = await gql(client, ME, headers=_bearer(token))
    assert "errors" not in body, body
    assert body["data"]["me"]["idNumber"] == DEMO_CITIZEN_ID_NUMBER


async def test_a_new_citizen_is_enrolled_from_the_token_claims(client: httpx.AsyncClient, db: Database,
                                                               settings: Settings) -> None:
    someone = citizen(settings, name="Đỗ Thị Mới")
    assert not await is_enrolled(db, someone.id_number)
    body = await gql(client, "{ me { idNumber fullName birthDate sex phone } }", who=someone)
    assert body == {"data": {"me": {"idNumber": someone.id_number, "fullName": "Đỗ Thị Mới",
                                    "birthDate": "1990-01-01", "sex": "male", "phone": None}}}
    assert await is_enrolled(db, someone.id_number)


@pytest.mark.parametrize("birthdate", ["1990", "0000-03-12", "12/03/1990"])
async def test_a_birthdate_claim_that_is_not_a_full_date_does_not_lock_the_citizen_out(
    client: httpx.AsyncClient, db: Database, settings: Settings, birthdate: str
) -> None:
    id_number = new_id_number()
    token = issue_dev_token(settings, id_number=id_number, extra_claims={"name": "Hà Văn Năm",
                                                                         "birthdate": birthdate})
    body = await gql(client, "{ me { idNumber fullName birthDate } }", headers=_bearer(token))
    assert body == {"data": {"me": {"idNumber": id_number, "fullName": "Hà Văn Năm", "birthDate": None}}}
    assert await is_enrolled(db, id_number)


async def test_a_very_long_name_claim_does_not_break_enrolment(client: httpx.AsyncClient,
                                                               settings: Settings) -> None:
    id_number = new_id_number()
    token = issue_dev_token(settings, id_number=id_number, extra_claims={"name": "Nguyễn " * 50})
    body = await gql(client, "{ me { idNumber } }", headers=_bearer(token))
    assert body == {"data": {"me": {"idNumber": id_number}}}


# --- refused tokens -------------------------------------------------------------------------------------------

def _other_ec_key_same_kid(settings: Settings) -> str:
    stranger = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(_claims(settings), stranger, algorithm="ES256", headers={"kid": DEV_KEY_ID})


def _hs256(settings: Settings) -> str:
    return jwt.encode(_claims(settings), "a-shared-secret-that-is-long-enough-for-hs256!", algorithm="HS256",
                      headers={"kid": DEV_KEY_ID})


def _alg_none(settings: Settings) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": DEV_KEY_ID}
    parts = [json.dumps(part, separators=(",", ":")).encode() for part in (header, _claims(settings))]
    return ".".join(base64.urlsafe_b64encode(p).decode().rstrip("=") for p in parts) + "."



def _without_exp(settings: Settings) -> str:
    claims = _claims(settings)
    del claims["exp"]
    return jwt.encode(claims, _dev_key(settings), algorithm="ES256", headers={"kid": DEV_KEY_ID})


def _a_year_without_iat(settings: Settings) -> str:
    claims = _claims(settings, exp=int(time.time()) + 365 * 24 * 3600)
    del claims["iat"]
    return jwt.encode(claims, _dev_key(settings), algorithm="ES256", headers={"kid": DEV_KEY_ID})


REFUSED: list[tuple[str, Callable[[Settings], str]]] = [
    ("TOKEN_EXPIRED", lambda s: issue_dev_token(s, id_number=DEMO_CITIZEN_ID_NUMBER, ttl_seconds=-120)),
    ("WRONG_ISSUER", lambda s: issue_dev_token(s, id_number=DEMO_CITIZEN_ID_NUMBER,
                                               extra_claims={"iss": "https://eid.evil.example"})),
    ("WRONG_AUDIENCE", lambda s: issue_dev_token(s, id_number=DEMO_CITIZEN_ID_NUMBER,
                                                 extra_claims={"aud": "another-app"})),
    ("BAD_SIGNATURE", _other_ec_key_same_kid),
    ("UNSUPPORTED_ALGORITHM", _alg_none),
    ("UNSUPPORTED_ALGORITHM", _hs256),
    ("MALFORMED_TOKEN", lambda _: "this-is-not-a-jwt"),
    ("BAD_SUBJECT", lambda s: issue_dev_token(s, id_number="12345")),
    ("BAD_SUBJECT", lambda s: issue_dev_token(s, id_number="000085012345")),  # no province 000
    ("TOKEN_NOT_YET_VALID", lambda s: issue_dev_token(s, id_number=DEMO_CITIZEN_ID_NUMBER,
                                                      extra_claims={"nbf": int(time.time()) + 3600})),
    ("MISSING_CLAIM", _without_exp),
    # Lifetime over the 24 h cap, by what is left of it, or by what it was issued for (issue 11).
    ("TOKEN_LIFETIME_TOO_LONG", lambda s: issue_dev_token(s, id_number=DEMO_CITIZEN_ID_NUMBER,
                                                          ttl_seconds=24 * 3600 + 120)),
    ("TOKEN_LIFETIME_TOO_LONG", lambda s: issue_dev_token(s, id_number=DEMO_CITIZEN_ID_NUMBER, ttl_seconds=3600,
                                                          extra_claims={"iat": int(time.time()) - 2 * 24 * 3600})),
    ("TOKEN_LIFETIME_TOO_LONG", _a_year_without_iat),
]


@pytest.mark.parametrize(("reason", "make_token"), REFUSED,
                         ids=[f"{reason}-{n}" for n, (reason, _) in enumerate(REFUSED)])
async def test_a_refused_token_answers_unauthenticated_with_its_reason_and_the_catalogue_still_answers(
    client: httpx.AsyncClient, settings: Settings, reason: str, make_token: Callable[[Settings], str]
) -> None:
    body = await gql(client, ME_AND_CATALOGUE, headers=_bearer(make_token(settings)))
    assert body["data"]["me"] is None
    assert body["data"]["procedures"] == {"edges": [{"node": {"code": "1.000045"}}]}
    error = _single_unauthenticated(body, ["me"])
    assert error["extensions"]["reason"] == reason
    assert error["message"] == VI


# --- token headers: read by us, bounded, and anything unexpected refused before the signature is checked ----------

def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _signed(settings: Settings, header: dict[str, Any] | bytes, id_number: str = DEMO_CITIZEN_ID_NUMBER) -> str:
    """A token genuinely signed by the dev key, with exactly this header (PyJWT would refuse to write some)."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    signing_input = f"{_b64(raw)}.{_b64(json.dumps(_claims(settings, sub=id_number)).encode())}"
    signature = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA256).sign(signing_input.encode(),
                                                                                   _dev_key(settings))
    return f"{signing_input}.{_b64(signature)}"


ES256 = {"alg": "ES256", "kid": DEV_KEY_ID}
# (id, header, reason)
BAD_HEADERS: list[tuple[str, dict[str, Any] | bytes, str]] = [
    ("kid-null", {"alg": "ES256", "kid": None}, "UNSUPPORTED_HEADER"),
    ("kid-integer", {"alg": "ES256", "kid": 7}, "UNSUPPORTED_HEADER"),
    ("kid-empty", {"alg": "ES256", "kid": ""}, "UNSUPPORTED_HEADER"),
    ("kid-object", {"alg": "ES256", "kid": {"a": 1}}, "UNSUPPORTED_HEADER"),
    ("crit", {**ES256, "crit": ["exp"], "exp": 1}, "UNSUPPORTED_HEADER"),
    ("crit-b64", {**ES256, "crit": ["b64"], "b64": False}, "UNSUPPORTED_HEADER"),
    ("jku", {**ES256, "jku": "https://keys.evil.example/jwks.json"}, "UNSUPPORTED_HEADER"),
    ("jwk", {**ES256, "jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}, "UNSUPPORTED_HEADER"),
    ("x5u", {**ES256, "x5u": "https://keys.evil.example/cert.pem"}, "UNSUPPORTED_HEADER"),
    ("typ-other", {**ES256, "typ": "JOSE+JSON"}, "UNSUPPORTED_HEADER"),
    ("alg-not-a-string", {"alg": ["ES256"], "kid": DEV_KEY_ID}, "UNSUPPORTED_ALGORITHM"),
    ("deep", b'{"alg": "ES256", "kid": ' + b"[" * 100 + b"]" * 100 + b"}", "MALFORMED_TOKEN"),
    ("5000-digits", b'{"alg": "ES256", "kid": ' + b"9" * 5000 + b"}", "MALFORMED_TOKEN"),
    ("long-number", b'{"alg": "ES256", "x": ' + b"9" * 100 + b', "kid": "superapp-dev"}', "MALFORMED_TOKEN"),
    ("not-an-object", b'["ES256"]', "MALFORMED_TOKEN"),
    ("not-utf8", b'{"alg": "ES256", "kid": "\xff"}', "MALFORMED_TOKEN"),
    ("lone-surrogate", b'{"alg": "ES256", "kid": "\\ud800"}', "MALFORMED_TOKEN"),
    ("not-json", b"alg=ES256", "MALFORMED_TOKEN"),
]


@pytest.mark.parametrize(("header", "reason"), [c[1:] for c in BAD_HEADERS], ids=[c[0] for c in BAD_HEADERS])
async def test_an_unexpected_token_header_is_unauthenticated_with_a_reason(
    client: httpx.AsyncClient, settings: Settings, caplog: pytest.LogCaptureFixture,
    header: dict[str, Any] | bytes, reason: str,
) -> None:
    body = await gql(client, ME_AND_CATALOGUE, headers=_bearer(_signed(settings, header)))
    assert body["data"]["me"] is None
    assert body["data"]["procedures"] == {"edges": [{"node": {"code": "1.000045"}}]}
    assert _single_unauthenticated(body, ["me"])["extensions"]["reason"] == reason
    assert not [r for r in caplog.records if r.exc_info], "a bad token is not an incident: no traceback"


@pytest.mark.parametrize("header", [ES256, {**ES256, "typ": "JWT"}, {**ES256, "typ": "at+jwt", "x5t": "abc"}],
                         ids=["plain", "typ-jwt", "access-token-typ-and-thumbprint"])
async def test_the_headers_providers_send_are_accepted(client: httpx.AsyncClient, settings: Settings,
                                                       header: dict[str, Any]) -> None:
    body = await gql(client, ME, headers=_bearer(_signed(settings, header)))
    assert body == {"data": {"me": {"idNumber": DEMO_CITIZEN_ID_NUMBER, "fullName": "Nguyễn Văn An"}}}


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Token abc.def.ghi", "Bearer"])
async def test_a_non_bearer_authorization_header_is_a_malformed_header(client: httpx.AsyncClient,
                                                                       authorization: str) -> None:
    body = await gql(client, ME_AND_CATALOGUE, headers={"Authorization": authorization})
    assert body["data"]["me"] is None
    assert len(body["data"]["procedures"]["edges"]) == 1
    assert _single_unauthenticated(body, ["me"])["extensions"]["reason"] == "MALFORMED_HEADER"


async def test_no_token_is_missing_token(client: httpx.AsyncClient) -> None:
    body = await gql(client, ME_AND_CATALOGUE)
    assert body["data"]["me"] is None
    assert len(body["data"]["procedures"]["edges"]) == 1
    assert _single_unauthenticated(body, ["me"])["extensions"]["reason"] == "MISSING_TOKEN"


async def test_a_refused_token_never_enrols_its_subject(client: httpx.AsyncClient, db: Database,
                                                        settings: Settings) -> None:
    id_number = new_id_number()
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(_claims(settings, sub=id_number), stranger, algorithm="ES256", headers={"kid": DEV_KEY_ID})
    body = await gql(client, ME, headers=_bearer(forged))
    assert _single_unauthenticated(body, ["me"])["extensions"]["reason"] == "BAD_SIGNATURE"
    assert not await is_enrolled(db, id_number)


# --- language of messages -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("accept_language", "expected"), [
    (None, VI), ("vi", VI), ("vi-VN,vi;q=0.9", VI), ("en", EN), ("en-US,en;q=0.9,vi;q=0.8", EN), ("fr", VI),
])
async def test_messages_follow_accept_language_and_both_languages_are_always_present(
    client: httpx.AsyncClient, accept_language: str | None, expected: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    body = await gql(client, ME, headers=headers)
    error = _single_unauthenticated(body, ["me"])
    assert error["message"] == expected
    assert VI != EN


# --- configured provider keys (app built per test; ASGI transport) ---------------------------------------------

def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_public_pem(path: Path, key: rsa.RSAPrivateKey) -> Path:
    path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def _write_jwks(path: Path, key: rsa.RSAPrivateKey, kid: str) -> Path:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    path.write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")
    return path


@asynccontextmanager
async def _asgi(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://superapp.test") as http:
        yield http


async def _me_reason(http: httpx.AsyncClient, token: str) -> str | None:
    """The refusal reason for `token` (None when accepted); the catalogue must answer either way."""
    response = await http.post("/graphql", json={"query": ME_AND_CATALOGUE}, headers=_bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["data"]["procedures"]["edges"]) == 1
    if body["data"]["me"] is not None:
        assert "errors" not in body
        assert body["data"]["me"] == {"idNumber": DEMO_CITIZEN_ID_NUMBER}
        return None
    reason: str = _single_unauthenticated(body, ["me"])["extensions"]["reason"]
    return reason


async def test_an_rs256_token_verifies_against_a_configured_public_key_file(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    provider, impostor = _rsa_key(), _rsa_key()
    configured = Settings(env=Environment.TEST, data_dir=tmp_path, database_url=settings.database_url,
                          auth={"eid_public_key_file": _write_public_pem(tmp_path / "eid.pem", provider),
                                "eid_accept_dev_key": False})
    async with _asgi(create_app(configured, db=db)) as http:
        assert await _me_reason(http, jwt.encode(_claims(settings), provider, algorithm="RS256")) is None
        forged = jwt.encode(_claims(settings), impostor, algorithm="RS256")
        assert await _me_reason(http, forged) == "BAD_SIGNATURE"
        expired = jwt.encode(_claims(settings, exp=int(time.time()) - 120), provider, algorithm="RS256")
        assert await _me_reason(http, expired) == "TOKEN_EXPIRED"


async def test_a_dev_token_is_refused_when_the_dev_key_is_off_and_an_rsa_key_file_is_configured(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    configured = Settings(env=Environment.TEST, data_dir=tmp_path, database_url=settings.database_url,
                          auth={"eid_public_key_file": _write_public_pem(tmp_path / "eid.pem", _rsa_key()),
                                "eid_accept_dev_key": False})
    async with _asgi(create_app(configured, db=db)) as http:
        reason = await _me_reason(http, issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER))
    assert reason == "UNKNOWN_KEY"  # no EC key is configured: nothing can check an ES256 token


async def test_an_rs256_token_verifies_against_a_jwks_file_by_kid(settings: Settings, db: Database,
                                                                  tmp_path: Path) -> None:
    provider = _rsa_key()
    configured = Settings(env=Environment.TEST, data_dir=tmp_path, database_url=settings.database_url,
                          auth={"eid_jwks_file": _write_jwks(tmp_path / "jwks.json", provider, "eid-2026"),
                                "eid_accept_dev_key": False})
    async with _asgi(create_app(configured, db=db)) as http:
        good = jwt.encode(_claims(settings), provider, algorithm="RS256", headers={"kid": "eid-2026"})
        assert await _me_reason(http, good) is None
        unknown_kid = jwt.encode(_claims(settings), provider, algorithm="RS256", headers={"kid": "eid-1999"})
        assert await _me_reason(http, unknown_kid) == "UNKNOWN_KEY"
        forged = jwt.encode(_claims(settings), _rsa_key(), algorithm="RS256", headers={"kid": "eid-2026"})
        assert await _me_reason(http, forged) == "BAD_SIGNATURE"


async def test_production_with_a_jwks_file_refuses_the_dev_token(settings: Settings, db: Database,
                                                                  tmp_path: Path) -> None:
    provider = _rsa_key()
    production = Settings(env=Environment.PRODUCTION, data_dir=settings.data_dir,
                          database_url=settings.database_url, graphql={"persisted_only": False},
                          signing={"keys": TEST_SIGNING_KEYS},
                          auth={"eid_jwks_file": _write_jwks(tmp_path / "jwks.json", provider, "eid-2026")})
    assert production.auth.eid_accept_dev_key is False
    async with _asgi(create_app(production, db=db)) as http:
        dev_token = issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER)
        assert await _me_reason(http, dev_token) == "UNKNOWN_KEY"
        good = jwt.encode(_claims(settings), provider, algorithm="RS256", headers={"kid": "eid-2026"})
        assert await _me_reason(http, good) is None


async def test_production_accepts_the_dev_token_only_when_explicitly_allowed(
    settings: Settings, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jwks = _write_jwks(tmp_path / "jwks.json", _rsa_key(), "eid-2026")
    for name in ("SUPERAPP_EID_ACCEPT_DEV_KEY", "SUPERAPP_EID_PUBLIC_KEY_FILE", "SUPERAPP_DEV_ISSUER_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SUPERAPP_ENV", "production")
    monkeypatch.setenv("SUPERAPP_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SUPERAPP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SUPERAPP_EID_JWKS_FILE", str(jwks))
    monkeypatch.setenv("SUPERAPP_PERSISTED_ONLY", "false")  # these tests send ad-hoc documents
    monkeypatch.setenv("SUPERAPP_SIGNING_KEYS", TEST_SIGNING_KEYS)
    dev_token = issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER)

    refusing = Settings()
    assert refusing.is_production
    assert refusing.auth.eid_accept_dev_key is False
    async with _asgi(create_app(refusing, db=db)) as http:
        assert await _me_reason(http, dev_token) == "UNKNOWN_KEY"

    monkeypatch.setenv("SUPERAPP_EID_ACCEPT_DEV_KEY", "true")
    allowing = Settings()
    assert allowing.auth.eid_accept_dev_key is True
    async with _asgi(create_app(allowing, db=db)) as http:
        assert await _me_reason(http, dev_token) is None


async def test_an_es256_token_without_kid_against_rsa_keys_is_unauthenticated_not_a_500(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    production = Settings(env=Environment.PRODUCTION, data_dir=tmp_path, database_url=settings.database_url,
                          graphql={"persisted_only": False}, signing={"keys": TEST_SIGNING_KEYS},
                          auth={"eid_jwks_file": _write_jwks(tmp_path / "jwks.json", _rsa_key(), "eid-2026")})
    token = jwt.encode(_claims(settings), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    async with _asgi(create_app(production, db=db)) as http:
        reason = await _me_reason(http, token)
    assert reason == "UNKNOWN_KEY"  # the only keys are RSA ones
