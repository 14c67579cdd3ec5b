"""Lookups through the server: each field the plug-in adds answers for a citizen through its sandbox, and
degrades to a typed AGENCY_UNAVAILABLE / AGENCY_TIMEOUT answer (partial data, never a 500) when the sandbox is
down or slow; the breaker opens, fails fast, probes and closes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from services.conformance import fields
from services.conformance.checks_load import SERVICES, plugin_of
from services.conformance.harness import BREAKER_RESET, BREAKER_THRESHOLD, SLOW_MS, Harness, Subject
from services.conformance.report import CheckFailed, CheckSkipped

AGENCY_CODES = ("AGENCY_UNAVAILABLE", "AGENCY_TIMEOUT")


def queries(h: Harness, subject: Subject) -> list[tuple[str, str]]:
    """(field, query) for each field the plug-in adds: `Me.x` under `me`, `Query.y` at the root (fields that
    need arguments cannot be asked blindly and are left out)."""
    plugin = plugin_of(subject)
    asked = [(f"Me.{name}", fields.me_query(h.graphql_schema, [name])) for name in fields.me_fields(plugin)]
    root = h.graphql_schema.query_type
    assert root is not None
    asked += [(f"Query.{name}", fields.root_query(h.graphql_schema, [name])) for name in fields.query_fields(plugin)
              if name in root.fields and not fields.required_arguments(root.fields[name])]
    return asked


def _errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body.get("errors") or [])


async def lookups(h: Harness, subject: Subject) -> str:
    asked = queries(h, subject)
    if not asked:
        raise CheckSkipped("the plug-in adds no field that can be asked without arguments")
    problems = []
    for name, query in asked:
        status, body = await h.gql(query)
        if status != 200 or _errors(body) or body.get("data") is None:
            problems.append(f"{name} answered HTTP {status} with {_errors(body) or body}")
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"{len(asked)} field(s) answered: {', '.join(n for n, _ in asked)}"


async def degraded_answer(h: Harness, subject: Subject, query: str, *, allowed: tuple[str, ...]) -> list[str]:
    """What is wrong with the answer to `query` while the agency misbehaves (empty: typed, partial)."""
    status, body = await h.gql(query)
    if status != 200:
        return [f"HTTP {status} (an agency fault must never fail the request): {body}"]
    if query.startswith("{ me") and (body.get("data") or {}).get("me") is None:
        return [f"`me` itself is null: {body}"]
    wrong = [e for e in _errors(body)
             if (e.get("extensions") or {}).get("code") not in allowed
             or (e.get("extensions") or {}).get("service") != subject.code]
    return [f"untyped or foreign error {e.get('message')!r} {e.get('extensions')} (expected one of {allowed} "
            f"with service {subject.code!r})" for e in wrong]


async def recover(h: Harness, subject: Subject) -> None:
    """The sandbox healthy again and any open circuit closed by a successful trial call."""
    await subject.fault("ok")
    await asyncio.sleep(BREAKER_RESET + 0.1)
    for _, query in queries(h, subject)[:1]:
        await h.gql(query)


async def lookups_degraded(h: Harness, subject: Subject) -> str:
    plugin_of(subject)
    asked = queries(h, subject)
    if not asked:
        raise CheckSkipped("the plug-in adds no field that can be asked without arguments")
    if subject.sandbox_url is None:
        raise CheckSkipped("no sandbox to take down")
    problems: list[str] = []
    touched = 0
    try:
        for mode, allowed in (("slow", AGENCY_CODES), ("error", ("AGENCY_UNAVAILABLE",))):
            await subject.fault(mode, delay_ms=SLOW_MS)
            before = touched
            for name, query in asked:
                seen = subject.sandbox.requests_seen if subject.sandbox else 0
                started = time.monotonic()
                found = await degraded_answer(h, subject, query, allowed=allowed)
                if time.monotonic() - started > SLOW_MS / 1000 + 3:
                    found.append("the answer waited for the slow agency instead of timing out")
                problems += [f"{name} with the sandbox {mode}: {p}" for p in found]
                touched += subject.sandbox is not None and subject.sandbox.requests_seen > seen
            if touched > before:  # the agency was called: its circuit may be open
                await recover(h, subject)
    finally:
        await subject.fault("ok")
    if problems:
        raise CheckFailed("; ".join(problems))
    h.extra[f"calls-agency:{subject.code}"] = touched > 0
    return (f"{len(asked)} field(s) degrade to typed AGENCY_* answers with the sandbox slow and failing"
            if touched else f"{len(asked)} field(s) do not call the agency and keep answering when it is down")


async def breaker(h: Harness, subject: Subject) -> str:
    """Through the fields when they call the agency; else the forwarding check's plug-in instance covers it."""
    plugin_of(subject)
    asked = queries(h, subject)
    if subject.sandbox is None or not asked:
        raise CheckSkipped("no field calls the agency (the forwarding check exercises the breaker)")
    name, query = asked[0]
    try:
        await subject.fault("error")
        for _ in range(BREAKER_THRESHOLD):
            await h.gql(query)
        seen = subject.sandbox.requests_seen
        _, body = await h.gql(query)
        if subject.sandbox.requests_seen == seen and not _errors(body):
            raise CheckSkipped(f"{name} does not call the agency (the forwarding check exercises the breaker)")
        reasons = [(e.get("extensions") or {}).get("reason") for e in _errors(body)]
        if "CIRCUIT_OPEN" not in reasons or subject.sandbox.requests_seen != seen:
            raise CheckFailed(f"after {BREAKER_THRESHOLD} failures {name} still called the agency (reasons "
                              f"{reasons}): call it through `self.client` (services.client.AgencyClient)")
        _, states = await h.gql(SERVICES, signed_in=False)
        state = next(s["state"] for s in states["data"]["services"] if s["code"] == subject.code)
        if state != "CIRCUIT_OPEN":
            raise CheckFailed(f"the circuit is open but `services` reports {state}")
        await subject.fault("ok")
        await asyncio.sleep(BREAKER_RESET + 0.1)
        _, body = await h.gql(query)
        if _errors(body):
            raise CheckFailed(f"the trial call after the reset time failed: {_errors(body)}")
        _, states = await h.gql(SERVICES, signed_in=False)
        state = next(s["state"] for s in states["data"]["services"] if s["code"] == subject.code)
        if state != "READY":
            raise CheckFailed(f"after a successful trial `services` reports {state}, not READY")
    finally:
        await subject.fault("ok")
    return f"{name}: opens after {BREAKER_THRESHOLD} failures, fails fast, probes and closes"
