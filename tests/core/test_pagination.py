"""Keyset pagination: opaque cursors and page sizes."""

from __future__ import annotations

import base64
import json
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.errors import DomainError, ErrorCode
from core.pagination import MAX_CURSOR_LENGTH, Page, PageRequest, cut, decode_cursor, encode_cursor, page_request

_KEY = ["2031-03-03T03:00:00+00:00", 4711]
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]*")


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _assert_invalid_cursor(kind: str, cursor: str, arity: int) -> None:
    with pytest.raises(DomainError) as info:
        decode_cursor(kind, cursor, arity)
    assert info.value.code is ErrorCode.INVALID_CURSOR
    assert info.value.field == "after"
    assert info.value.message_vi
    assert info.value.message_en
    assert info.value.message_vi != info.value.message_en


def test_round_trip() -> None:
    cursor = encode_cursor("dossier", _KEY)
    assert decode_cursor("dossier", cursor, 2) == _KEY
    assert _URL_SAFE.fullmatch(cursor)
    assert "dossier" not in cursor  # opaque, not readable JSON


_keys = st.lists(
    st.one_of(st.text(max_size=30), st.integers(min_value=-(2**53), max_value=2**53), st.booleans(), st.none()),
    min_size=1,
    max_size=4,
)


@given(kind=st.sampled_from(["dossier", "procedure", "document"]), key=_keys)
def test_any_json_key_round_trips(kind: str, key: list[object]) -> None:
    cursor = encode_cursor(kind, key)
    # Escaped control and astral characters can push a 4-part key past the cap that decode enforces.
    assume(len(cursor) <= MAX_CURSOR_LENGTH)
    assert _URL_SAFE.fullmatch(cursor)
    assert decode_cursor(kind, cursor, len(key)) == key


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        "a",
        "=",
        "khác-loại-tiếng-việt",
        _b64(json.dumps(["dossier", *_KEY])),  # no version prefix
        _b64("c2:" + json.dumps(["dossier", *_KEY])),  # another version
        _b64("c1:" + "not json"),
        _b64("c1:" + '{"kind": "dossier"}'),
        _b64("c1:" + '"dossier"'),
        _b64("c1:" + "[]"),
        _b64("c1:" + json.dumps(["dossier", _KEY[0]])),  # one key short
        _b64("c1:" + json.dumps(["dossier", *_KEY, 1])),  # one key too many
        base64.urlsafe_b64encode(b"c1:\xff\xfe[]").decode(),  # not UTF-8
    ],
)
def test_garbage_cursors_are_refused(cursor: str) -> None:
    _assert_invalid_cursor("dossier", cursor, 2)


def test_a_cursor_of_another_kind_is_refused() -> None:
    _assert_invalid_cursor("dossier", encode_cursor("procedure", ["1.001193", 1]), 2)
    _assert_invalid_cursor("procedure", encode_cursor("dossier", ["1.001193"]), 1)
    _assert_invalid_cursor("procedure", encode_cursor("dossier", _KEY), 1)


def test_every_truncation_of_a_cursor_is_refused() -> None:
    cursor = encode_cursor("dossier", _KEY)
    for length in range(len(cursor)):
        _assert_invalid_cursor("dossier", cursor[:length], 2)


def test_a_cursor_with_a_tampered_prefix_is_refused() -> None:
    cursor = encode_cursor("dossier", _KEY)
    _assert_invalid_cursor("dossier", "AAAA" + cursor[4:], 2)
    _assert_invalid_cursor("dossier", cursor[4:], 2)


def test_a_deeply_nested_cursor_is_refused() -> None:
    _assert_invalid_cursor("dossier", _b64("c1:" + "[" * 100_000 + "]" * 100_000), 2)


def test_page_request_defaults_and_decodes() -> None:
    assert page_request(kind="dossier", first=None, after=None, arity=2, default=20, maximum=100) == (
        PageRequest(first=20, after=None))
    cursor = encode_cursor("dossier", _KEY)
    assert page_request(kind="dossier", first=5, after=cursor, arity=2, default=20, maximum=100) == (
        PageRequest(first=5, after=_KEY))
    assert page_request(kind="dossier", first=1, after=None, arity=2, default=20, maximum=100).first == 1
    assert page_request(kind="dossier", first=100, after=None, arity=2, default=20, maximum=100).first == 100


def test_page_request_refuses_a_bad_cursor() -> None:
    with pytest.raises(DomainError) as info:
        page_request(kind="dossier", first=5, after="garbage", arity=2, default=20, maximum=100)
    assert info.value.code is ErrorCode.INVALID_CURSOR


@pytest.mark.parametrize("first", [0, -1, 101, 10_000])
def test_page_size_outside_1_to_maximum_is_refused(first: int) -> None:
    with pytest.raises(DomainError) as info:
        page_request(kind="dossier", first=first, after=None, arity=2, default=20, maximum=100)
    error = info.value
    assert error.code is ErrorCode.PAGE_SIZE_TOO_LARGE
    assert error.field == "first"
    assert "100" in error.message_vi
    assert "100" in error.message_en


def test_the_size_is_checked_before_the_cursor() -> None:
    with pytest.raises(DomainError) as info:
        page_request(kind="dossier", first=0, after="garbage", arity=2, default=20, maximum=100)
    assert info.value.code is ErrorCode.PAGE_SIZE_TOO_LARGE


def test_cut_uses_the_extra_row_only_to_say_there_is_more() -> None:
    page = cut([5, 4, 3, 2], 3, lambda n: [n])
    assert page == Page(items=[5, 4, 3], keys=[[5], [4], [3]], has_next=True)
    last = cut([2, 1], 3, lambda n: [n])
    assert last == Page(items=[2, 1], keys=[[2], [1]], has_next=False)
    assert cut([], 3, lambda n: [n]) == Page(items=[], keys=[], has_next=False)
