"""Vietnamese text folding for search: no diacritics, đ -> d, lower case, single spaces."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.text import ascii_digits, fold

# Every Vietnamese letter with its diacritics, by the ASCII letter it folds to.
_VIETNAMESE = {
    "a": "aàáảãạăằắẳẵặâầấẩẫậ",
    "e": "eèéẻẽẹêềếểễệ",
    "i": "iìíỉĩị",
    "o": "oòóỏõọôồốổỗộơờớởỡợ",
    "u": "uùúủũụưừứửữự",
    "y": "yỳýỷỹỵ",
    "d": "dđ",
}
_LETTERS = [(letter, base) for base, letters in _VIETNAMESE.items() for letter in letters]


def test_the_headline_example() -> None:
    assert fold("Đăng ký khai sinh") == "dang ky khai sinh"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Cấp Phiếu lý lịch tư pháp", "cap phieu ly lich tu phap"),
        ("Nguyễn Thị Ánh Tuyết", "nguyen thi anh tuyet"),
        ("ĐĂNG KÝ THƯỜNG TRÚ", "dang ky thuong tru"),
        ("Bảo hiểm Y tế", "bao hiem y te"),
        ("đường Điện Biên Phủ", "duong dien bien phu"),
        ("  Đăng\tký \n\n khai   sinh  ", "dang ky khai sinh"),
        ("\u00a0khai\u2003sinh\u00a0", "khai sinh"),
        ("1.001193", "1.001193"),
        ("", ""),
        ("   ", ""),
        ("already plain", "already plain"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_decomposed_input_folds_like_composed_input() -> None:
    composed = "Đăng ký khai sinh"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert fold(decomposed) == "dang ky khai sinh"


@pytest.mark.parametrize(("letter", "base"), _LETTERS)
def test_every_vietnamese_letter_folds_to_its_base(letter: str, base: str) -> None:
    assert fold(letter) == base
    assert fold(letter.upper()) == base


@given(st.lists(st.sampled_from([letter for letter, _ in _LETTERS] + [" ", "\t", "b", "C", "N"]), max_size=40))
def test_folded_vietnamese_is_plain_ascii_and_stable(chars: list[str]) -> None:
    folded = fold("".join(chars))
    assert folded.isascii()
    assert folded == folded.lower()
    assert "  " not in folded
    assert folded == folded.strip()
    assert fold(folded) == folded


@pytest.mark.parametrize(("text", "expected"),
                         [("0123", True), ("²", False), ("٣", False), ("12³", False), ("", False)])
def test_ascii_digits_accepts_only_0_to_9(text: str, expected: bool) -> None:
    assert ascii_digits(text) is expected


def test_no_application_code_trusts_isdigit_before_int() -> None:
    """`"²".isdigit()` is True and `int("²")` raises: every digit check goes through `ascii_digits`."""
    root = Path(__file__).resolve().parents[2]
    offenders = [str(path.relative_to(root)) for package in ("api", "core", "notifications", "services", "sync")
                 for path in sorted((root / package).rglob("*.py"))
                 if path != root / "core" / "text.py" and ".isdigit()" in path.read_text(encoding="utf-8")]
    assert offenders == []
