"""A citizen's dossiers over HTTP: listing, detail, submission (validation, pre-fill, idempotency), withdrawal."""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import date
from typing import Any

import httpx
import pytest
from sqlmodel import select

from api.auth import issue_dev_token
from core.db import Database
from core.deadlines import HolidayCalendar
from core.dossier_status import DossierStatus
from core.models import Citizen as CitizenRow
from core.seed import DEMO_CITIZEN_ID_NUMBER
from core.seed_data import DEMO_DOSSIERS
from core.settings import Settings
from tests.api.helpers import (
    BIRTH_REGISTRATION,
    DOSSIER,
    NATIONAL_ORDER,
    SUBMIT,
    WITHDRAW,
    dossier_count,
    is_working_day,
    local_today,
    move,
    received_on,
    sample_form,
    stored_dossier,
    submit,
    submitted_code,
    walk_my_dossiers,
    working_days_after,
)
from tests.support import Citizen, citizen, gql

CODE = re.compile(r"^(?P<agency>[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[0-9A-Z]{3})-(?P<day>\d{6})-(?P<seq>\d{4})$")
S = DossierStatus


def _demo(settings: Settings) -> Citizen:
    return Citizen(DEMO_CITIZEN_ID_NUMBER, issue_dev_token(settings, id_number=DEMO_CITIZEN_ID_NUMBER))


async def _demo_dossiers(client: httpx.AsyncClient, settings: Settings) -> dict[str, dict[str, Any]]:
    """The demo citizen's dossiers in full detail, by procedure code."""
    demo = _demo(settings)
    codes = [n["code"] for n in await walk_my_dossiers(client, demo, 100)]
    details: dict[str, dict[str, Any]] = {}
    for code in codes:
        body = await gql(client, DOSSIER, {"code": code}, who=demo)
        assert "errors" not in body, body
        details[body["data"]["dossier"]["procedure"]["code"]] = body["data"]["dossier"]
    return details


# --- myDossiers -----------------------------------------------------------------------------------------------

async def test_my_dossiers_are_newest_first(client: httpx.AsyncClient, settings: Settings) -> None:
    nodes = await walk_my_dossiers(client, _demo(settings), 100)
    newest_first = [code for code, _, days_ago in sorted(DEMO_DOSSIERS, key=lambda d: d[2])]
    assert [n["procedure"]["code"] for n in nodes] == newest_first
    submitted = [n["submittedAt"] for n in nodes]
    assert submitted == sorted(submitted, reverse=True)
    assert len(set(submitted)) == 10


@pytest.mark.parametrize("first", [1, 3, 4])
async def test_pagination_walks_every_dossier_exactly_once(client: httpx.AsyncClient, settings: Settings,
                                                           first: int) -> None:
    everything = [n["code"] for n in await walk_my_dossiers(client, _demo(settings), 100)]
    assert len(everything) == 10
    walked = [n["code"] for n in await walk_my_dossiers(client, _demo(settings), first)]
    assert walked == everything


async def test_the_default_page_holds_all_ten_and_says_there_is_no_next(client: httpx.AsyncClient,
                                                                         settings: Settings) -> None:
    body = await gql(client, "{ myDossiers { edges { node { code } } pageInfo { hasNextPage hasPreviousPage } } }",
                     who=_demo(settings))
    connection = body["data"]["myDossiers"]
    assert len(connection["edges"]) == 10
    assert connection["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False}


async def test_status_filter(client: httpx.AsyncClient, settings: Settings) -> None:
    demo = _demo(settings)
    nodes = await walk_my_dossiers(client, demo, 1, status=["PROCESSING", "RETURNED"])
    assert [(n["status"], n["procedure"]["code"]) for n in nodes] == [("PROCESSING", "1.004222"),
                                                                      ("RETURNED", "1.001193")]
    for status, _ in NATIONAL_ORDER:
        only = await walk_my_dossiers(client, demo, 100, status=[status])
        assert [n["status"] for n in only] == [status]
    assert len(await walk_my_dossiers(client, demo, 100, status=[])) == 10


async def test_a_new_citizen_has_no_dossiers(client: httpx.AsyncClient, settings: Settings) -> None:
    body = await gql(client, "{ myDossiers { edges { cursor } pageInfo { hasNextPage endCursor } } }",
                     who=citizen(settings))
    assert body == {"data": {"myDossiers": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("after", ["garbage", _cursor('c1:["procedure","1.001193"]'), _cursor('c1:["dossier",1]')])
async def test_an_invalid_cursor_is_invalid_cursor(client: httpx.AsyncClient, settings: Settings,
                                                   after: str) -> None:
    body = await gql(client, "query($a: String) { myDossiers(after: $a) { edges { cursor } } }", {"a": after},
                     who=_demo(settings))
    assert body["data"] == {"myDossiers": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_CURSOR"]


@pytest.mark.parametrize("after", [_cursor('c1:["dossier","not-a-date",1]'),
                                   _cursor('c1:["dossier","2026-01-01T00:00:00+00:00","x"]'),
                                   _cursor('c1:["dossier",{"a":1},2]'),
                                   _cursor('c1:["dossier","2026-01-01T00:00:00+00:00",[1]]')],
                         ids=["bad-datetime", "bad-id", "object-datetime", "list-id"])
async def test_a_forged_dossier_cursor_is_invalid_cursor(client: httpx.AsyncClient, settings: Settings,
                                                         after: str) -> None:
    body = await gql(client, "query($a: String) { myDossiers(after: $a) { edges { cursor } } }", {"a": after},
                     who=_demo(settings))
    assert body["data"] == {"myDossiers": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_CURSOR"]


@pytest.mark.parametrize("first", [0, 101])
async def test_page_size_limits(client: httpx.AsyncClient, settings: Settings, first: int) -> None:
    body = await gql(client, "query($f: Int) { myDossiers(first: $f) { edges { cursor } } }", {"f": first},
                     who=_demo(settings))
    assert body["data"] == {"myDossiers": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PAGE_SIZE_TOO_LARGE"]


# --- dossier detail -------------------------------------------------------------------------------------------

async def test_every_national_status_has_its_code_and_label(client: httpx.AsyncClient, settings: Settings) -> None:
    details = await _demo_dossiers(client, settings)
    seen = {d["status"]: (d["statusCode"], d["statusLabel"]["vi"]) for d in details.values()}
    expected = {status: (number, label) for number, (status, label) in enumerate(NATIONAL_ORDER, start=1)}
    assert seen == expected


async def test_history_is_oldest_first_from_submitted_to_the_current_status(client: httpx.AsyncClient,
                                                                           settings: Settings) -> None:
    details = await _demo_dossiers(client, settings)
    for procedure_code, path, _ in DEMO_DOSSIERS:
        dossier = details[procedure_code]
        events = dossier["events"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert [e["status"] for e in events] == ["SUBMITTED", *(s.upper() for s in path)]
        assert events[-1]["status"] == dossier["status"]
        assert [e["fromStatus"] for e in events] == [None, *(e["status"] for e in events[:-1])]
        assert events[0]["source"] == "citizen"
        assert [e["occurredAt"] for e in events] == sorted(e["occurredAt"] for e in events)
        codes = {s: n for n, (s, _) in enumerate(NATIONAL_ORDER, start=1)}
        assert all(e["statusCode"] == codes[e["status"]] for e in events)
        assert dossier["version"] == len(events)


async def test_detail_has_procedure_agency_and_the_returned_dossiers_document(client: httpx.AsyncClient,
                                                                              settings: Settings) -> None:
    details = await _demo_dossiers(client, settings)
    returned = details["1.001193"]
    assert returned["status"] == "RETURNED"
    assert returned["procedure"]["code"] == "1.001193"
    assert returned["agency"] == {"code": "000.20.31.H26"}
    assert returned["procedure"]["agency"] == {"code": "000.20.31.H26"}
    assert CODE.match(returned["code"])["agency"] == "000.20.31.H26"  # type: ignore[index]
    assert [(d["kind"], d["number"], d["title"]["vi"]) for d in returned["documents"]] == [
        ("birth_certificate", "123/2026/KS", "Giấy khai sinh (bản điện tử)")]
    assert all(d["documents"] == [] for code, d in details.items() if code != "1.001193")
    assert returned["id"] == base64.b64encode(f"Dossier:{returned['code']}".encode()).decode()


async def test_due_date_counts_the_procedures_working_days_after_receipt(client: httpx.AsyncClient,
                                                                         settings: Settings,
                                                                         calendar: HolidayCalendar) -> None:
    for dossier in (await _demo_dossiers(client, settings)).values():
        received = received_on(dossier["submittedAt"])
        due = date.fromisoformat(dossier["dueDate"])
        assert is_working_day(due, calendar), dossier
        assert working_days_after(received, due, calendar) == dossier["procedure"]["processingDays"], dossier


async def test_overdue_only_while_the_agencys_clock_runs(client: httpx.AsyncClient, settings: Settings) -> None:
    details = await _demo_dossiers(client, settings)
    today = local_today()
    late = details["1.004222"]  # submitted 30 days ago, 10 working days, still processing
    assert late["status"] == "PROCESSING"
    assert date.fromisoformat(late["dueDate"]) < today
    assert late["overdue"] is True
    assert late["dueSoon"] is False
    assert late["workingDaysLeft"] < 0

    returned = details["1.001193"]  # due 1 working day after a receipt 40 days ago, but returned
    assert returned["status"] == "RETURNED"
    assert date.fromisoformat(returned["dueDate"]) < today
    assert returned["overdue"] is False

    fresh = details["1.004206"]  # submitted today, 3 working days
    assert fresh["status"] == "SUBMITTED"
    assert fresh["overdue"] is False
    assert fresh["workingDaysLeft"] > 0


# --- submitDossier --------------------------------------------------------------------------------------------

async def test_submit_returns_the_new_dossier(client: httpx.AsyncClient, settings: Settings,
                                              calendar: HolidayCalendar) -> None:
    someone = citizen(settings, name="Phạm Thị Thử")
    before = local_today()
    payload = await submit(client, someone, BIRTH_REGISTRATION, client_mutation_id="submit-once")
    after = local_today()
    assert payload["errors"] == []
    assert payload["clientMutationId"] == "submit-once"
    dossier = payload["dossier"]
    match = CODE.match(dossier["code"])
    assert match is not None, dossier["code"]
    assert match["agency"] == dossier["agency"]["code"] == "000.20.31.H26"
    assert match["day"] in {before.strftime("%y%m%d"), after.strftime("%y%m%d")}
    assert 1 <= int(match["seq"]) <= 9999
    assert dossier["status"] == "SUBMITTED"
    assert dossier["statusCode"] == 1
    assert dossier["version"] == 1
    assert dossier["procedure"]["code"] == BIRTH_REGISTRATION
    assert [(e["seq"], e["status"], e["fromStatus"], e["source"]) for e in dossier["events"]] == [
        (1, "SUBMITTED", None, "citizen")]
    assert dossier["documents"] == []
    assert dossier["overdue"] is False
    due = date.fromisoformat(dossier["dueDate"])
    assert is_working_day(due, calendar)
    assert working_days_after(received_on(dossier["submittedAt"]), due, calendar) == 1

    listed = await walk_my_dossiers(client, someone, 100)
    assert [n["code"] for n in listed] == [dossier["code"]]
    fetched = await gql(client, DOSSIER, {"code": dossier["code"]}, who=someone)
    assert fetched["data"]["dossier"] == dossier


async def test_submit_fills_identity_fields_from_the_token_not_from_the_client(client: httpx.AsyncClient,
                                                                               settings: Settings) -> None:
    someone = citizen(settings, name="Phạm Thị Thử")
    form = {**sample_form(BIRTH_REGISTRATION), "applicant_name": "Kẻ Mạo Danh",
            "applicant_id_number": DEMO_CITIZEN_ID_NUMBER}
    payload = await submit(client, someone, BIRTH_REGISTRATION, form)
    assert payload["errors"] == []
    assert payload["dossier"]["formData"] == {**sample_form(BIRTH_REGISTRATION), "applicant_name": "Phạm Thị Thử",
                                              "applicant_id_number": someone.id_number}


async def test_a_profile_phone_fills_only_a_missing_phone(client: httpx.AsyncClient, db: Database,
                                                          settings: Settings) -> None:
    someone = citizen(settings)
    await gql(client, "{ me { idNumber } }", who=someone)
    async with db.write() as session:
        query = select(CitizenRow).where(CitizenRow.id_number == someone.id_number)
        row = (await session.execute(query)).scalars().one()
        row.phone = "0901234567"
        session.add(row)
    left_out = await submit(client, someone, BIRTH_REGISTRATION)
    assert left_out["dossier"]["formData"]["phone"] == "0901234567"
    own_phone = {**sample_form(BIRTH_REGISTRATION), "phone": "0388888888"}
    given = await submit(client, someone, BIRTH_REGISTRATION, own_phone)
    assert given["dossier"]["formData"]["phone"] == "0388888888"


async def test_form_mistakes_are_typed_errors_and_nothing_is_stored(client: httpx.AsyncClient, db: Database,
                                                                     settings: Settings) -> None:
    someone = citizen(settings)
    await submitted_code(client, someone)
    form = sample_form(BIRTH_REGISTRATION)
    del form["child_name"]
    form.update({"child_birth_date": "2026-02-30", "child_sex": "unknown", "nickname": "Bin"})

    body = await gql(client, _SUBMIT_ERRORS_ONLY, {"input": {"procedureCode": BIRTH_REGISTRATION, "formData": form,
                                                             "clientMutationId": "bad-form"}}, who=someone)
    assert "errors" not in body, "form mistakes must not be GraphQL errors"
    payload = body["data"]["submitDossier"]
    assert payload["dossier"] is None
    assert payload["clientMutationId"] == "bad-form"
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("INVALID_FORMAT", "formData.child_birth_date"),
        ("REQUIRED", "formData.child_name"),
        ("NOT_ALLOWED_VALUE", "formData.child_sex"),
        ("UNKNOWN_FIELD", "formData.nickname"),
    ]
    for error in payload["errors"]:
        assert error["message"] == error["messageVi"]
        assert error["messageVi"] != error["messageEn"]
    required = payload["errors"][1]
    assert "Họ và tên trẻ" in required["messageVi"]
    assert "Child's full name" in required["messageEn"]
    assert await dossier_count(db, someone.id_number) == 1

    # The same id may be used again once the form is right: nothing was stored under it.
    fixed = await submit(client, someone, BIRTH_REGISTRATION, client_mutation_id="bad-form")
    assert fixed["errors"] == []
    assert await dossier_count(db, someone.id_number) == 2


_SUBMIT_ERRORS_ONLY = """
mutation Submit($input: SubmitDossierInput!) {
  submitDossier(input: $input) { clientMutationId dossier { code } errors { code field message messageVi messageEn } }
}
"""


async def test_form_errors_speak_english_when_asked(client: httpx.AsyncClient, settings: Settings) -> None:
    form = sample_form(BIRTH_REGISTRATION)
    del form["mother_name"]
    payload = await submit(client, citizen(settings), BIRTH_REGISTRATION, form, headers={"Accept-Language": "en"})
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("REQUIRED", "formData.mother_name")]
    assert payload["errors"][0]["message"] == payload["errors"][0]["messageEn"]
    assert "Mother's full name" in payload["errors"][0]["message"]


@pytest.mark.parametrize(("procedure_code", "change", "expected"), [
    ("1.004222", {"copies": 0}, ("OUT_OF_RANGE", "formData.copies")),
    ("1.004222", {"copies": "two"}, ("INVALID_TYPE", "formData.copies")),
    ("1.000045", {"card_number": "12345"}, ("INVALID_FORMAT", "formData.card_number")),
    ("1.004194", {"new_address": "x" * 201}, ("INVALID_LENGTH", "formData.new_address")),
    ("1.004194", {"new_address": " "}, ("REQUIRED", "formData.new_address")),
    ("1.002809", {"licence_class": "Z"}, ("NOT_ALLOWED_VALUE", "formData.licence_class")),
])
async def test_each_kind_of_form_mistake_has_its_code(client: httpx.AsyncClient, settings: Settings,
                                                      procedure_code: str, change: dict[str, Any],
                                                      expected: tuple[str, str]) -> None:
    payload = await submit(client, citizen(settings), procedure_code, {**sample_form(procedure_code), **change})
    assert payload["dossier"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [expected]


@pytest.mark.parametrize("form_data", ["a string", [1, 2], 42, True])
async def test_form_data_that_is_not_an_object_is_invalid_type(client: httpx.AsyncClient, db: Database,
                                                               settings: Settings, form_data: Any) -> None:
    someone = citizen(settings)
    payload = await submit(client, someone, BIRTH_REGISTRATION, form_data)
    assert payload["dossier"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_TYPE", "formData")]
    assert await dossier_count(db, someone.id_number) == 0


@pytest.mark.parametrize("procedure_code", ["9.999999", "", "1.001193 "])
async def test_an_unknown_procedure_is_procedure_not_available(client: httpx.AsyncClient, db: Database,
                                                               settings: Settings, procedure_code: str) -> None:
    someone = citizen(settings)
    payload = await submit(client, someone, procedure_code, sample_form(BIRTH_REGISTRATION))
    assert payload["dossier"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("PROCEDURE_NOT_AVAILABLE", "procedureCode")]
    assert await dossier_count(db, someone.id_number) == 0


async def test_a_retry_with_the_same_client_mutation_id_returns_the_first_dossier(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    someone = citizen(settings)
    first = await submit(client, someone, BIRTH_REGISTRATION, client_mutation_id="retry-1")
    second = await submit(client, someone, BIRTH_REGISTRATION, client_mutation_id="retry-1")
    assert first["errors"] == second["errors"] == []
    assert second["dossier"]["code"] == first["dossier"]["code"]
    assert second["clientMutationId"] == "retry-1"
    assert await dossier_count(db, someone.id_number) == 1


async def test_the_same_client_mutation_id_with_another_input_is_refused(client: httpx.AsyncClient, db: Database,
                                                                        settings: Settings) -> None:
    someone = citizen(settings)
    first = await submit(client, someone, BIRTH_REGISTRATION, client_mutation_id="key-1")
    other_form = {**sample_form(BIRTH_REGISTRATION), "child_name": "Nguyễn Minh Khang"}
    for procedure_code, form in [(BIRTH_REGISTRATION, other_form), ("1.004222", sample_form("1.004222"))]:
        reused = await submit(client, someone, procedure_code, form, client_mutation_id="key-1")
        assert reused["dossier"] is None
        assert [(e["code"], e["field"]) for e in reused["errors"]] == [("IDEMPOTENCY_KEY_REUSED", "clientMutationId")]
    assert await dossier_count(db, someone.id_number) == 1
    assert [n["code"] for n in await walk_my_dossiers(client, someone, 10)] == [first["dossier"]["code"]]


async def test_a_long_client_mutation_id_is_a_user_mistake_or_accepted_never_an_internal_error(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    someone = citizen(settings)
    await gql(client, "{ me { idNumber } }", who=someone)
    key = "k" * 100
    body = await gql(client, SUBMIT, {"input": {"procedureCode": BIRTH_REGISTRATION, "clientMutationId": key,
                                                "formData": sample_form(BIRTH_REGISTRATION)}}, who=someone)
    assert "errors" not in body, body
    payload = body["data"]["submitDossier"]
    if payload["dossier"] is None:
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_LENGTH", "clientMutationId")]
        assert await dossier_count(db, someone.id_number) == 0
    else:
        assert payload["errors"] == []
        retry = await submit(client, someone, BIRTH_REGISTRATION, client_mutation_id=key)
        assert retry["dossier"]["code"] == payload["dossier"]["code"]
        assert await dossier_count(db, someone.id_number) == 1


async def test_client_mutation_ids_belong_to_each_citizen(client: httpx.AsyncClient, settings: Settings) -> None:
    one, two = citizen(settings), citizen(settings)
    first = await submit(client, one, BIRTH_REGISTRATION, client_mutation_id="shared-key")
    second = await submit(client, two, BIRTH_REGISTRATION, client_mutation_id="shared-key")
    assert first["errors"] == second["errors"] == []
    assert first["dossier"]["code"] != second["dossier"]["code"]
    assert second["dossier"]["formData"]["applicant_id_number"] == two.id_number


async def test_concurrent_retries_store_exactly_one_dossier(client: httpx.AsyncClient, db: Database,
                                                            settings: Settings) -> None:
    someone = citizen(settings)
    await gql(client, "{ me { idNumber } }", who=someone)
    payloads = await asyncio.gather(*(submit(client, someone, BIRTH_REGISTRATION, client_mutation_id="burst")
                                      for _ in range(10)))
    assert all(p["errors"] == [] for p in payloads), payloads
    assert len({p["dossier"]["code"] for p in payloads}) == 1
    assert await dossier_count(db, someone.id_number) == 1


async def test_concurrent_first_requests_of_a_new_citizen_enrol_them_once(client: httpx.AsyncClient,
                                                                         db: Database, settings: Settings) -> None:
    someone = citizen(settings)
    payloads = await asyncio.gather(*(submit(client, someone, BIRTH_REGISTRATION, client_mutation_id=f"first-{n}")
                                      for n in range(5)))
    assert all(p["errors"] == [] for p in payloads), payloads
    assert len({p["dossier"]["code"] for p in payloads}) == 5
    async with db.read() as session:
        rows = (await session.execute(select(CitizenRow).where(CitizenRow.id_number == someone.id_number))).all()
    assert len(rows) == 1
    assert await dossier_count(db, someone.id_number) == 5


async def test_concurrent_distinct_submissions_get_distinct_codes(client: httpx.AsyncClient, db: Database,
                                                                  settings: Settings) -> None:
    someone = citizen(settings)
    await gql(client, "{ me { idNumber } }", who=someone)
    payloads = await asyncio.gather(*(submit(client, someone, "1.004206") for _ in range(10)))
    assert all(p["errors"] == [] for p in payloads), payloads
    codes = {p["dossier"]["code"] for p in payloads}
    assert len(codes) == 10
    assert all(CODE.match(c)["agency"] == "000.00.00.G09" for c in codes)  # type: ignore[index]
    assert await dossier_count(db, someone.id_number) == 10


# --- withdrawDossier ------------------------------------------------------------------------------------------

WITHDRAWABLE_PATHS: list[list[DossierStatus]] = [
    [], [S.ACCEPTED], [S.ACCEPTED, S.PROCESSING], [S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED],
    [S.ACCEPTED, S.PROCESSING, S.PAYMENT_REQUESTED],
]


@pytest.mark.parametrize("path", WITHDRAWABLE_PATHS, ids=lambda p: (p[-1] if p else S.SUBMITTED).value)
async def test_withdraw_while_the_agency_holds_the_dossier(client: httpx.AsyncClient, db: Database,
                                                           settings: Settings, path: list[DossierStatus]) -> None:
    someone = citizen(settings)
    code = await submitted_code(client, someone)
    await move(db, someone.id_number, code, *path)
    body = await gql(client, WITHDRAW, {"code": code}, who=someone)
    assert "errors" not in body, body
    payload = body["data"]["withdrawDossier"]
    assert payload["errors"] == []
    assert payload["clientMutationId"] == "w-1"
    dossier = payload["dossier"]
    assert dossier["status"] == "WITHDRAWAL_REQUESTED"
    assert dossier["statusCode"] == 7
    current = (path[-1] if path else S.SUBMITTED).name
    assert [e["status"] for e in dossier["events"]] == ["SUBMITTED", *(s.name for s in path), "WITHDRAWAL_REQUESTED"]
    assert (dossier["events"][-1]["fromStatus"], dossier["events"][-1]["source"]) == (current, "citizen")
    assert dossier["version"] == len(path) + 2
    assert await stored_dossier(db, code) == ("withdrawal_requested", len(path) + 2,
                                              ["submitted", *path, "withdrawal_requested"])


REFUSED_PATHS: list[list[DossierStatus]] = [
    [S.NOT_ACCEPTED], [S.ACCEPTED, S.PROCESSING, S.PROCESSED, S.RETURNED], [S.ACCEPTED, S.PROCESSING, S.PROCESSED],
    [S.ACCEPTED, S.PROCESSING_STOPPED], [S.WITHDRAWAL_REQUESTED],
]


@pytest.mark.parametrize("path", REFUSED_PATHS, ids=lambda p: p[-1].value)
async def test_withdraw_is_refused_once_the_agency_is_done(client: httpx.AsyncClient, db: Database,
                                                           settings: Settings, path: list[DossierStatus]) -> None:
    someone = citizen(settings)
    code = await submitted_code(client, someone)
    await move(db, someone.id_number, code, *path)
    before = await stored_dossier(db, code)
    body = await gql(client, WITHDRAW, {"code": code}, who=someone)
    assert "errors" not in body, body
    payload = body["data"]["withdrawDossier"]
    assert payload["dossier"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_WITHDRAWABLE", "code")]
    assert payload["errors"][0]["message"] == payload["errors"][0]["messageVi"]
    assert path[-1].label_vi in payload["errors"][0]["messageVi"]
    assert await stored_dossier(db, code) == before
    assert before[0] == path[-1].value


async def test_withdrawing_twice_is_refused_the_second_time(client: httpx.AsyncClient, db: Database,
                                                            settings: Settings) -> None:
    someone = citizen(settings)
    code = await submitted_code(client, someone)
    first = await gql(client, WITHDRAW, {"code": code}, who=someone)
    assert first["data"]["withdrawDossier"]["errors"] == []
    second = await gql(client, WITHDRAW, {"code": code}, who=someone, headers={"Accept-Language": "en"})
    errors = second["data"]["withdrawDossier"]["errors"]
    assert [e["code"] for e in errors] == ["NOT_WITHDRAWABLE"]
    assert errors[0]["message"] == errors[0]["messageEn"]
    assert (await stored_dossier(db, code))[2] == ["submitted", "withdrawal_requested"]


# --- me -------------------------------------------------------------------------------------------------------

async def test_form_prefill_returns_the_profile_values(client: httpx.AsyncClient, settings: Settings) -> None:
    body = await gql(client, '{ me { formPrefill(procedureCode: "1.001193") } }', who=_demo(settings))
    assert body == {"data": {"me": {"formPrefill": {
        "applicant_name": "Nguyễn Văn An", "applicant_id_number": DEMO_CITIZEN_ID_NUMBER, "phone": "0912345678"}}}}


async def test_form_prefill_skips_what_the_profile_does_not_know(client: httpx.AsyncClient,
                                                                 settings: Settings) -> None:
    someone = citizen(settings, name="Lý Văn Mới")
    body = await gql(client, '{ me { formPrefill(procedureCode: "1.004222") } }', who=someone)
    assert body == {"data": {"me": {"formPrefill": {"applicant_name": "Lý Văn Mới",
                                                    "applicant_id_number": someone.id_number}}}}


async def test_form_prefill_for_an_unknown_procedure(client: httpx.AsyncClient, settings: Settings) -> None:
    body = await gql(client, '{ me { idNumber formPrefill(procedureCode: "9.999999") } }', who=_demo(settings))
    assert body["data"] == {"me": None}
    assert [(e["extensions"]["code"], e["path"]) for e in body["errors"]] == [
        ("PROCEDURE_NOT_AVAILABLE", ["me", "formPrefill"])]


async def test_me_documents_lists_the_wallet(client: httpx.AsyncClient, settings: Settings) -> None:
    body = await gql(client, "{ me { documents { id kind number title { vi en } issuedAt validUntil } } }",
                     who=_demo(settings))
    documents = body["data"]["me"]["documents"]
    assert [(d["kind"], d["number"], d["title"]["en"], d["validUntil"]) for d in documents] == [
        ("birth_certificate", "123/2026/KS", "Birth certificate (electronic copy)", None)]
    assert base64.b64decode(documents[0]["id"]).decode().startswith("Document:")

    empty = await gql(client, "{ me { documents { id } } }", who=citizen(settings))
    assert empty == {"data": {"me": {"documents": []}}}


async def test_me_profile_of_the_demo_citizen(client: httpx.AsyncClient, settings: Settings) -> None:
    body = await gql(client, "{ me { idNumber fullName birthDate sex phone email } }", who=_demo(settings))
    assert body == {"data": {"me": {"idNumber": DEMO_CITIZEN_ID_NUMBER, "fullName": "Nguyễn Văn An",
                                    "birthDate": "1985-03-12", "sex": "male", "phone": "0912345678",
                                    "email": "an.nguyen@example.vn"}}}
