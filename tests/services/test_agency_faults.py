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
from tests.support import agency_overrides, citizen, gql, serve

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


async def test_three_slow_agencies_are_called_concurrently(http, settings, sandboxes):
    who = citizen(settings)
    await gql(http, "{ me { fullName } }", who=who)  # enrol first: measure the agencies, not the sign-up
    for code in ("residence", "social_insurance", "traffic_fines"):
        await sandboxes[code].fault("slow", delay_ms=300)
    started = time.perf_counter()
    body = await gql(http, ME, who=who)
    elapsed = time.perf_counter() - started
    assert "errors" not in body
    assert body["data"]["me"]["populationRecord"] == {"ethnicity": "Kinh"}
    assert elapsed >= 0.3
    assert elapsed < 0.75, f"three 300 ms agencies took {elapsed:.3f}s: called one after another?"


async def test_a_hanging_agency_times_out_and_the_other_fields_arrive(http, settings, sandboxes):
    await sandboxes["social_insurance"].fault("hang")
    started = time.perf_counter()
    body = await gql(http, ME, who=citizen(settings))
    assert time.perf_counter() - started < 2.0
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
