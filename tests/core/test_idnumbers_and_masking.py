from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from jiuzhu.core.idnumbers import InvalidIdNumber, normalise_phone, parse_id_number
from jiuzhu.core.masking import mask_id_number, mask_name, mask_phone


def test_the_worked_example_of_gb_11643_is_valid() -> None:
    facts = parse_id_number("11010519491231002X")
    assert facts.birth_date == datetime.date(1949, 12, 31)
    assert facts.sex == "F"


def test_parse_gives_birth_date_sex_and_region() -> None:
    facts = parse_id_number("362423196005050021")
    assert facts.birth_date == datetime.date(1960, 5, 5)
    assert facts.sex == "F"
    assert facts.region_code == "362423"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("36242319600505002", "18位"),
        ("362423196005050024", "校验位"),
        ("36242319601305002X", "出生日期"),
        ("990000199001010000", "地区代码"),
        ("36242319600505A021", "格式"),
    ],
)
def test_invalid_numbers_get_a_chinese_reason(value: str, message: str) -> None:
    if message in ("出生日期", "地区代码"):  # give them a right check digit
        value = value[:17] + ric.calc_check_digit(value)
    with pytest.raises(InvalidIdNumber, match=message):
        parse_id_number(value)


def test_the_lower_case_x_check_digit_is_accepted() -> None:
    base = "36082320100101001"
    for seq in range(100, 999):
        body = base[:14] + f"{seq:03d}"
        if ric.calc_check_digit(body + "0") == "X":
            assert parse_id_number(body + "x").number == body + "X"
            return
    pytest.fail("no X check digit found")


@given(
    st.dates(min_value=datetime.date(2001, 1, 1), max_value=datetime.date(2025, 12, 31)),
    st.integers(min_value=0, max_value=999),
)
def test_every_generated_number_round_trips(birth: datetime.date, seq: int) -> None:
    body = f"360823{birth:%Y%m%d}{seq:03d}"
    facts = parse_id_number(body + ric.calc_check_digit(body + "0"))
    assert facts.birth_date == birth
    assert facts.sex == ("M" if seq % 2 else "F")


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("张小明", "张*明"), ("欧阳小明", "欧**明"), ("李", "李")],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mask_numbers() -> None:
    assert mask_id_number("360823199001011234") == "3608**********1234"
    assert mask_phone("13812345678") == "138****5678"


def test_phone_normalisation() -> None:
    assert normalise_phone("+86 138 1234 5678") == "13812345678"
    assert normalise_phone("0796-1234567") == "07961234567"
    with pytest.raises(ValueError, match="电话号码"):
        normalise_phone("12345")


def test_digits_of_other_scripts_are_refused() -> None:
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in "19580312001")
    with pytest.raises(InvalidIdNumber, match="格式"):
        parse_id_number("362423" + arabic_indic + "8")


def test_a_county_code_issued_after_the_birth_year_is_accepted() -> None:
    # 360823 exists since 2000; a person born in 1958 whose hukou was registered late
    # carries it legitimately.
    body = "36082319580312001"
    number = body + ric.calc_check_digit(body + "0")
    assert parse_id_number(number).birth_date == datetime.date(1958, 3, 12)
