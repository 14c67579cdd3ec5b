"""The process's Prometheus metrics, counted where things happen (a scrape reads them and runs no SQL).

Labels are bounded sets only: an operation is named when it is a persisted document (the app's own, a fixed
list) and `adhoc` otherwise, an error by its `ErrorCode`, an agency by its service code. Nothing personal is
ever a label.

Several worker processes: set `PROMETHEUS_MULTIPROC_DIR` (an empty directory, wiped at each deploy) before
they start; every process then writes its values there and a scrape of any of them adds them up
(`api/metrics.py`). Each gauge says how it is combined (`multiprocess_mode`).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

GRAPHQL_REQUESTS = Counter("superapp_graphql_requests", "GraphQL requests over HTTP, by operation and outcome "
                           "(ok, errors: some field failed, refused: nothing ran).", ["operation", "outcome"])
GRAPHQL_ERRORS = Counter("superapp_graphql_errors", "Errors answered, by extensions.code.", ["code"])
AGENCY_CALLS = Counter("superapp_agency_calls", "Calls to agencies, by service and outcome "
                       "(ok, rejected: a 4xx, timeout, unavailable, circuit_open: not attempted).",
                       ["service", "outcome"])
AGENCY_CIRCUIT = Gauge("superapp_agency_circuit_open", "1 while an agency's circuit breaker is open or half-open.",
                       ["service"], multiprocess_mode="max")
PUSHES = Counter("superapp_notifications_delivered", "Outbox deliveries tried, by channel (push, sms) and "
                 "outcome (sent, retry, dropped: token gone, failed).", ["channel", "outcome"])
OUTBOX_DUE = Gauge("superapp_outbox_due", "Outbox rows due now, as the worker last counted them (capped at "
                   "OUTBOX_COUNT_CAP: a figure at the cap means at least that many).", multiprocess_mode="max")
OUTBOX_COUNT_CAP = 10_000
SYNC_PUSHED = Counter("superapp_sync_pushed_mutations", "Offline mutations pushed, by result status "
                      "(APPLIED, DUPLICATE, CONFLICT, REJECTED, ...).", ["status"])
SYNC_QUARANTINED = Counter("superapp_sync_quarantined_mutations", "Pushed mutations the server could not read, "
                           "kept for an operator (sync_quarantine).")
SYNC_PULLS = Counter("superapp_sync_pulls", "Sync pull pages answered.")
CONNECTIONS_TIMED_OUT = Counter("superapp_connections_timed_out", "Requests closed for sending their headers or "
                                "body too slowly.", ["phase"])
WEBSOCKETS_OPEN = Gauge("superapp_websockets_open", "WebSockets open now.", multiprocess_mode="livesum")
WEBSOCKETS_REFUSED = Counter("superapp_websockets_refused", "WebSockets closed for exceeding a cap "
                             "(per_ip, per_citizen).", ["reason"])
