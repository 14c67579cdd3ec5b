"""Personal identification numbers: `PPP G YY NNNNNN`, consistent with birth date and sex (ARCHITECTURE.md)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError, ErrorCode
from core.id_numbers import PROVINCE_CODES, Sex, century_sex_digit, mask, validate_id_number

TODAY = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("id_number", "birth_date", "sex"),
    [
        # Hà Nội (001), male born in the 1900s: G = 0.
        ("001085123456", date(1985, 3, 12), Sex.MALE),
        # Nghệ An (040), female born in the 1900s: G = 1.
        ("040192004567", date(1992, 7, 1), Sex.FEMALE),
        # TP. Hồ Chí Minh (079), female born in the 2000s: G = 3.
        ("079301123456", date(2001, 11, 20), Sex.FEMALE),
        # Đà Nẵng (048), male born in the 2000s: G = 2.
        ("048210000001", date(2010, 5, 5), Sex.MALE),
        # Cà Mau (096), male born on the first day of 1900.
        ("096000999999", date(1900, 1, 1), Sex.MALE),
        # Hà Giang (002), female born on the last day of the 1900s.
        ("002199000100", date(1999, 12, 31), Sex.FEMALE),
        # Born in 2000 exactly: the 2000s digits (2/3), year digits 00.
        ("031300000042", date(2000, 1, 1), Sex.FEMALE),
        # Born today is not "in the future".
        ("001226654321", TODAY, Sex.MALE),
    ],
)
def test_valid_numbers_are_returned_unchanged(id_number: str, birth_date: date, sex: Sex) -> None:
    assert validate_id_number(id_number, birth_date=birth_date, sex=sex, today=TODAY) == id_number


_MALE_1985 = (date(1985, 3, 12), Sex.MALE)


@pytest.mark.parametrize(
    ("id_number", "birth_date", "sex", "today", "keyword"),
    [
        pytest.param("", *_MALE_1985, TODAY, None, id="empty"),
        pytest.param("00108501234", *_MALE_1985, TODAY, "12", id="too-short"),
        pytest.param("0010850123456", *_MALE_1985, TODAY, "12", id="too-long"),
        pytest.param("001085012345\n", *_MALE_1985, TODAY, "12", id="trailing-newline"),
        pytest.param("00108501234\n", *_MALE_1985, TODAY, "digit", id="newline-as-12th-char"),
        pytest.param("00108501234A", *_MALE_1985, TODAY, "digit", id="letter"),
        pytest.param("001085 12345", *_MALE_1985, TODAY, "digit", id="space"),
        pytest.param("-01085012345", *_MALE_1985, TODAY, "digit", id="sign"),
        pytest.param("00108501234\u0661", *_MALE_1985, TODAY, "digit", id="arabic-indic-digit"),
        pytest.param("\uff10\uff10\uff11\uff10\uff18\uff15\uff10\uff11\uff12\uff13\uff14\uff15",
                     *_MALE_1985, TODAY, "digit", id="fullwidth-digits"),
        pytest.param("003085012345", *_MALE_1985, TODAY, "province", id="unknown-province-003"),
        pytest.param("000085012345", *_MALE_1985, TODAY, "province", id="unknown-province-000"),
        pytest.param("099085012345", *_MALE_1985, TODAY, "province", id="unknown-province-099"),
        pytest.param("001285012345", *_MALE_1985, TODAY, "century", id="2000s-digit-for-1985"),
        pytest.param("079001123456", date(2001, 11, 20), Sex.MALE, TODAY, "century",
                     id="1900s-digit-for-2001"),
        pytest.param("001185012345", *_MALE_1985, TODAY, "sex", id="female-digit-for-a-man"),
        pytest.param("079201123456", date(2001, 11, 20), Sex.FEMALE, TODAY, "sex",
                     id="male-digit-for-a-woman"),
        pytest.param("001086012345", *_MALE_1985, TODAY, "birth", id="birth-year-digits"),
        pytest.param("001058012345", *_MALE_1985, TODAY, "birth", id="birth-year-digits-swapped"),
        pytest.param("001227012345", date(2027, 1, 1), Sex.MALE, TODAY, "future", id="born-in-the-future"),
        pytest.param("001226012345", date(2026, 6, 2), Sex.MALE, TODAY, "future", id="born-tomorrow"),
        pytest.param("001085000000", *_MALE_1985, TODAY, "serial", id="all-zero-serial"),
        pytest.param("001099012345", date(1899, 12, 31), Sex.MALE, TODAY, "1900", id="born-1899"),
        pytest.param("001000012345", date(2400, 1, 1), Sex.MALE, date(2500, 1, 1), "1900", id="born-2400"),
    ],
)
def test_invalid_numbers_raise_a_typed_bilingual_error(
    id_number: str, birth_date: date, sex: Sex, today: date, keyword: str | None
) -> None:
    with pytest.raises(DomainError) as info:
        validate_id_number(id_number, birth_date=birth_date, sex=sex, today=today)
    error = info.value
    assert error.code is ErrorCode.INVALID_ID_NUMBER
    assert error.field == "idNumber"
    assert error.message_vi.strip()
    assert error.message_en.strip()
    assert error.message_vi != error.message_en
    if keyword is not None:
        assert keyword in error.message_en.lower()
    assert len(error.errors) == 1
    assert error.errors[0].code is ErrorCode.INVALID_ID_NUMBER
    assert error.errors[0].field == "idNumber"
    assert (error.errors[0].message_vi, error.errors[0].message_en) == (error.message_vi, error.message_en)


def test_the_reasons_tell_the_kinds_of_mismatch_apart() -> None:
    birth, sex = _MALE_1985
    messages = set()
    for number in ("003085012345", "001285012345", "001185012345", "001086012345", "001085000000"):
        with pytest.raises(DomainError) as info:
            validate_id_number(number, birth_date=birth, sex=sex, today=TODAY)
        messages.add((info.value.message_vi, info.value.message_en))
    assert len(messages) == 5


@pytest.mark.parametrize(
    ("birth_date", "sex", "digit"),
    [
        (date(1900, 1, 1), Sex.MALE, 0),
        (date(1999, 12, 31), Sex.FEMALE, 1),
        (date(2000, 1, 1), Sex.MALE, 2),
        (date(2099, 12, 31), Sex.FEMALE, 3),
        (date(2100, 1, 1), Sex.MALE, 4),
        (date(2200, 6, 1), Sex.FEMALE, 7),
        (date(2399, 12, 31), Sex.MALE, 8),
        (date(2399, 12, 31), Sex.FEMALE, 9),
    ],
)
def test_century_sex_digit_follows_the_documented_table(birth_date: date, sex: Sex, digit: int) -> None:
    assert century_sex_digit(birth_date, sex) == digit


@pytest.mark.parametrize("birth_date", [date(1899, 12, 31), date(2400, 1, 1), date(1, 1, 1)])
def test_century_sex_digit_rejects_years_outside_1900_2399(birth_date: date) -> None:
    with pytest.raises(DomainError) as info:
        century_sex_digit(birth_date, Sex.FEMALE)
    assert info.value.code is ErrorCode.INVALID_ID_NUMBER
    assert info.value.field == "idNumber"


_serials = st.integers(min_value=1, max_value=999_999)
_births = st.dates(min_value=date(1900, 1, 1), max_value=date(2399, 12, 31))


@given(
    province=st.sampled_from(sorted(PROVINCE_CODES)),
    birth=_births,
    sex=st.sampled_from(list(Sex)),
    serial=_serials,
)
def test_any_well_built_number_validates(province: str, birth: date, sex: Sex, serial: int) -> None:
    number = f"{province}{century_sex_digit(birth, sex)}{birth.year % 100:02d}{serial:06d}"
    assert validate_id_number(number, birth_date=birth, sex=sex, today=date(2400, 1, 1)) == number


@given(
    province=st.sampled_from(sorted(PROVINCE_CODES)),
    birth=_births,
    sex=st.sampled_from(list(Sex)),
    serial=_serials,
    wrong=st.integers(min_value=0, max_value=9),
)
def test_any_other_century_sex_digit_is_rejected(
    province: str, birth: date, sex: Sex, serial: int, wrong: int
) -> None:
    right = century_sex_digit(birth, sex)
    if wrong == right:
        wrong = (wrong + 1) % 10
    number = f"{province}{wrong}{birth.year % 100:02d}{serial:06d}"
    with pytest.raises(DomainError) as info:
        validate_id_number(number, birth_date=birth, sex=sex, today=date(2400, 1, 1))
    assert info.value.code is ErrorCode.INVALID_ID_NUMBER


def test_mask_keeps_only_province_and_last_two_digits() -> None:
    assert mask("001085123456") == "001*******56"


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_mask_never_reveals_the_middle_digits(number: str) -> None:
    masked = mask(number)
    assert len(masked) == 12
    assert masked[:3] == number[:3]
    assert masked[3:10] == "*" * 7
    assert masked[10:] == number[10:]


@pytest.mark.parametrize("short", ["", "1", "00108"])
def test_mask_of_a_short_value_reveals_nothing(short: str) -> None:
    masked = mask(short)
    assert set(masked) == {"*"}
