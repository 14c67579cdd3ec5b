from __future__ import annotations

import logging

from api.cli import _DropQueryStrings


def test_access_log_lines_lose_their_query_string() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", '/graphql?variables={"id":"001085012345"}', "1.1", 200), None)
    assert _DropQueryStrings().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "GET /graphql HTTP/1.1" 200'
