"""Agencies slow, down, broken or hanging: the rest of the answer still arrives, typed, never a 500.

Each test gets its own app (so its own circuit breakers) on its own loopback port, in front of the
session's real sandboxes; faults are switched on through the sandboxes' control endpoint and always off.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.db import Database
from core.settings import Settings
from tests.support import agency_overrides, citizen, gql, resetting_server, serve

ME = "{ me { fullName populationRecord { ethnicity } healthInsuranceCard { clinic } trafficFines { plate } } }"


@pytest.fixture
def isolated(settings: Settings, db: Database, sandboxes) -> Iterator[str]:
    app = create_app(settings, agencies=agency_overrides(sandboxes, timeout=0.6, retries=1, breaker_threshold=3,
                                                         breaker_reset_seconds=0.5))
    with serve(app) as url:
        yield url


@pytest.fixture
async def http(isolated: str, sandboxes) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=isolated, timeout=30) as client:
        yield client
    for running in sandboxes.values():
        await running.fault("ok")


def _errors_by_field(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["path"][-1]: e["extensions"] for e in body.get("errors", [])}


async def test_three_agencies_are_called_concurrently(settings, db, sandboxes):
    """Each of the three agencies holds our call until the test releases it, and the test releases them only
    once all three calls have arrived: called one after another, the second would never arrive. No clock is
    involved, so a loaded machine cannot make this fail (a 300 ms timing version of it did)."""
    app = create_app(settings, agencies=agency_overrides(sandboxes, timeout=20, retries=0, breaker_threshold=50))
    held = [sandboxes[code] for code in ("residence", "social_insurance", "traffic_fines")]
    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            who = citizen(settings)
            await gql(http, "{ me { fullName } }", who=who)  # enrol first: count the agencies, not the sign-up
            before = [running.sandbox.requests_seen for running in held]
            try:
                for running in held:
                    await running.fault("hold")
                answer = asyncio.create_task(gql(http, ME, who=who))
                async with asyncio.timeout(15):
                    while any(r.sandbox.requests_seen <= b for r, b in zip(held, before, strict=True)):
                        assert not answer.done(), "the answer came before all three agencies were asked"
                        await asyncio.sleep(0.02)
                arrived = [r.sandbox.requests_seen - b for r, b in zip(held, before, strict=True)]
                assert arrived == [1, 1, 1], f"in flight together: {arrived}"
            finally:
                for running in held:
                    await running.fault("ok")  # releases the held calls
            body = await answer
    assert "errors" not in body
    assert body["data"]["me"]["populationRecord"] == {"ethnicity": "Kinh"}


async def test_a_hanging_agency_times_out_and_the_other_fields_arrive(http, settings, sandboxes):
    await sandboxes["social_insurance"].fault("hang")
    started = time.perf_counter()
    body = await gql(http, ME, who=citizen(settings))
    assert time.perf_counter() - started < 5.0  # the budget (0.6 s, one retry), never the 60 s hang
    assert body["data"]["me"]["healthInsuranceCard"] is None
    assert body["data"]["me"]["populationRecord"] == {"ethnicity": "Kinh"}
    assert body["data"]["me"]["trafficFines"] is not None
    problem = _errors_by_field(body)["healthInsuranceCard"]
    assert (problem["code"], problem["service"]) == ("AGENCY_TIMEOUT", "social_insurance")
    assert problem["messageEn"] == "Vietnam Social Security's system took too long to answer; please try again later."


async def test_garbage_json_is_agency_unavailable(http, settings, sandboxes):
    await sandboxes["traffic_fines"].fault("garbage")
    body = await gql(http, ME, who=citizen(settings))
    assert body["data"]["me"]["trafficFines"] is None
    assert body["data"]["me"]["healthInsuranceCard"] is not None
    problem = _errors_by_field(body)["trafficFines"]
    assert (problem["code"], problem["service"], problem["reason"]) == ("AGENCY_UNAVAILABLE", "traffic_fines",
                                                                        "BAD_RESPONSE")


async def test_the_circuit_opens_on_a_failing_agency_and_closes_when_it_recovers(http, settings, sandboxes):
    who = citizen(settings)
    residence = sandboxes["residence"]
    await residence.fault("error")
    for _ in range(3):
        body = await gql(http, ME, who=who)
        assert _errors_by_field(body)["populationRecord"]["reason"] == "HTTP_503"
    seen = residence.sandbox.requests_seen
    body = await gql(http, ME, who=who)
    assert _errors_by_field(body)["populationRecord"]["reason"] == "CIRCUIT_OPEN"
    assert residence.sandbox.requests_seen == seen  # failing fast: the agency was not called
    assert body["data"]["me"]["healthInsuranceCard"] is not None
    services = await gql(http, "{ services { code state } }")
    assert {"code": "residence", "state": "CIRCUIT_OPEN"} in services["data"]["services"]

    await residence.fault("ok")
    await asyncio.sleep(0.6)  # the breaker's reset time: the next call is a trial
    body = await gql(http, ME, who=who)
    assert "errors" not in body
    assert body["data"]["me"]["populationRecord"] == {"ethnicity": "Kinh"}
    services = await gql(http, "{ services { code state } }")
    assert {"code": "residence", "state": "READY"} in services["data"]["services"]


async def test_an_agency_resetting_connections_is_unavailable_and_the_others_answer(settings, db, sandboxes):
    with resetting_server() as url:
        overrides = agency_overrides(sandboxes, timeout=3.0, retries=2, breaker_threshold=50)
        overrides["residence"]["base_url"] = url
        with serve(create_app(settings, agencies=overrides)) as server:
            async with httpx.AsyncClient(base_url=server, timeout=30) as http:
                started = time.perf_counter()
                body = await gql(http, ME, who=citizen(settings))
                elapsed = time.perf_counter() - started
    assert elapsed < 3.0  # reset at once, three times: never the whole budget
    assert body["data"]["me"]["populationRecord"] is None
    assert body["data"]["me"]["healthInsuranceCard"] is not None
    assert body["data"]["me"]["trafficFines"] is not None
    problem = _errors_by_field(body)["populationRecord"]
    assert (problem["code"], problem["service"], problem["reason"]) == ("AGENCY_UNAVAILABLE", "residence",
                                                                        "UNREACHABLE")


@pytest.fixture
async def patient(settings: Settings, db: Database, sandboxes) -> AsyncIterator[httpx.AsyncClient]:
    """Like `http`, with a time budget no loaded test machine runs out of (fault tests that count calls)."""
    app = create_app(settings, agencies=agency_overrides(sandboxes, timeout=3.0, retries=1, breaker_threshold=3,
                                                         breaker_reset_seconds=1.0))
    with serve(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client
    for running in sandboxes.values():
        await running.fault("ok")


async def test_a_failed_trial_opens_the_circuit_again_and_a_good_one_closes_it(patient, settings, sandboxes):
    """Open, fail fast, probe (one call) while still failing: open again at once; probe when well: closed."""
    http, who = patient, citizen(settings)
    residence = sandboxes["residence"]
    await residence.fault("error")
    for _ in range(3):
        await gql(http, ME, who=who)
    assert _errors_by_field(await gql(http, ME, who=who))["populationRecord"]["reason"] == "CIRCUIT_OPEN"

    await asyncio.sleep(1.1)
    seen = residence.sandbox.requests_seen
    trial = await gql(http, ME, who=who)
    assert _errors_by_field(trial)["populationRecord"]["reason"] == "HTTP_503"
    assert residence.sandbox.requests_seen == seen + 2  # the trial call, with its one retry
    started = time.perf_counter()
    again = await gql(http, "{ me { populationRecord { ethnicity } } }", who=who)
    assert _errors_by_field(again)["populationRecord"]["reason"] == "CIRCUIT_OPEN"
    assert time.perf_counter() - started < 1.0
    assert residence.sandbox.requests_seen == seen + 2  # failing fast again, no call

    await residence.fault("ok")
    await asyncio.sleep(1.1)
    assert "errors" not in await gql(http, ME, who=who)
    services = await gql(http, "{ services { code state } }")
    assert {"code": "residence", "state": "READY"} in services["data"]["services"]


async def test_a_saturated_hanging_agency_does_not_slow_the_others(settings, db, sandboxes):
    """Forty requests wait on a hanging agency (more than its bulkhead and than the database pool); a request
    for another service's field is answered meanwhile, well before the hanging ones' budget ends, and the forty
    end at that budget with AGENCY_TIMEOUT."""
    budget = 5.0
    overrides = agency_overrides(sandboxes, timeout=budget, retries=0, breaker_threshold=1000, max_concurrency=5)
    residence = sandboxes["residence"]
    with serve(create_app(settings, agencies=overrides)) as server:
        async with httpx.AsyncClient(base_url=server, timeout=30, limits=httpx.Limits(max_connections=100)) as http:
            who = citizen(settings)
            await gql(http, "{ me { trafficFines { plate } } }", who=who)  # enrolled, connections warm
            await residence.fault("hang")
            try:
                seen = residence.sandbox.requests_seen
                started = time.perf_counter()
                hanging = [asyncio.create_task(gql(http, "{ me { populationRecord { ethnicity } } }", who=who))
                           for _ in range(40)]
                while residence.sandbox.requests_seen < seen + 5:  # the bulkhead is full
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.3)
                meanwhile = []
                for _ in range(3):
                    other_started = time.perf_counter()
                    body = await gql(http, "{ me { trafficFines { plate } } }", who=who)
                    meanwhile.append(time.perf_counter() - other_started)
                    assert "errors" not in body, body
                    assert not any(task.done() for task in hanging)  # measured while all forty still wait
                answers = await asyncio.gather(*hanging)
                spent = time.perf_counter() - started
            finally:
                await residence.fault("ok")
    assert max(meanwhile) < 1.5, meanwhile
    assert {_errors_by_field(a)["populationRecord"]["code"] for a in answers} == {"AGENCY_TIMEOUT"}
    # Each ends at its budget; 40 requests on a loaded test machine take a while to all get started.
    assert budget <= spent < 2 * budget, f"the hanging agency's callers waited {spent:.2f}s for a {budget} s budget"
