"""Load and declaration (agency, procedures, types, vocabulary), and the sandbox's endpoints."""

from __future__ import annotations

from typing import Any

import httpx
from strawberry.types.base import get_object_definition

from core.clock import utc_now
from core.dossier_status import DossierStatus
from services.conformance.harness import Harness, Subject
from services.conformance.report import CheckFailed, CheckSkipped
from services.registry import ServicePlugin, load_registry
from services.sandbox_kit import AgencySandbox

SERVICES = "{ services { code state reason } }"
PROCEDURE = "query($c: String!) { procedure(code: $c) { code } }"


def plugin_of(subject: Subject) -> type[ServicePlugin]:
    if subject.plugin is None:
        raise CheckFailed(f"the plug-in does not load: {subject.load_error}")
    return subject.plugin


async def declaration(h: Harness, subject: Subject) -> str:
    """It loads alone, the server reports it READY, the procedures it forwards are in the catalogue, its
    types are Strawberry types, and every vocabulary word translates to its national status."""
    plugin = plugin_of(subject)
    alone = load_registry(h.settings, entries=[subject.entry])
    if subject.code in alone.failures:
        raise CheckFailed(f"the registry refuses it: {alone.failures[subject.code].error}")
    await alone.aclose()
    _, body = await h.gql(SERVICES, signed_in=False)
    row = next((s for s in body.get("data", {}).get("services", []) if s["code"] == subject.code), None)
    if row is None or row["state"] != "READY":
        raise CheckFailed(f"the server reports it {row['state'] if row else 'missing'}"
                          f"{': ' + row['reason'] if row and row['reason'] else ''}")
    problems = [f"type {t!r} is not a Strawberry type" for t in (*plugin.types, plugin.me_fields, plugin.query_fields)
                if t is not None and get_object_definition(t) is None]
    for code in plugin.procedure_codes:
        _, found = await h.gql(PROCEDURE, {"c": code}, signed_in=False)
        procedure = (found.get("data") or {}).get("procedure")
        if procedure is None:
            problems.append(f"procedure {code} is not in the catalogue (declare it in `procedures`)")
    problems += _vocabulary_problems(plugin, subject.sandbox)
    if problems:
        raise CheckFailed("; ".join(problems))
    return (f"READY; {len(plugin.procedure_codes)} procedure(s), {len(plugin.types)} type(s), "
            f"{len(plugin.vocabulary)} status word(s)")


def _vocabulary_problems(plugin: type[ServicePlugin], sandbox: AgencySandbox | None) -> list[str]:
    """Each word parses to the status it maps to; each word the sandbox sends is in the vocabulary."""
    problems = []
    for word, status in plugin.vocabulary.items():
        if not isinstance(status, DossierStatus):
            problems.append(f"vocabulary word {word!r} maps to {status!r}, not a DossierStatus")
            continue
        payload: dict[str, Any] = {"event_id": "conformance-1", "dossier_ref": "KIT-0001", "status": word,
                                   "occurred_at": utc_now().isoformat()}
        try:
            parsed = plugin(None).parse_event(payload).status
        except Exception as error:  # the plug-in's own parser: report whatever it raised
            problems.append(f"vocabulary word {word!r} is refused by parse_event: {type(error).__name__}: {error}")
            continue
        if parsed != status:
            problems.append(f"vocabulary word {word!r} parses to {parsed}, not {status}")
    if sandbox is not None:
        sent = [*sandbox.road, *([sandbox.stop_status] if sandbox.stop_status else [])]
        unknown = [word for word in sent if word not in plugin.vocabulary]
        if unknown:
            problems.append(f"its sandbox sends status word(s) {unknown} that `vocabulary` does not translate "
                            f"(vocabulary: {sorted(plugin.vocabulary)})")
        if sandbox.stop_status and plugin.vocabulary.get(sandbox.stop_status) not in (
                None, DossierStatus.PROCESSING_STOPPED):
            problems.append(f"the sandbox's stop word {sandbox.stop_status!r} must mean PROCESSING_STOPPED")
    return problems


async def sandbox(h: Harness, subject: Subject) -> str:
    """The sandbox is an AgencySandbox served over HTTP: the shared dossier API asks for an Idempotency-Key,
    unknown references answer 404, every lookup route takes a POSTed ID number and none takes one in its URL,
    the control routes answer."""
    plugin = plugin_of(subject)
    if not plugin.calls_agency:
        raise CheckSkipped("the service calls no agency (calls_agency = False)")
    if subject.sandbox is None or subject.sandbox_url is None:
        raise CheckFailed("ServicePlugin.sandbox() gave no sandbox: ship `sandbox.py` with `create_sandbox` "
                          "(services.sandbox_kit.AgencySandbox) in the plug-in's package")
    if not isinstance(subject.sandbox, AgencySandbox):
        raise CheckFailed(f"the sandbox is a {type(subject.sandbox).__name__}, not an AgencySandbox")
    if subject.sandbox.code != subject.code:
        raise CheckFailed(f"the sandbox's code is {subject.sandbox.code!r}, not {subject.code!r}: its events "
                          "would go to another service")
    problems = []
    async with httpx.AsyncClient(base_url=subject.sandbox_url, timeout=10, trust_env=False) as http:
        answer = await http.post("/dossiers", json={"dossier_code": "KIT-0"})
        if answer.status_code != 400:
            problems.append(f"POST /dossiers without Idempotency-Key answered {answer.status_code}, not 400")
        answer = await http.get("/dossiers/KIT-UNKNOWN")
        if answer.status_code != 404:
            problems.append(f"GET /dossiers/<unknown> answered {answer.status_code}, not 404")
        answer = await http.get("/_control/received")
        if answer.status_code != 200 or not isinstance(answer.json(), list):
            problems.append(f"GET /_control/received answered {answer.status_code}, not a JSON list")
        lookups = [getattr(route, "path", "?") for route in subject.sandbox.extra_routes]
        for path in lookups:
            answer = await http.post(path, json={"id_number": h.citizen_id_number})
            if answer.status_code not in (200, 404) or "json" not in answer.headers.get("content-type", ""):
                problems.append(f"POST {path} with an ID number in the body answered {answer.status_code} "
                                f"{answer.headers.get('content-type')}, not 200/404 JSON")
            in_url = await http.get(f"{path.rsplit('/', 1)[0]}/000000000000")  # a made-up number, never a real one
            if in_url.status_code not in (404, 405):
                problems.append(f"GET {path.rsplit('/', 1)[0]}/<ID number> answered {in_url.status_code}: an ID "
                                "number never travels in a URL (access logs keep URLs); take it in a POST body")
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"shared dossier API and {len(lookups)} lookup route(s) {lookups} answer"
