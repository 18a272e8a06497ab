"""Resident identity numbers (居民身份证号码, GB 11643) through python-stdnum's ``cn.ric``."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from stdnum import exceptions as stdnum_exceptions
from stdnum import numdb
from stdnum.cn import ric

ID_PATTERN = re.compile(r"[0-9]{17}[0-9X]")
PHONE_PATTERN = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


class InvalidIdNumber(ValueError):
    """Carries a Chinese message fit for a user."""


@dataclass(frozen=True)
class IdNumberFacts:
    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F"
    region_code: str  # first six digits: the county where it was issued


def parse_id_number(value: str) -> IdNumberFacts:
    """Validate an 18-digit ID (checksum, birth date) and return what it encodes."""
    number = ric.compact(value or "")
    if len(number) != 18:
        raise InvalidIdNumber("身份证号码应为18位")
    # ASCII only: str.isdigit() also accepts other scripts' digits, which would give one
    # person a second blind index.
    if not ID_PATTERN.fullmatch(number):
        raise InvalidIdNumber("身份证号码格式错误")
    # calc_check_digit takes the whole number and ignores its last character.
    if number[17] != ric.calc_check_digit(number):
        raise InvalidIdNumber("身份证号码校验位错误")
    try:
        birth = ric.get_birth_date(number)
    except stdnum_exceptions.ValidationError as exc:
        raise InvalidIdNumber("身份证号码中的出生日期无效") from exc
    # The code must have existed at some time, not necessarily in the birth year: numbers
    # issued late (hukou registered years after birth) carry a later county code.
    if not any("county" in props for _, props in numdb.get("cn/loc").info(number[:6])):
        raise InvalidIdNumber("身份证号码中的地区代码不存在")
    if birth > datetime.date.today():
        raise InvalidIdNumber("身份证号码中的出生日期晚于今天")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumberFacts(number=number, birth_date=birth, sex=sex, region_code=number[:6])


def normalise_phone(value: str) -> str:
    phone = re.sub(r"[\s()]", "", value or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE_PATTERN.match(phone):
        raise ValueError("电话号码格式错误")
    return phone.replace("-", "")
