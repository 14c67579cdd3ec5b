"""Dossiers: forwarding of each procedure (a reference, safe to repeat), withdrawals and supplements (safe to
repeat), the breaker on the forwarding path, and signed status events through the server (accepted, a
duplicate answered as one, the same id with other content refused, a bad signature refused)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from core.clock import utc_now
from core.dossier_status import DossierStatus
from core.forwarding import ActionRequest, ForwardAction, ForwardRequest
from core.seed_data import PROCEDURES
from services.agency_settings import AgencySettings
from services.conformance.checks_load import plugin_of
from services.conformance.harness import BREAKER_RESET, BREAKER_THRESHOLD, Harness, Subject, agency_settings, secret_of
from services.conformance.report import CheckFailed, CheckSkipped
from services.errors import AgencyError
from services.registry import ServicePlugin
from services.signing import signed_headers

SUBMIT = """mutation($p: String!, $f: JSON!) { submitDossier(input: {procedureCode: $p, formData: $f}) {
  dossier { code status } errors { code field message } } }"""


def sample_form(plugin: type[ServicePlugin], procedure: str) -> Mapping[str, Any]:
    """The procedure's `sample` answers (a plug-in's own procedure, else the national catalogue's); {}."""
    for entry in (*plugin.procedures, *PROCEDURES):
        if entry.get("code") == procedure:
            return dict(entry.get("sample") or {})
    return {}


def _instance(subject: Subject) -> ServicePlugin:
    """A plug-in instance of the kit's own, pointed at the sandbox: its `forward` and `forward_action` called
    as the forwarder calls them."""
    plugin = plugin_of(subject)
    if not plugin.procedure_codes:
        raise CheckSkipped("the service forwards no procedure (procedure_codes is empty)")
    if subject.sandbox is None or subject.sandbox_url is None:
        raise CheckFailed("no sandbox to forward to (see the sandbox check)")
    return plugin(AgencySettings(**agency_settings(subject.sandbox_url, subject.code)))


def _request(h: Harness, plugin: type[ServicePlugin], procedure: str) -> ForwardRequest:
    code = f"KIT{uuid.uuid4().hex[:10].upper()}"
    return ForwardRequest(idempotency_key=f"superapp:{code}", dossier_code=code, procedure_code=procedure,
                          applicant_id_number=h.citizen_id_number, form_data=sample_form(plugin, procedure),
                          submitted_at=utc_now(), parent_code=None)


async def forwarding(h: Harness, subject: Subject) -> str:
    """`forward` twice with one key: one reference, one dossier at the agency; then a real submission
    through the server reaches the sandbox (kept for the events check)."""
    service = _instance(subject)
    assert subject.sandbox is not None
    try:
        for procedure in service.procedure_codes:
            request = _request(h, type(service), procedure)
            first = await service.forward(request)
            again = await service.forward(request)
            if not (isinstance(first, str) and first):
                raise CheckFailed(f"forward({procedure}) returned {first!r}, not the agency's reference")
            if again != first:
                raise CheckFailed(f"forward({procedure}) repeated with the same Idempotency-Key returned {again!r}, "
                                  f"not {first!r}: forwarding must be safe to repeat")
            held = [r for r in subject.sandbox.received.values() if r.dossier_code == request.dossier_code]
            if len(held) != 1:
                raise CheckFailed(f"the agency holds {len(held)} copies of one dossier forwarded twice")
            h.extra.setdefault(f"forwarded:{subject.code}", []).append((request, first))
    finally:
        await service.aclose()
    await submit_through_server(h, subject, service.procedure_codes[0])
    return f"{len(service.procedure_codes)} procedure(s) forwarded, repeats answered with the same reference; " \
           f"dossier submitted through the server reached the agency"


async def submit_through_server(h: Harness, subject: Subject, procedure: str) -> str:
    plugin = plugin_of(subject)
    _, body = await h.gql(SUBMIT, {"p": procedure, "f": sample_form(plugin, procedure)})
    payload = (body.get("data") or {}).get("submitDossier") or {}
    if payload.get("errors") or not payload.get("dossier"):
        raise CheckFailed(f"submitting a {procedure} dossier with the procedure's `sample` answers failed: "
                          f"{payload.get('errors') or body.get('errors')} (give the procedure a valid `sample`)")
    code = str(payload["dossier"]["code"])
    assert subject.sandbox is not None
    try:
        async with asyncio.timeout(20):
            # The sandbox serves from another thread, so no asyncio.Event of this loop can tell us: poll.
            while subject.sandbox.dossier(code) is None:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise CheckFailed(f"dossier {code} was not delivered to the sandbox within 20 s") from None
    h.extra[f"submitted:{subject.code}"] = code
    return code


async def actions(h: Harness, subject: Subject) -> str:
    """A supplement and (when the agency takes them) a withdrawal, each sent twice with one key: held once."""
    service = _instance(subject)
    sandbox = subject.sandbox
    assert sandbox is not None
    done = []
    try:
        request = _request(h, type(service), service.procedure_codes[0])
        reference = await service.forward(request)
        kinds = [(ForwardAction.SUPPLEMENT, {"note": "Bổ sung (kiểm thử)"})]
        if sandbox.stop_status is not None:
            kinds.append((ForwardAction.WITHDRAW, {}))
        for action, answers in kinds:
            key = f"superapp:{request.dossier_code}:{action.value}"
            asked = ActionRequest(idempotency_key=key, dossier_code=request.dossier_code, action=action,
                                  answers=answers, requested_at=utc_now(), agency_reference=reference)
            await service.forward_action(asked)
            await service.forward_action(asked)
            held = sandbox.actions.get(key)
            if held is None or held.action != action.value or held.repeats != 1:
                raise CheckFailed(f"{action.value} sent twice with one key: the agency holds "
                                  f"{held.action if held else 'nothing'} (repeats {held.repeats if held else 0}), "
                                  "not one action and one repeat")
            done.append(action.value)
    except AgencyError as error:
        raise CheckFailed(f"the agency refused: {error.code} {error.reason}") from error
    finally:
        await service.aclose()
    note = "" if sandbox.stop_status else " (this agency takes no withdrawals: its sandbox has no stop_status)"
    return f"{' and '.join(done)}: delivered once, the repeat recognised{note}"


async def forwarding_breaker(h: Harness, subject: Subject) -> str:
    """The breaker on the forwarding path: opens, fails fast without calling the agency, probes, closes."""
    service = _instance(subject)
    sandbox = subject.sandbox
    assert sandbox is not None
    request = _request(h, type(service), service.procedure_codes[0])
    try:
        await subject.fault("error")
        for _ in range(BREAKER_THRESHOLD):
            try:
                await service.forward(request)
            except AgencyError:
                continue
            raise CheckFailed("forward() succeeded against an agency answering 503")
        seen = sandbox.requests_seen
        try:
            await service.forward(request)
        except AgencyError as error:
            if error.reason != "CIRCUIT_OPEN" or sandbox.requests_seen != seen:
                raise CheckFailed(f"after {BREAKER_THRESHOLD} failures forward() still called the agency "
                                  f"({error.reason}): call it through `self.client`") from error
        await subject.fault("ok")
        await asyncio.sleep(BREAKER_RESET + 0.1)
        await service.forward(request)
        if service.client is None or service.client.circuit != "closed":
            raise CheckFailed("the circuit did not close after a successful trial")
    except AgencyError as error:
        raise CheckFailed(f"the trial call failed: {error.code} {error.reason}") from error
    finally:
        await subject.fault("ok")
        await service.aclose()
    return f"forward(): opens after {BREAKER_THRESHOLD} failures, fails fast, probes and closes"


async def events(h: Harness, subject: Subject) -> str:
    plugin = plugin_of(subject)
    if not plugin.vocabulary:
        raise CheckSkipped("the service sends no status events (its vocabulary is empty)")
    if not plugin.procedure_codes or subject.sandbox is None or subject.sandbox_url is None:
        raise CheckSkipped("no dossier of this service to move")
    code = h.extra.get(f"submitted:{subject.code}") or await submit_through_server(h, subject,
                                                                                  plugin.procedure_codes[0])
    seen = []
    if subject.sandbox.road:
        async with httpx.AsyncClient(base_url=subject.sandbox_url, timeout=20, trust_env=False) as http:
            moved = (await http.post(f"/_control/advance/{code}", json={})).json()
        if moved.get("callback_status") != 200 or (moved.get("callback") or {}).get("outcome") != "applied":
            raise CheckFailed(f"the sandbox's own event {moved.get('status')!r} was answered "
                              f"{moved.get('callback_status')} {moved.get('callback')}: it must sign with the "
                              "service's secret (services.signing) and send words of `vocabulary`")
        seen.append("sandbox event applied")
    target = DossierStatus.PROCESSING if subject.sandbox.road else DossierStatus.ACCEPTED
    word = next((w for w, s in plugin.vocabulary.items() if s == target), None)
    if word is None:
        raise CheckFailed(f"no vocabulary word means {target}")
    other = next(w for w in plugin.vocabulary if w != word) if len(plugin.vocabulary) > 1 else word + "X"
    event_id = f"conformance-{uuid.uuid4()}"
    event = {"event_id": event_id, "dossier_ref": code, "status": word, "occurred_at": utc_now().isoformat()}
    body = json.dumps(event).encode()
    expected = [("new event", body, True, 200, "applied"), ("same event again", body, True, 200, "duplicate"),
                ("same id, other content", json.dumps({**event, "status": other}).encode(), True, 409, "conflict"),
                ("bad signature", json.dumps({**event, "event_id": f"{event_id}-b"}).encode(), False, 401, "refused")]
    async with httpx.AsyncClient(base_url=h.url, timeout=20, trust_env=False) as http:
        for what, content, good, status, outcome in expected:
            stamp = str(int(utc_now().timestamp()))
            secret = secret_of(subject.code).encode() if good else b"not-the-secret"
            answer = await http.post(f"/agencies/{subject.code}/events", content=content,
                                     headers=signed_headers(secret, stamp, content))
            got = answer.json().get("outcome") if "json" in answer.headers.get("content-type", "") else None
            if (answer.status_code, got) != (status, outcome):
                raise CheckFailed(f"{what}: answered {answer.status_code} {answer.text[:200]}, "
                                  f"expected {status} {outcome!r}")
            seen.append(f"{what} -> {outcome}")
    return "; ".join(seen)
