"""The one JSON reader for outside input: each way plain `json.loads` crashes or lets bad text in is a refusal
with a stable reason, and ordinary JSON reads exactly as `json.loads` reads it."""

from __future__ import annotations

import json

import pytest

from core.json_body import MAX_DEPTH, MAX_NUMBER_CHARS, JSONRefused, loads

REFUSED: list[tuple[str, str | bytes, str]] = [
    ("1000-deep", b"[" * 1000 + b"]" * 1000, "TOO_DEEP"),
    ("100000-deep", b"{\"a\":" * 100_000 + b"1" + b"}" * 100_000, "TOO_DEEP"),
    ("one-over", b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "TOO_DEEP"),
    ("5000-digits", b"9" * 5000, "NUMBER_TOO_LONG"),
    ("long-fraction", b"0." + b"1" * MAX_NUMBER_CHARS, "NUMBER_TOO_LONG"),
    ("overflowing-float", b"1e999", "NOT_A_NUMBER"),
    ("nan", b"[NaN]", "NOT_A_NUMBER"),
    ("infinity", b"-Infinity", "NOT_A_NUMBER"),
    ("invalid-utf8", b'"\xff"', "INVALID_UTF8"),
    ("latin-1", '"é"'.encode("latin-1"), "INVALID_UTF8"),
    ("utf-16", '{"a": 1}'.encode("utf-16"), "INVALID_UTF8"),
    ("escaped-lone-high-surrogate", b'"\\ud800"', "LONE_SURROGATE"),
    ("escaped-lone-low-surrogate-key", b'{"\\udfff": 1}', "LONE_SURROGATE"),
    ("surrogate-in-text", '"\ud800"', "LONE_SURROGATE"),
    ("utf8-bom", b'\xef\xbb\xbf{"a": 1}', "INVALID_JSON"),
    ("empty", b"", "INVALID_JSON"),
    ("trailing-comma", b"[1,]", "INVALID_JSON"),
]


@pytest.mark.parametrize(("raw", "reason"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_hostile_json_is_refused_with_a_reason(raw: str | bytes, reason: str) -> None:
    with pytest.raises(JSONRefused) as refused:
        loads(raw)
    assert refused.value.reason == reason
    assert isinstance(refused.value, json.JSONDecodeError), "callers that catch JSONDecodeError refuse it too"


@pytest.mark.parametrize("raw", [
    b'{"query": "{ __typename }", "variables": {"n": -12.5e3, "ok": true, "none": null}}',
    "[" * MAX_DEPTH + "]" * MAX_DEPTH,
    b"9" * MAX_NUMBER_CHARS,
    '{"emoji": "\\ud83d\\ude00", "vi": "Nguyễn Văn An", "escaped-backslash": "\\\\ud800"}',
    b'{"a": "\\u0000"}',
])
def test_ordinary_json_reads_as_json_loads_reads_it(raw: str | bytes) -> None:
    assert loads(raw) == json.loads(raw)
