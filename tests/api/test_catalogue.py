"""The public procedure catalogue: search ignoring diacritics, agency filter, keyset pages in code order.

The catalogue is the seed data plus the procedures the app's enabled services declare (merged at start-up),
so the expected catalogue is built from those two sources. Search expectations come from an independent
statement of the rule (fold case and Vietnamese diacritics, every word a substring of code or names), plus
hand-checked anchors.
"""

from __future__ import annotations

import base64
import unicodedata
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from core.seed_data import PROCEDURES
from tests.support import gql

SEARCH = """
query Search($search: String, $agency: String, $first: Int, $after: String) {
  procedures(search: $search, agency: $agency, first: $first, after: $after) {
    edges { cursor node { code name { vi en } agency { code } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
SEEDED_CODES = {p["code"] for p in PROCEDURES}


@pytest.fixture(scope="module")
def catalogue(app: Starlette) -> list[Mapping[str, Any]]:
    """Every procedure the server should list, in code order."""
    declared = [spec for plugin in app.state.services.plugins.values() for spec in plugin.procedures]
    by_code = {str(spec["code"]): spec for spec in [*PROCEDURES, *declared]}
    return [by_code[code] for code in sorted(by_code)]


def _fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return " ".join("".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
                    .lower().split())


def _expected(catalogue: list[Mapping[str, Any]], search: str, agency: str | None = None) -> list[str]:
    words = _fold(search).split()
    return [str(p["code"]) for p in catalogue
            if all(w in _fold(f"{p['code']} {p['name_vi']} {p['name_en']}") for w in words)
            and (agency is None or p["agency"] == agency)]


async def _codes(client: httpx.AsyncClient, **variables: Any) -> list[str]:
    body = await gql(client, SEARCH, {"first": 100, **variables})
    assert "errors" not in body, body
    return [edge["node"]["code"] for edge in body["data"]["procedures"]["edges"]]


async def _walk(client: httpx.AsyncClient, first: int) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        body = await gql(client, SEARCH, {"first": first, "after": after})
        assert "errors" not in body, body
        page = body["data"]["procedures"]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        assert len(pages) < 100
        after = page["pageInfo"]["endCursor"]


async def test_the_catalogue_holds_the_seeded_and_declared_procedures_across_several_agencies(
    client: httpx.AsyncClient, catalogue: list[Mapping[str, Any]]
) -> None:
    body = await gql(client, SEARCH, {"first": 100})
    nodes = [edge["node"] for edge in body["data"]["procedures"]["edges"]]
    assert len(nodes) >= 10
    assert [n["code"] for n in nodes] == [p["code"] for p in catalogue]
    assert SEEDED_CODES <= {n["code"] for n in nodes}
    assert len({n["agency"]["code"] for n in nodes}) >= 3
    for node, expected in zip(nodes, catalogue, strict=True):
        assert node["name"] == {"vi": expected["name_vi"], "en": expected["name_en"]}
        assert node["agency"]["code"] == expected["agency"]


@pytest.mark.parametrize(("search", "anchors", "excluded"), [
    ("khai sinh", {"1.001193"}, {"1.001022", "1.000894"}),
    ("Khai Sinh", {"1.001193"}, {"1.001022"}),
    (unicodedata.normalize("NFD", "Đăng Ký Khai Sinh"), {"1.001193"}, {"1.001022"}),
    ("  khai   sinh  ", {"1.001193"}, {"1.001022"}),
    ("dang ky", {"1.000894", "1.001022", "1.001193", "1.004194", "1.004206"}, {"1.004222", "2.000986"}),
    ("ĐĂNG KÝ", {"1.000894", "1.001022", "1.001193", "1.004194", "1.004206"}, {"1.004222"}),
    ("đăng ký", {"1.000894", "1.001022", "1.001193", "1.004194", "1.004206"}, {"1.004222"}),
    ("ho chieu", {"2.000986"}, {"1.001193"}),
    ("birth", {"1.001193"}, {"1.001022"}),
    ("1.004222", {"1.004222"}, {"1.001193"}),
    ("bảo hiểm y tế", {"1.000045", "1.001612"}, {"1.001193"}),
])
async def test_search_ignores_diacritics_and_case(client: httpx.AsyncClient, catalogue: list[Mapping[str, Any]],
                                                  search: str, anchors: set[str], excluded: set[str]) -> None:
    found = await _codes(client, search=search)
    assert found == _expected(catalogue, search)
    assert anchors <= set(found)
    assert not excluded & set(found)


@pytest.mark.parametrize("search", ["không có thủ tục này", "%", "_", "khai%sinh", "zzzz"])
async def test_a_term_that_matches_nothing_gives_no_edges(client: httpx.AsyncClient, search: str) -> None:
    assert await _codes(client, search=search) == []


@pytest.mark.parametrize(("search", "anchors", "excluded"), [
    ("khai", {"1.001022", "1.001193"}, {"1.000894"}),
    ("khai tu", {"1.001022"}, {"1.001193"}),
    ("tu khai", {"1.001022"}, {"1.001193"}),
    ("dang ky khai", {"1.001022", "1.001193"}, {"1.000894", "1.004194"}),
    ("ket hon dang ky", {"1.000894"}, {"1.001193"}),
    ("khai sinh ket hon", set(), {"1.001193", "1.000894"}),
])
async def test_multi_word_search_must_match_every_word(client: httpx.AsyncClient,
                                                       catalogue: list[Mapping[str, Any]], search: str,
                                                       anchors: set[str], excluded: set[str]) -> None:
    found = await _codes(client, search=search)
    assert found == _expected(catalogue, search)
    assert anchors <= set(found)
    assert not excluded & set(found)


async def test_empty_search_is_the_whole_catalogue(client: httpx.AsyncClient,
                                                   catalogue: list[Mapping[str, Any]]) -> None:
    everything = [str(p["code"]) for p in catalogue]
    assert await _codes(client, search="") == everything
    assert await _codes(client, search="   ") == everything


@pytest.mark.parametrize(("agency", "anchors"), [
    ("000.00.00.G09", {"1.004194", "1.004206", "2.000986"}),
    ("000.20.31.H26", {"1.000894", "1.001022", "1.001193", "1.003583"}),
    ("000.00.00.G22", {"1.000045", "1.001612"}),
    ("999.99.99.X99", set()),
])
async def test_agency_filter_by_agency_code(client: httpx.AsyncClient, catalogue: list[Mapping[str, Any]],
                                            agency: str, anchors: set[str]) -> None:
    body = await gql(client, SEARCH, {"agency": agency, "first": 100})
    nodes = [edge["node"] for edge in body["data"]["procedures"]["edges"]]
    assert [n["code"] for n in nodes] == _expected(catalogue, "", agency)
    assert anchors <= {n["code"] for n in nodes}
    assert all(n["agency"]["code"] == agency for n in nodes)


async def test_search_and_agency_filter_combine(client: httpx.AsyncClient,
                                               catalogue: list[Mapping[str, Any]]) -> None:
    found = await _codes(client, search="dang ky", agency="000.00.00.G09")
    assert found == _expected(catalogue, "dang ky", "000.00.00.G09")
    assert {"1.004194", "1.004206"} <= set(found)
    assert "2.000986" not in found


async def test_procedure_by_code(client: httpx.AsyncClient) -> None:
    body = await gql(client, """{ procedure(code: "1.001193") {
        id code name { vi en } onlineLevel processingDays feeVnd agency { code name { vi en } } formSchema } }""")
    assert "errors" not in body, body
    procedure = body["data"]["procedure"]
    assert procedure["id"] == base64.b64encode(b"Procedure:1.001193").decode()
    assert procedure["code"] == "1.001193"
    assert procedure["name"] == {"vi": "Đăng ký khai sinh", "en": "Birth registration"}
    assert procedure["onlineLevel"] == "FULL"
    assert procedure["processingDays"] == 1
    assert procedure["feeVnd"] == 0
    assert procedure["agency"] == {"code": "000.20.31.H26", "name": {
        "vi": "UBND phường Phúc Xá, Hà Nội", "en": "Phuc Xa Ward People's Committee, Hanoi"}}
    schema = procedure["formSchema"]
    assert isinstance(schema, dict)
    assert isinstance(schema["properties"], dict)
    assert {"applicant_name", "applicant_id_number", "child_name", "child_birth_date"} <= set(schema["properties"])
    assert schema["properties"]["applicant_name"]["x-prefill"] == "full_name"
    assert "child_name" in schema["required"]


async def test_procedure_fields_for_a_paid_partly_online_procedure(client: httpx.AsyncClient) -> None:
    body = await gql(client, '{ procedure(code: "1.002809") { onlineLevel processingDays feeVnd agency { code } } }')
    assert body == {"data": {"procedure": {"onlineLevel": "PARTIAL", "processingDays": 5, "feeVnd": 135000,
                                           "agency": {"code": "000.00.13.H26"}}}}


@pytest.mark.parametrize("code", ["9.999999", "", "1.001193 ", "1.00119"])
async def test_unknown_procedure_code_is_not_found(client: httpx.AsyncClient, code: str) -> None:
    body = await gql(client, "query P($code: String!) { procedure(code: $code) { code } }", {"code": code})
    assert body["data"] == {"procedure": None}
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["path"] == ["procedure"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == error["extensions"]["messageVi"]
    assert error["extensions"]["messageEn"]


@pytest.mark.parametrize("first", [1, 3, 5, 12, 100])
async def test_pages_walk_the_whole_catalogue_once_in_code_order(client: httpx.AsyncClient,
                                                                 catalogue: list[Mapping[str, Any]],
                                                                 first: int) -> None:
    everything = [str(p["code"]) for p in catalogue]
    pages = await _walk(client, first)
    codes = [edge["node"]["code"] for page in pages for edge in page["edges"]]
    assert codes == everything
    expected_pages = -(-len(everything) // first)
    assert len(pages) == expected_pages
    for index, page in enumerate(pages):
        last = index == len(pages) - 1
        info = page["pageInfo"]
        assert info["hasNextPage"] is not last
        assert info["hasPreviousPage"] is (index > 0)
        assert len(page["edges"]) == (first if not last else len(everything) - first * index)
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]


async def test_three_at_a_time_yields_every_procedure_once(client: httpx.AsyncClient,
                                                           catalogue: list[Mapping[str, Any]]) -> None:
    pages = await _walk(client, 3)
    total = len(catalogue)
    assert [len(p["edges"]) for p in pages] == [3] * (total // 3) + ([total % 3] if total % 3 else [])
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True] * (len(pages) - 1) + [False]
    codes = [e["node"]["code"] for p in pages for e in p["edges"]]
    assert len(codes) == len(set(codes)) == total


async def test_pagination_within_a_search(client: httpx.AsyncClient, catalogue: list[Mapping[str, Any]]) -> None:
    expected = _expected(catalogue, "dang ky")
    assert len(expected) >= 5
    first = await gql(client, SEARCH, {"search": "dang ky", "first": 2})
    page = first["data"]["procedures"]
    assert [e["node"]["code"] for e in page["edges"]] == expected[:2]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await _codes(client, search="dang ky", after=page["pageInfo"]["endCursor"])
    assert rest == expected[2:]


async def test_an_empty_result_has_no_cursors(client: httpx.AsyncClient) -> None:
    body = await gql(client, SEARCH, {"search": "zzzz"})
    assert body["data"]["procedures"] == {"edges": [], "pageInfo": {
        "hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}}


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("after", [
    "not-a-cursor", "!!!", _cursor("no prefix"), _cursor('c1:["dossier","2026-01-01T00:00:00",1]'),
    _cursor('c1:["procedure"]'), _cursor('c1:["procedure","1.001193","x"]'), _cursor("c1:{not json"),
    _cursor('c1:{"procedure":"1.001193"}'),
])
async def test_an_invalid_cursor_is_invalid_cursor(client: httpx.AsyncClient, after: str) -> None:
    body = await gql(client, SEARCH, {"after": after})
    assert body["data"] == {"procedures": None}
    assert len(body["errors"]) == 1
    assert body["errors"][0]["path"] == ["procedures"]
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    assert body["errors"][0]["extensions"]["field"] == "after"


@pytest.mark.parametrize("first", [0, -1, 101, 1000])
async def test_a_page_size_outside_1_to_the_maximum_is_refused(client: httpx.AsyncClient, first: int) -> None:
    body = await gql(client, SEARCH, {"first": first})
    assert body["data"] == {"procedures": None}
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["extensions"]["code"] == "PAGE_SIZE_TOO_LARGE"
    assert error["extensions"]["field"] == "first"
    assert "100" in error["extensions"]["messageEn"]


async def test_the_maximum_page_size_is_allowed(client: httpx.AsyncClient,
                                               catalogue: list[Mapping[str, Any]]) -> None:
    assert await _codes(client, first=100) == [str(p["code"]) for p in catalogue]


async def test_a_bad_page_size_fails_only_its_own_field(client: httpx.AsyncClient) -> None:
    body = await gql(client, '{ procedures(first: 0) { edges { cursor } } procedure(code: "1.001193") { code } }')
    assert body["data"] == {"procedures": None, "procedure": {"code": "1.001193"}}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PAGE_SIZE_TOO_LARGE"]



async def test_a_nul_character_in_public_arguments_is_a_request_error(client: httpx.AsyncClient) -> None:
    for variables in ({"first": 5, "search": "khai\x00sinh"}, {"first": 5, "agency": "000.00.00.G09\x00"}):
        body = await gql(client, SEARCH, variables)
        assert "data" not in body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    body = await gql(client, "query P($code: String!) { procedure(code: $code) { code } }", {"code": "1.001193\x00"})
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("search", [
    "a" * 201,  # one character over
    " ".join(f"tu{i}" for i in range(21)),  # one distinct word over
    "khai sinh " * 4_000,  # the 40 KB search that took 8 s
    " ".join(f"w{i}" for i in range(1_001)),  # the ~1,000 words that made SQLite answer INTERNAL_ERROR
], ids=["201-chars", "21-words", "40KB", "1001-words"])
async def test_an_oversize_search_is_search_too_long(client: httpx.AsyncClient, search: str) -> None:
    body = await gql(client, SEARCH, {"search": search, "first": 5})
    assert body["data"] == {"procedures": None}
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["path"] == ["procedures"]
    assert error["extensions"]["code"] == "SEARCH_TOO_LONG"
    assert error["extensions"]["field"] == "search"
    assert error["extensions"]["messageEn"] == "The search is too long: at most 200 characters and 20 words."
    assert error["extensions"]["messageVi"] == "Từ khoá tìm kiếm quá dài: tối đa 200 ký tự và 20 từ."


async def test_a_search_at_the_limits_is_answered(client: httpx.AsyncClient,
                                                 catalogue: list[Mapping[str, Any]]) -> None:
    twenty = " ".join(["dang", "ky", "khai", "sinh", *(f"k{i}" for i in range(16))])
    assert await _codes(client, search=twenty) == []
    padded = "khai sinh" + " " * 191
    assert len(padded) == 200
    assert await _codes(client, search=padded) == _expected(catalogue, "khai sinh")
    repeated = "ky " * 66  # one distinct word, however often it is typed
    assert await _codes(client, search=repeated) == _expected(catalogue, "ky")
