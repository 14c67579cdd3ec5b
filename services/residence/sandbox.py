"""A stand-in for the residence agency's API: population records and residence dossiers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.seed_data import CITIZENS
from core.text import ascii_digits
from services.issued import document, procedure_of
from services.sandbox_kit import AgencySandbox, Received, asked_id_number

# National status codes along the road: accepted, processing, processed, returned.
ROAD = ("2", "4", "9", "10")
STOP = "8"  # processing stopped: the answer to a citizen's withdrawal
# Payment requested, after processing, for a residence registration filed on its own (its fee: the catalogue);
# the dossier waits there until the citizen's payment notice arrives, then goes on to processed.
PAYMENT, PAID = "6", frozenset({"1.004194", "1.004206"})


def _record(id_number: str) -> dict[str, object]:
    known = {c["id_number"]: c for c in CITIZENS}
    citizen = known.get(id_number)
    if citizen is None:  # any other well-formed number: a plausible, fictitious record
        year = ("19" if id_number[3] in "01" else "20") + id_number[4:6]
        citizen = {"full_name": f"Công Dân {id_number[-4:]}", "birth_date": f"{year}-01-01",
                   "sex": "female" if int(id_number[3]) % 2 else "male", "hometown": "Xã Phúc Xá, Hà Nội",
                   "permanent_address": "Số 1 phố Phúc Xá, Ba Đình, Hà Nội"}
    return {"id_number": id_number, "full_name": citizen["full_name"], "birth_date": citizen["birth_date"],
            "sex": citizen["sex"], "hometown": citizen["hometown"], "ethnicity": "Kinh",
            "permanent_address": {"text": citizen["permanent_address"], "province_code": "01",
                                  "district_code": "001", "ward_code": "00001"}}


def issue(item: Received) -> dict[str, object] | None:
    """A permanent-residence registration returns a residence confirmation (xác nhận thông tin về cư trú),
    which agencies accept for six months."""
    if procedure_of(item) != "1.004194":
        return None
    return document(item, kind="residence_confirmation", prefix="CT", title_vi="Xác nhận thông tin về cư trú",
                    title_en="Residence confirmation", valid_days=180)


def create_sandbox(*, secret: bytes, callback_url: str, advance_seconds: float) -> AgencySandbox:
    sandbox = AgencySandbox(code="residence", secret=secret, callback_url=callback_url, road=ROAD,
                            stop_status=STOP, advance_seconds=advance_seconds, payment_status=PAYMENT,
                            payment_after="4", paid_procedures=PAID, issue=issue)

    async def citizen(request: Request) -> Response:
        id_number = await asked_id_number(request)
        if not (len(id_number) == 12 and ascii_digits(id_number)):
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(_record(id_number))

    sandbox.extra_routes = (Route("/citizens/lookup", sandbox.guarded(citizen), methods=["POST"]),)
    return sandbox
