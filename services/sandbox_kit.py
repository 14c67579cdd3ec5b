"""What every agency sandbox shares: a real Starlette HTTP server that behaves like an agency's API.

It stores the dossiers it receives (deduplicated on `Idempotency-Key`), advances them along the agency's
own status road on a timer or on command, and reports each step to our `POST /agencies/{code}/events`
with an HMAC-signed event whose id is random (ids and references survive a restart: no counter starts
again at 1, which the server would refuse as an event id reused with other content). It also takes a
citizen's withdrawal (`POST /dossiers/{code}/withdrawal`), supplement (`POST /dossiers/{code}/supplements`)
and payment notice (`POST /dossiers/{code}/payments`, the receipt of the fees it asked for), deduplicated
the same way: after a withdrawal the next step is the agency's own word for "processing stopped"
(`stop_status`) and the dossier moves no more; after a supplement the answers join the stored form and the
dossier continues its road. For fault tests it can be told to be slow, to fail with 5xx, to answer garbage,
to hang (or hold a request until the next fault call), or to refuse with a 422 and a reason
(`POST /_control/fault`, `{"mode": "refuse", "reason": "..."}`), and says how many requests it received
(`GET /_control/requests`). Like a real agency it fetches a dossier's (or a supplement's) attachments by their
signed links as it receives them and checks each against its sha256 (`GET /_control/attachments/{code}`
lists what it holds).

When a dossier reaches the road's last word (returned) and the sandbox's `issue` makes a document of it, the
event carries that document signed with the sandbox's demo key (`services.agency_keys`), as a real agency
signs what it issues; `/_control/advance` can ask for a tampered, foreign-signed or unknown-key result instead.
Wallet documents a dossier brings (`documents` in `POST /dossiers`) are checked against the keys of every
sandbox in the process (agencies trust one another's published keys) and recorded, so a test reads back over
`GET /_control/received` what arrived and whether it verified.
Sandboxes are for development, demos and tests only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from core.clock import utc_now
from core.signatures import SigningKey, VerifyKey
from services.agency_keys import demo_signing_key
from services.signing import signed_headers

log = logging.getLogger("superapp.sandbox")

FAULT_MODES = ("ok", "slow", "error", "hang", "hold", "garbage", "refuse")
# How a result is signed: properly, altered after signing, by a key that is not the agency's (same kid), or
# under a kid the server does not know.
RESULT_MODES = ("ok", "tampered", "foreign", "unknown_key")
# The demo keys of every sandbox built in this process, by kid: what a sandbox verifies received documents with.
# A kid may have several (sandboxes of one service built with different secrets, as tests do): any may verify.
KEY_DIRECTORY: dict[str, list[VerifyKey]] = {}


@dataclass
class Received:
    reference: str
    dossier_code: str
    body: dict[str, Any]
    step: int = 0  # index into the road; 0 = received
    arrival: int = 0  # order of arrival among everything this sandbox received (dossiers and actions)
    withdrawn: bool = False  # the citizen withdrew it: the next step is the stop
    stopped: bool = False  # the agency stopped processing it: it moves no more
    awaiting_payment: bool = False  # the agency asked for its fees: it moves on once the payment notice arrives
    documents: list[dict[str, Any]] = field(default_factory=list)  # wallet documents it brought, checked


@dataclass
class ReceivedAction:
    """A withdrawal or supplement of a received dossier; `repeats` counts deliveries dropped as repeats."""

    action: str  # "withdraw" | "supplement" | "payment"
    dossier_code: str
    body: dict[str, Any]
    arrival: int = 0
    repeats: int = 0


@dataclass(frozen=True)
class FetchedAttachment:
    """An attachment the sandbox fetched by its signed link, with the sha256 of what it really got."""

    action: str  # "submit" | "supplement"
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    fetched_sha256: str
    fetched_size: int


class AttachmentUnavailable(Exception):
    pass


@dataclass(frozen=True)
class SeenRequest:
    """One request to an agency route as it arrived (before any fault), so a test can check what our side
    really sends against the published API (docs/agency-api.yaml)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class AgencySandbox:
    code: str
    secret: bytes
    callback_url: str
    road: Sequence[str]  # the agency's own status words after "received", in order
    advance_seconds: float = 0.0
    stop_status: str | None = None  # the agency's word for "processing stopped"; None: it takes no withdrawals
    # The agency's word for "payment requested", asked after `payment_after` on the road of a dossier (not a
    # part) of a procedure in `paid_procedures`; the dossier then waits for the payment notice.
    payment_status: str | None = None
    payment_after: str | None = None
    paid_procedures: frozenset[str] = frozenset()
    extra_routes: Sequence[BaseRoute] = ()
    # The document the agency issues for a returned dossier (None: nothing): kind, number, titles, holder,
    # validity; the kit adds issuer, dossier code and issue time, and signs it.
    issue: Callable[[Received], dict[str, Any] | None] | None = None
    signing_key: SigningKey | None = None
    sent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=100))  # events, for replay tests
    mode: str = "ok"
    delay: float = 0.0
    refusal: str = "Hồ sơ không hợp lệ"  # the reason a "refuse" fault gives
    received: dict[str, Received] = field(default_factory=dict)
    actions: dict[str, ReceivedAction] = field(default_factory=dict)
    requests_seen: int = 0
    attachments: dict[str, list[FetchedAttachment]] = field(default_factory=dict)  # by dossier code
    seen_by_path: Counter[str] = field(default_factory=Counter)
    journal: deque[SeenRequest] = field(default_factory=lambda: deque(maxlen=1000))
    _release: asyncio.Event | None = None
    _arrivals: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        if self.signing_key is None:
            self.signing_key = demo_signing_key(self.code, self.secret)
        public = self.signing_key.public()
        known = KEY_DIRECTORY.setdefault(public.kid, [])
        if public not in known:
            known.append(public)

    def signed_result(self, item: Received, mode: str = "ok") -> dict[str, Any] | None:
        """The event's `result` for `item`, or None when the agency issues nothing for its procedure."""
        made = self.issue(item) if self.issue is not None else None
        if made is None:
            return None
        assert self.signing_key is not None
        document = {**made, "issuer": self.code, "dossier_code": item.dossier_code,
                    "issued_at": utc_now().replace(microsecond=0).isoformat()}
        key = self.signing_key
        if mode == "foreign":
            key = SigningKey.generate(key.kid)
        elif mode == "unknown_key":
            key = SigningKey.generate(f"agency:{self.code}:never-published")
        signature = key.sign(document)
        if mode == "tampered":
            document = {**document, "number": f"{document['number']}-X"}
        return {"document": document, "signature": signature, "kid": key.kid}

    def check_documents(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """What the received dossier's wallet documents are, and whether each verified with its issuer's key."""
        checked: list[dict[str, Any]] = []
        for entry in body.get("documents") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("document"), dict):
                checked.append({"verified": False})
                continue
            document, kid = entry["document"], str(entry.get("kid", ""))
            signature = str(entry.get("signature", ""))
            verified = any(key.verify(document, signature) for key in KEY_DIRECTORY.get(kid, []))
            checked.append({"field": entry.get("field"), "kind": document.get("kind"),
                            "number": document.get("number"), "kid": kid, "verified": verified})
        return checked

    async def fault_gate(self) -> Response | None:
        """Applied to every agency route (not the control routes): what the test asked this agency to be."""
        self.requests_seen += 1
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        elif self.mode == "error":
            return JSONResponse({"error": "internal"}, status_code=503)
        elif self.mode == "refuse":
            return JSONResponse({"error": "refused", "reason": self.refusal}, status_code=422)
        elif self.mode == "garbage":
            return Response(b"<html>{not json", media_type="application/json")
        elif self.mode in ("hang", "hold"):
            # "hold" answers normally once released (by the next `/_control/fault`), so a test can see which
            # requests were in flight together without betting on how fast a loaded machine is.
            self._release = self._release or asyncio.Event()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(60):
                    await self._release.wait()
            if self.mode == "hang":
                return JSONResponse({"error": "released"}, status_code=503)
        return None

    def guarded(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            # Like a real server, the request is read before it is worked on: a slow agency still does what
            # it was asked after our client gave up, which is what makes the idempotency key matter.
            self.journal.append(SeenRequest(request.method, request.url.path, dict(request.headers),
                                            await request.body()))
            self.seen_by_path[request.url.path] += 1
            blocked = await self.fault_gate()
            if blocked is not None:
                return blocked
            response: Response = await handler(request)
            return response
        return endpoint

    async def receive_dossier(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if not key:
            return JSONResponse({"error": "Idempotency-Key required"}, status_code=400)
        if key in self.received:
            return JSONResponse({"reference": self.received[key].reference, "repeat": True})
        body = await request.json()
        try:
            fetched = await self.fetch_attachments(body.get("attachments"), "submit")
        except AttachmentUnavailable as error:  # not received: our side delivers again later
            return JSONResponse({"error": f"attachment unavailable: {error}"}, status_code=503)
        if fetched:
            self.attachments.setdefault(str(body["dossier_code"]), []).extend(fetched)
        reference = f"{self.code.upper()}-{uuid.uuid4().hex[:12].upper()}"
        self.received[key] = Received(reference=reference, dossier_code=str(body["dossier_code"]), body=body,
                                      arrival=next(self._arrivals), documents=self.check_documents(body))
        return JSONResponse({"reference": reference}, status_code=201)

    def dossier(self, code: str) -> Received | None:
        return next((r for r in self.received.values() if r.dossier_code == code), None)

    def status_of(self, item: Received, *, before_road: str = "received") -> str:
        if item.stopped and self.stop_status is not None:
            return self.stop_status
        return self.road_of(item)[item.step - 1] if item.step else before_road

    def road_of(self, item: Received) -> Sequence[str]:
        """The road, with the payment request on it for a dossier whose fees this agency collects."""
        road = list(self.road)
        if self.payment_status and self.payment_after in road and not item.body.get("parent_code") \
                and item.body.get("procedure_code") in self.paid_procedures:
            road.insert(road.index(self.payment_after) + 1, self.payment_status)
        return road

    async def receive_withdrawal(self, request: Request) -> Response:
        return await self._receive_action(request, "withdraw")

    async def receive_supplement(self, request: Request) -> Response:
        return await self._receive_action(request, "supplement")

    async def receive_payment(self, request: Request) -> Response:
        return await self._receive_action(request, "payment")

    async def _receive_action(self, request: Request, action: str) -> Response:
        """Like a real agency: only for a dossier it holds, once per key, and it changes what it does next."""
        key = request.headers.get("idempotency-key")
        if not key:
            return JSONResponse({"error": "Idempotency-Key required"}, status_code=400)
        if key in self.actions:
            self.actions[key].repeats += 1
            return JSONResponse({"dossier_code": self.actions[key].dossier_code, "action": action, "repeat": True})
        item = self.dossier(request.path_params["code"])
        if item is None:
            return JSONResponse({"error": "not received"}, status_code=404)
        if action == "withdraw" and self.stop_status is None:
            return JSONResponse({"error": "withdrawals are not taken here"}, status_code=422)
        body = await request.json()
        try:
            fetched = await self.fetch_attachments(body.get("attachments"), action)
        except AttachmentUnavailable as error:
            return JSONResponse({"error": f"attachment unavailable: {error}"}, status_code=503)
        if fetched:
            self.attachments.setdefault(item.dossier_code, []).extend(fetched)
        if action == "withdraw":
            item.withdrawn = True
        elif action == "payment":
            if not isinstance(body.get("payment"), dict):
                return JSONResponse({"error": "payment must be an object"}, status_code=400)
            item.awaiting_payment = False
        else:
            answers = body.get("answers")
            if not isinstance(answers, dict):
                return JSONResponse({"error": "answers must be an object"}, status_code=400)
            item.body.setdefault("form", {}).update(answers)
            item.documents.extend(self.check_documents(body))
        self.actions[key] = ReceivedAction(action=action, dossier_code=item.dossier_code, body=body,
                                           arrival=next(self._arrivals))
        return JSONResponse({"dossier_code": item.dossier_code, "action": action}, status_code=202)

    async def fetch_attachments(self, listed: Any, action: str) -> list[FetchedAttachment]:
        """GET each attachment's signed `download_path` from our side (the base URL events go to) and check
        its sha256, as a real agency would before accepting the dossier."""
        if not listed:
            return []
        if not isinstance(listed, list):
            raise AttachmentUnavailable("attachments must be a list")
        fetched: list[FetchedAttachment] = []
        async with httpx.AsyncClient(base_url=self.callback_url, timeout=30, trust_env=False) as http:
            for item in listed:
                try:
                    answer = await http.get(str(item["download_path"]))
                except (httpx.HTTPError, KeyError, TypeError) as error:
                    raise AttachmentUnavailable(type(error).__name__) from error
                if answer.status_code != 200:
                    raise AttachmentUnavailable(f"HTTP {answer.status_code}")
                digest = hashlib.sha256(answer.content).hexdigest()
                if digest != item.get("sha256"):
                    raise AttachmentUnavailable("sha256 mismatch")
                fetched.append(FetchedAttachment(
                    action=action, id=str(item.get("id")), filename=str(item.get("filename")),
                    content_type=str(item.get("content_type")), size=int(item.get("size", -1)),
                    sha256=str(item.get("sha256")), fetched_sha256=digest, fetched_size=len(answer.content)))
        return fetched

    async def list_attachments(self, request: Request) -> Response:
        return JSONResponse([vars(a) for a in self.attachments.get(request.path_params["code"], [])])

    async def dossier_status(self, request: Request) -> Response:
        for item in self.received.values():
            if item.reference == request.path_params["reference"]:
                return JSONResponse({"reference": item.reference, "dossier_code": item.dossier_code,
                                     "status": self.status_of(item)})
        return JSONResponse({"error": "not found"}, status_code=404)

    async def set_fault(self, request: Request) -> Response:
        body = await request.json()
        mode = str(body.get("mode", "ok"))
        if mode not in FAULT_MODES:
            return JSONResponse({"error": f"mode must be one of {FAULT_MODES}"}, status_code=400)
        self.mode, self.delay = mode, float(body.get("delay_ms", 0)) / 1000
        self.refusal = str(body.get("reason") or self.refusal)
        if self._release is not None:
            self._release.set()
            self._release = None
        return JSONResponse({"mode": self.mode, "delay_ms": self.delay * 1000})

    async def list_received(self, _: Request) -> Response:
        """Dossiers (`action` "submit") and the withdrawals and supplements of them, in order of arrival."""
        rows: list[tuple[int, dict[str, Any]]] = [
            (r.arrival, {"key": k, "action": "submit", "reference": r.reference, "dossier_code": r.dossier_code,
                         "step": r.step, "status": self.status_of(r), "stopped": r.stopped,
                         "documents": r.documents})
            for k, r in self.received.items()]
        rows += [(a.arrival, {"key": k, "action": a.action, "dossier_code": a.dossier_code, "repeats": a.repeats})
                 for k, a in self.actions.items()]
        return JSONResponse([row for _, row in sorted(rows, key=lambda pair: pair[0])])

    async def count_requests(self, _: Request) -> Response:
        """How many requests reached the agency's own routes, in all and by path (`GET /_control/requests`), so
        a test counts over HTTP what our side really sent."""
        return JSONResponse({"total": self.requests_seen, "by_path": dict(self.seen_by_path)})

    async def advance(self, request: Request) -> Response:
        """Move one dossier: to `status` if given (any word, legal or not), else one step along the road."""
        body = await request.json() if await request.body() else {}
        item = self.dossier(request.path_params["code"])
        if item is None:
            return JSONResponse({"error": "not received"}, status_code=404)
        if not self.moves(item) and body.get("status") is None:
            return JSONResponse({"error": "this dossier moves no more", "status": self.status_of(item)},
                                status_code=409)
        result_mode = str(body.get("result", "ok"))
        if result_mode not in RESULT_MODES:
            return JSONResponse({"error": f"result must be one of {RESULT_MODES}"}, status_code=400)
        status, callback = await self.step(item, status=body.get("status"), event_id=body.get("event_id"),
                                           result_mode=result_mode)
        return JSONResponse({"status": status, "callback_status": callback.status_code,
                             "callback": callback.json() if callback.content else None})

    def new_event_id(self) -> str:
        """Random, so a restarted sandbox never reuses an id it sent before (a counter would start again at 1,
        and the server answers a reused id with other content 409 `conflict`)."""
        return f"{self.code}-{uuid.uuid4()}"

    def moves(self, item: Received) -> bool:
        """Whether a plain step (timer or advance without a status) has somewhere to go."""
        if item.stopped:
            return False
        if item.awaiting_payment and not item.withdrawn:
            return False
        return (item.withdrawn and self.stop_status is not None) or item.step < len(self.road_of(item))

    async def step(self, item: Received, *, status: str | None = None, event_id: str | None = None,
                   result_mode: str = "ok") -> tuple[str, httpx.Response]:
        if status is None and item.withdrawn and self.stop_status is not None:
            item.stopped, status = True, self.stop_status
        elif status is None:
            item.step = min(item.step + 1, len(self.road_of(item)))
            status = self.road_of(item)[item.step - 1]
        if status is not None and status == self.payment_status:
            item.awaiting_payment = True
        event: dict[str, Any] = {"event_id": event_id or self.new_event_id(), "dossier_ref": item.dossier_code,
                                 "status": status, "occurred_at": utc_now().isoformat()}
        if status == self.road_of(item)[-1]:
            result = self.signed_result(item, result_mode)
            if result is not None:
                event["result"] = result
        self.sent.append(event)
        return status, await self.send(event)

    async def send(self, event: dict[str, Any], *, timestamp: str | None = None) -> httpx.Response:
        body = json.dumps(event).encode()
        stamp = timestamp or str(int(utc_now().timestamp()))
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
            return await http.post(f"{self.callback_url}/agencies/{self.code}/events", content=body,
                                   headers=signed_headers(self.secret, stamp, body))

    async def _tick(self) -> None:
        """The timer: every `advance_seconds`, each dossier not yet at the road's end moves one step."""
        while True:
            await asyncio.sleep(self.advance_seconds)
            for item in list(self.received.values()):
                if self.moves(item):
                    before = item.step, item.stopped
                    try:
                        await self.step(item)
                    except httpx.HTTPError as error:
                        log.warning("sandbox %s: callback failed: %s", self.code, error)
                        item.step, item.stopped = before

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            ticker = asyncio.create_task(self._tick()) if self.advance_seconds > 0 else None
            yield
            if self._release is not None:
                self._release.set()
            if ticker is not None:
                ticker.cancel()

        routes: list[BaseRoute] = [
            Route("/dossiers", self.guarded(self.receive_dossier), methods=["POST"]),
            Route("/dossiers/{reference}", self.guarded(self.dossier_status)),
            Route("/dossiers/{code}/withdrawal", self.guarded(self.receive_withdrawal), methods=["POST"]),
            Route("/dossiers/{code}/supplements", self.guarded(self.receive_supplement), methods=["POST"]),
            Route("/dossiers/{code}/payments", self.guarded(self.receive_payment), methods=["POST"]),
            *self.extra_routes,
            Route("/_control/fault", self.set_fault, methods=["POST"]),
            Route("/_control/received", self.list_received),
            Route("/_control/requests", self.count_requests),
            Route("/_control/attachments/{code}", self.list_attachments),
            Route("/_control/advance/{code}", self.advance, methods=["POST"]),
        ]
        return Starlette(routes=routes, lifespan=lifespan)


async def asked_id_number(request: Request) -> str:
    """The ID number a lookup asks about: the JSON body's `id_number` ("" when absent or malformed). Lookups
    are `POST`s with the identifier in the body, never in the URL, where access logs would keep it."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return ""
    value = body.get("id_number") if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""
