"""Personal identification numbers (số định danh cá nhân): 12 digits, `PPP G YY NNNNNN`.

PPP is the province where the birth was registered, G encodes century and sex (0/1 = male/female born
1900-1999, 2/3 = 2000-2099, ... up to 8/9 for 2300-2399), YY the last two digits of the birth year and
NNNNNN a random serial. There is no check digit, so "valid" means well formed and consistent with the
birth date and sex; existence is for the national population database to say.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from core.errors import DomainError, ErrorCode


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


# Province codes of birth registration (Circular 07/2016/TT-BCA annex), the 63 provinces before the 2025
# mergers: numbers already issued keep their historical code for life.
PROVINCE_CODES: frozenset[str] = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 036 "
    "037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 074 075 "
    "077 079 080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)

_SHAPE = re.compile(r"[0-9]{12}")


def _reject(reason: str, reason_en: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_ID_NUMBER, field="idNumber", reason=reason, reason_en=reason_en)


def century_sex_digit(birth_date: date, sex: Sex) -> int:
    century_index = (birth_date.year - 1900) // 100
    if not 0 <= century_index <= 4:
        raise _reject("năm sinh ngoài phạm vi 1900-2399", "birth year outside 1900-2399")
    return century_index * 2 + (1 if sex is Sex.FEMALE else 0)


def _check_shape(id_number: str) -> None:
    """Twelve ASCII digits, whole string (`fullmatch`: a trailing newline is not a digit)."""
    if not id_number:
        raise _reject("chưa nhập", "missing")
    if len(id_number) != 12:
        raise _reject("phải có đúng 12 chữ số", "must have exactly 12 digits")
    if not _SHAPE.fullmatch(id_number):
        raise _reject("chỉ được chứa chữ số 0-9", "may contain only the digits 0-9")


def validate_id_number(id_number: str, *, birth_date: date, sex: Sex, today: date) -> str:
    """Return the number if it is well formed and agrees with `birth_date` and `sex`; else raise."""
    _check_shape(id_number)
    if birth_date > today:
        raise _reject("ngày sinh ở tương lai", "birth date is in the future")
    if id_number[:3] not in PROVINCE_CODES:
        raise _reject("mã tỉnh nơi đăng ký khai sinh không tồn tại", "unknown province code")
    digit = int(id_number[3])
    expected = century_sex_digit(birth_date, sex)
    if digit // 2 != expected // 2:
        raise _reject("mã thế kỷ không khớp năm sinh", "century digit does not match the birth year")
    if digit % 2 != expected % 2:
        raise _reject("mã giới tính không khớp giới tính", "sex digit does not match the sex")
    if id_number[4:6] != f"{birth_date.year % 100:02d}":
        raise _reject("hai số năm sinh không khớp ngày sinh", "birth-year digits do not match")
    if id_number[6:] == "000000":
        raise _reject("số thứ tự không hợp lệ", "the serial part cannot be all zeros")
    return id_number


def check_id_number(id_number: str, *, this_year: int) -> str:
    """A number typed into a form for someone whose birth date and sex we do not know (a spouse, a
    licence holder): well formed, a known province, a birth year (from G and YY) not after `this_year`,
    a serial that is not all zeros. Returns it unchanged; raises INVALID_ID_NUMBER with the reason."""
    _check_shape(id_number)
    if id_number[:3] not in PROVINCE_CODES:
        raise _reject("mã tỉnh nơi đăng ký khai sinh không tồn tại", "unknown province code")
    if 1900 + int(id_number[3]) // 2 * 100 + int(id_number[4:6]) > this_year:
        raise _reject("năm sinh trong số nằm ở tương lai", "the birth year it encodes is in the future")
    if id_number[6:] == "000000":
        raise _reject("số thứ tự không hợp lệ", "the serial part cannot be all zeros")
    return id_number


def looks_like_id_number(value: str) -> bool:
    """Shape only (for token subjects, whose birth date we may not know yet)."""
    return bool(_SHAPE.fullmatch(value)) and value[:3] in PROVINCE_CODES and value[3] in "0123456789"


def mask(id_number: str) -> str:
    """The form allowed in logs: province and last two digits only."""
    if len(id_number) < 6:
        return "***"
    return f"{id_number[:3]}*******{id_number[-2:]}"
