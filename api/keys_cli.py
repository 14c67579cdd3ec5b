"""`superapp verify` and `superapp keys new|jwks`: check a QR payload, make and publish signing keys.

`verify PAYLOAD --jwks FILE` needs nothing but the JWKS file: it is what an inspector's laptop with no
signal runs. Without `--jwks` it checks against this server's own keys (settings, or the development key).
Exit status: 0 VALID, 1 any other verdict, 2 an unreadable JWKS. Output shows the verdict, the signer and
the claims, which hold no more than the payload's holder shows anyway.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime

from api.keys import verification_ring
from core import qr_payload
from core.server_keys import KeyConfigError, KeyRing, check_kid
from core.settings import Settings
from core.signatures import SigningKey, seed_of

Print = Callable[[str], None]


def _ring(settings: Settings, jwks_file: str | None) -> KeyRing:
    if jwks_file is None:
        return verification_ring(settings)
    with open(jwks_file, encoding="utf-8") as source:
        return KeyRing.from_jwks(json.load(source))


def verify(settings: Settings, args: argparse.Namespace, out: Print, err: Print) -> int:
    try:
        ring = _ring(settings, args.jwks)
    except (OSError, ValueError, RecursionError) as error:
        err(f"cannot read the JWKS: {error}")
        return 2
    result = qr_payload.verify(args.payload.strip(), ring)
    out(result.verdict.value)
    if result.kid is not None:
        out(f"signer: {result.kid}")
    if result.claims is not None:
        out(json.dumps(result.claims, ensure_ascii=False, sort_keys=True, indent=2))
    return 0 if result.verdict is qr_payload.Verdict.VALID else 1


def keys(settings: Settings, args: argparse.Namespace, out: Print, err: Print) -> int:
    if args.keys_command == "new":
        try:
            kid = check_kid(args.kid or f"srv-{datetime.now(UTC):%Y%m%d}")
        except KeyConfigError as error:
            err(str(error))
            return 2
        key = SigningKey.generate(kid)
        err("a new signing key: prepend it to SUPERAPP_SIGNING_KEYS (keep it secret); its public key is:")
        err(json.dumps(key.public().jwk()))
        out(f"{kid}:{seed_of(key)}")
        return 0
    out(json.dumps(verification_ring(settings).jwks(), indent=2))
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                verify_handler: Callable[..., int], keys_handler: Callable[..., int]) -> None:
    check = sub.add_parser("verify", help="check a receipt's or document's QR payload; exit 0 when VALID")
    check.add_argument("payload", help="the text of the QR code (VN1....)")
    check.add_argument("--jwks", metavar="FILE", help="verify offline against this published JWKS only")
    check.set_defaults(handler=verify_handler)
    keys_parser = sub.add_parser("keys", help="the server's receipt-signing keys")
    keys_sub = keys_parser.add_subparsers(dest="keys_command", required=True)
    new = keys_sub.add_parser("new", help="print a new kid:seed for SUPERAPP_SIGNING_KEYS")
    new.add_argument("--kid", help="key id (default srv-YYYYMMDD)")
    keys_sub.add_parser("jwks", help="print the JWKS this server publishes (for offline verifiers)")
    keys_parser.set_defaults(handler=keys_handler)
