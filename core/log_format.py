"""Log lines as text or JSON, each carrying the id of the request it belongs to.

`request_id` is a context variable set by `api/request_id.py` for the whole of one request (the access-log
line included, which uvicorn writes from inside the request's task), so every record logged while serving
that request, by any logger, gets it as `record.request_id`. JSON lines (`SUPERAPP_LOG_FORMAT=json`, the
production default) are one object per line for a log shipper; every string in them is passed through
`core.log_redaction.redact` once more, whatever set it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from core.log_redaction import redact

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
_installed = False


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id and, if any, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        clean = {key: redact(value) if isinstance(value, str) else value for key, value in line.items()}
        return json.dumps(clean, ensure_ascii=False)


def install_request_ids() -> None:
    """Every record from now on carries `request_id` (`-` outside a request), whichever logger made it."""
    global _installed
    if _installed:
        return
    _installed = True
    make: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        record.request_id = request_id.get() or "-"
        return record

    logging.setLogRecordFactory(with_request_id)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})
