"""Synthetic department feeds with planted ground truth (NumPy + PyArrow; no Django).

``generate_feeds`` turns a population made by ``population.py`` into the eleven feeds of
the catalogue (``src/jiuzhu/feeds/catalogue``), in the form a department would deliver
them (the catalogue's columns, clear ID numbers), over the year before ``as_of``. With
them comes a **truth table**: which households the default rule pack
(docs/monitoring-rules.md, the specification) must warn about, at which level, and which
deliberate near-misses it must leave alone.

Three kinds of truth rows:

* ``planted``: feed records made to meet exactly one event rule's conditions;
* ``near_miss``: records just outside a rule's conditions (``expected = no_warn``);
* ``registry``: the registry-state rules (income, rigid expenditure, hardship score),
  which nothing plants: their expected warnings are computed here from the population
  (and, for the score, the generated feeds) by an independent NumPy implementation of
  the definitions.

Background records are ordinary and never meet a rule's conditions on their own; they
also never combine with a planted record into a second event (a household with planted
medical records has no background medical records, and so on). Every household holds at
most one planted or near-miss event; levels are only planted where they do not depend on
whether ages are taken on the event date or on ``as_of`` (no member crosses 18 or 60
during the window), so the truth does not hinge on that reading of the specification.

Nothing here runs once per row or per household: 2 064 000 households (≈ 21 million
records) take well under a minute. Every feed and every rule draws from its own seeded
stream (``_rng(seed, "feeds.<feed>")``, ``_rng(seed, "truth.<rule>")``): same population,
seed and ``as_of`` give identical tables and byte-identical files.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jiuzhu.feeds.schema import catalogue
from jiuzhu.synth.population import (
    CATEGORIES,
    DISABILITY,
    EDUCATION,
    EMPLOYMENT,
    LABOUR,
    Parameters,
    _days,
    _digits,
    _int_strings,
    _join,
    _rng,
    _strings_from_bytes,
    _take,
    _within,
    _ymd,
)

Arr = npt.NDArray[Any]
ProgressFn = Callable[[str], None]

FEEDS_VERSION = 1
FEEDS_DIR = "feeds"
TRUTH_DIR = "truth"
TRUTH_FILE = "truth.parquet"
MANIFEST = "manifest.json"

WINDOW_DAYS = 365  # feeds cover [as_of − 365 days, as_of)
MONEY = pa.decimal128(18, 2)
_NONE = -1
_NEVER = np.iinfo(np.int64).max

FEED_IDS = (
    "business_registration",
    "death",
    "disability_registration",
    "housing_safety",
    "medical_settlement",
    "property_registration",
    "school_status",
    "social_insurance_contribution",
    "unemployment_registration",
    "vehicle_registration",
    "water_meter_reading",
)
# Feeds in the order their stages report to ``progress``.
FEED_STAGES = ("context", "planted", "background", "water", "tables", "truth")

RULES = (
    "medical_burden",
    "serious_disease",
    "working_age_death",
    "severe_disability",
    "unemployment_dependants",
    "income_below_standard",
    "rigid_expenditure",
    "school_hardship",
    "unsafe_housing",
    "water_anomaly",
    "enrolled_new_assets",
    "hardship_score",
)
EXPECTED = ("warn", "no_warn")
KINDS = ("planted", "near_miss", "registry")
LEVELS = ("red", "yellow", "blue")
RED, YELLOW, BLUE = range(3)

TRUTH_SCHEMA = pa.schema(
    [
        ("household_key", pa.int64()),
        ("person_key", pa.int64()),
        ("rule", pa.string()),
        ("expected", pa.string()),
        ("kind", pa.string()),
        ("level", pa.string()),
        ("event_date", pa.date32()),
        ("note", pa.string()),
    ]
)

# -- The default parameters of the rule pack (docs/monitoring-rules.md) -------------------
MEDICAL_MIN_AMOUNT = 10_000.0
MEDICAL_SHARE = 0.5
MEDICAL_RED_SHARE = 1.0
SERIOUS_CODES = [
    "C15", "C16", "C18", "C20", "C22", "C25", "C34", "C50", "C53", "C56",
    "C61", "C67", "C71", "C91", "C92", "D61", "F20", "F31", "G12", "G35",
    "I21", "I42", "I61", "I63", "N18", "Q20", "Q21", "Q22", "Q23", "Q24",
]  # fmt: skip
SERIOUS_RED_AMOUNT = 20_000.0
DEATH_MIN_AGE, DEATH_MAX_AGE = 16, 60
SEVERE_GRADE, MENTAL_GRADE = 2, 4
SCHOOL_MIN_OWED = 500.0
ELDER_AGE, LOOKBACK_DAYS, LOW_LITRES, HIGH_LITRES = 70, 30, 10.0, 1000.0
MARGINAL_FACTOR = 1.5
RED_LINE_PERCENT, BLUE_LINE_PERCENT = 3, 10
ASSISTED = ("dibao", "tekun_centralised", "tekun_dispersed")

# -- Volumes: rows a household a year at ``records_per_household = 10`` ------------------
# Each scales linearly with records_per_household / 10. Deaths follow age-specific
# mortality (≈ 0.03 a household) scaled the same way.
VOLUMES = {
    "water_meter_reading": 3.5,
    "social_insurance_contribution": 3.0,
    "medical_settlement": 2.5,
    "school_status": 0.5,
    "housing_safety": 0.3,
    "vehicle_registration": 0.07,
    "property_registration": 0.04,
    "business_registration": 0.03,
    "disability_registration": 0.03,
    "unemployment_registration": 0.03,
}
DEFAULT_RECORDS_PER_HOUSEHOLD = 10.0
PLANTED_RATE = 0.002  # households a rule (water: 0.001, the meters are few)
MIN_PLANTED = 6  # so that even 2 000 households carry every rule at both levels

# -- Codes ---------------------------------------------------------------------------------
CARE = ("inpatient", "outpatient", "chronic_outpatient")
INPATIENT, OUTPATIENT, CHRONIC = range(3)
# Background inpatient stays: none of them in the serious-disease list.
INPATIENT_CODES = {
    "child": ["J18.9", "K35.8", "A09", "J20.9", "S52.5"],
    "adult": ["K35.8", "K80.2", "N20.0", "J18.9", "S82.1", "K40.9", "M51.1"],
    "elder": ["J18.9", "I25.1", "J44.1", "I50.9", "S72.0", "M17.1", "K80.2", "E11.5"],
    "birth": ["O80", "O82.0"],
}
OUTPATIENT_CODES = ["J06.9", "J20.9", "K29.7", "M54.5", "A09", "R50.9", "L30.9", "H10.9", "K02.9"]
# Medical-burden plantings: large bills that are not on the serious-disease list.
BURDEN_CODES = ["M17.1", "S72.0", "I25.1", "K80.1", "J44.1", "I50.9", "M16.1", "N20.0"]
BURDEN_EARLY_CODES = ["I10", "E11.9", "M17.9", "K29.5", "J44.9"]
SERIOUS_SUBCODE = {
    "C34": "C34.9",
    "C16": "C16.9",
    "C22": "C22.0",
    "C18": "C18.7",
    "C50": "C50.9",
    "C53": "C53.9",
    "C91": "C91.0",
    "Q21": "Q21.1",
    "D61": "D61.9",
    "I63": "I63.9",
    "I61": "I61.9",
    "I21": "I21.9",
    "F20": "F20.0",
    "F31": "F31.9",
    "N18": "N18.5",
}
DEATH_CAUSES = ["I63.9", "I61.9", "I21.9", "C34.9", "C16.9", "J44.9", "I50.9", "G30.9", "C22.9"]
WORKING_AGE_CAUSES = ["V89.2", "W19", "I21.9", "C22.9", "I61.9", "K74.6", "W69"]
STAGES = ("preschool", "primary", "junior", "senior", "vocational", "college")
PRESCHOOL, PRIMARY, JUNIOR, SENIOR, VOCATIONAL, COLLEGE = range(6)
SCHOOL_STATUS = ("enrolled", "fee_arrears", "dropped_out", "graduated")
ENROLLED, ARREARS, DROPPED, GRADUATED = range(4)
SCHOOLS = {
    PRESCHOOL: ["示例幼儿园（虚构）", "示例第二幼儿园（虚构）"],
    PRIMARY: [f"示例第{n}小学（虚构）" for n in "一二三四五六"],
    JUNIOR: [f"示例第{n}中学（虚构）" for n in "一二三"],
    SENIOR: ["示例高级中学（虚构）", "示例第二高级中学（虚构）"],
    VOCATIONAL: ["示例职业中等专业学校（虚构）"],
    COLLEGE: ["示例职业技术学院（虚构）", "示例师范学院（虚构）", "示例大学（虚构）"],
}
RATINGS = ("A", "B", "C", "D")
DISABILITY_ACTIONS = ("issued", "reassessed", "cancelled")
# Digit of the disability kind in a certificate number (ID number + kind + grade).
_DISABILITY_DIGIT = {
    "visual": 1,
    "hearing": 2,
    "speech": 3,
    "physical": 4,
    "intellectual": 5,
    "mental": 6,
    "multiple": 7,
}
UNEMPLOYMENT_ACTIONS = ("registered", "ended")
VEHICLE_ACTIONS = ("registered", "transferred_in", "transferred_out", "scrapped")
VEHICLE_KINDS = ("car", "truck", "motorcycle", "tricycle", "tractor", "other")
CAR, TRUCK, MOTORCYCLE, TRICYCLE, TRACTOR, OTHER_VEHICLE = range(6)
PROPERTY_ACTIONS = ("acquired", "removed")
PROPERTY_USES = ("residential", "commercial", "industrial", "other")
BUSINESS_ACTIONS = ("registered", "closed")
BUSINESS_KINDS = ("company", "individual", "cooperative")
COMPANY, INDIVIDUAL, COOPERATIVE = range(3)
SCHEMES = ("employee_pension", "resident_pension", "unemployment")
EMPLOYERS = [
    "示例机械制造有限公司（虚构）",
    "示例食品有限公司（虚构）",
    "示例建筑工程有限公司（虚构）",
    "示例物流有限公司（虚构）",
    "示例商贸有限公司（虚构）",
    "示例农业开发有限公司（虚构）",
    "示例电子科技有限公司（虚构）",
    "示例医院（虚构）",
    "示例中学（虚构）",
    "示例镇人民政府（虚构）",
]
MIGRANT_EMPLOYERS = [
    "广东示例电子有限公司（虚构）",
    "浙江示例服装有限公司（虚构）",
    "福建示例鞋业有限公司（虚构）",
    "上海示例物流有限公司（虚构）",
]
WAGE_BASE_FLOOR, WAGE_BASE_CEILING = 4_200.0, 21_000.0  # yuan a month (assumption)

# Province abbreviations for plates and property certificates; Jiangxi's city letters.
_PROVINCE = {
    "11": "京",
    "12": "津",
    "13": "冀",
    "14": "晋",
    "15": "蒙",
    "21": "辽",
    "22": "吉",
    "23": "黑",
    "31": "沪",
    "32": "苏",
    "33": "浙",
    "34": "皖",
    "35": "闽",
    "36": "赣",
    "37": "鲁",
    "41": "豫",
    "42": "鄂",
    "43": "湘",
    "44": "粤",
    "45": "桂",
    "46": "琼",
    "50": "渝",
    "51": "川",
    "52": "贵",
    "53": "云",
    "54": "藏",
    "61": "陕",
    "62": "甘",
    "63": "青",
    "64": "宁",
    "65": "新",
}
_CITY_LETTER = {
    "3601": "A",
    "3602": "H",
    "3603": "J",
    "3604": "G",
    "3605": "K",
    "3606": "L",
    "3607": "B",
    "3608": "D",
    "3609": "C",
    "3610": "F",
    "3611": "E",
}
_PLATE_CHARS = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", dtype=np.uint8)
_CREDIT_CHARS = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
_CREDIT_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])
# Share of a day's water drawn in each hour (morning and evening peaks).
_HOURLY_PROFILE = np.array(
    [1, 0.5, 0.5, 0.5, 0.8, 2, 6, 9, 7, 5, 4, 4, 6, 5, 3, 3, 3, 4, 7, 8, 6, 4, 2, 1.5]
)


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _decimal(values: Arr, valid: Arr | None = None) -> pa.Array:
    """decimal128(18, 2) from float yuan (or litres, m²), built from the 16-byte words."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64))
    cents = np.round(v * 100).astype(np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63
    mask = None
    if valid is not None:
        mask = pa.array(np.asarray(valid, dtype=bool)).buffers()[1]
    return pa.Array.from_buffers(MONEY, len(cents), [mask, pa.py_buffer(words)])


def _date_array(days: Arr, valid: Arr | None = None) -> pa.Array:
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(days, dtype=np.int32), pa.date32(), mask=mask)


def _take_nullable(vocab: Sequence[str], index: Arr) -> pa.Array:
    """Strings from ``vocab``; a negative index gives null (an optional column left empty)."""
    index = np.asarray(index, dtype=np.int64)
    missing = index < 0
    positions = pa.array(np.where(missing, 0, index), mask=missing)
    return pc.take(pa.array(list(vocab), pa.string()), positions)


def _ascii(matrix: Arr) -> pa.Array:
    return pc.cast(_strings_from_bytes(matrix), pa.string())


def _ages(birth: Arr, *days: int) -> list[Arr]:
    """Whole years on each of ``days`` (the birthday itself counts)."""
    by, bm, bd = _ymd(np.asarray(birth))
    birthday = bm * 100 + bd
    out = []
    for day in days:
        dy, dm, dd = (int(v[0]) for v in _ymd(np.array([day])))
        out.append(dy - by - (dm * 100 + dd < birthday))
    return out


def _uniform_days(rng: np.random.Generator, low: Arr | int, high: Arr | int, n: int) -> Arr:
    """A day in ``[low, high]`` (both inclusive) for each of ``n`` rows."""
    low_a = np.broadcast_to(np.asarray(low, dtype=np.int64), (n,))
    high_a = np.broadcast_to(np.asarray(high, dtype=np.int64), (n,))
    span = np.maximum(high_a - low_a + 1, 1)
    return low_a + np.floor(rng.random(n) * span).astype(np.int64)


def _count(n_hh: int, rate: float = PLANTED_RATE) -> int:
    return max(MIN_PLANTED, round(rate * n_hh))


def _split_count(total: int, parts: int) -> list[int]:
    """``total`` over ``parts`` kinds, each at least one."""
    base = [total // parts + (1 if i < total % parts else 0) for i in range(parts)]
    return [max(1, b) for b in base]


def _random_subset(rng: np.random.Generator, n: int, count: int) -> Arr:
    """Positions of ``count`` of ``n`` items, in random order and without repeats (a
    partial sort of random keys: no full permutation of millions of candidates)."""
    count = max(0, min(count, n))
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    keys = rng.random(n)
    part = np.argpartition(keys, count - 1)[:count] if count < n else np.arange(n)
    return part[np.argsort(keys[part], kind="stable")]


def _last_date(as_of: date, month: int, day: int) -> date:
    """The last ``month``/``day`` strictly before ``as_of``."""
    candidate = date(as_of.year, month, day)
    return candidate if candidate < as_of else date(as_of.year - 1, month, day)


class _Parts:
    """Rows of one table collected in parts, with declared columns and defaults."""

    def __init__(self, **columns: tuple[type | str, float | int]) -> None:
        self.columns = columns
        self.chunks: dict[str, list[Arr]] = {name: [] for name in columns}

    def add(self, **values: Arr | float | int) -> None:
        sizes = [np.size(v) for v in values.values() if np.ndim(v) > 0]
        size = max(sizes) if sizes else 1
        if size == 0:
            return
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        for name, (dtype, default) in self.columns.items():
            value = values.get(name, default)
            array = np.asarray(value, dtype=dtype)
            if array.ndim == 0:
                array = np.full(size, array, dtype=dtype)
            self.chunks[name].append(array)

    def arrays(self) -> dict[str, Arr]:
        return {
            name: (np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype))
            for (name, chunks), (dtype, _d) in zip(
                self.chunks.items(), self.columns.values(), strict=True
            )
        }


# --------------------------------------------------------------------------------------
# What the generator needs to know about the population
# --------------------------------------------------------------------------------------


def _index_in(values: pa.Array | pa.ChunkedArray, vocab: Sequence[str]) -> Arr:
    found = pc.index_in(values, value_set=pa.array(list(vocab), pa.string()))
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _float(values: pa.Array | pa.ChunkedArray) -> Arr:
    return np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False))


def _int(values: pa.Array | pa.ChunkedArray, null: int = _NONE) -> Arr:
    return np.asarray(
        pc.fill_null(pc.cast(values, pa.int64()), null).to_numpy(zero_copy_only=False)
    )


def _day_numbers(values: pa.Array | pa.ChunkedArray) -> Arr:
    return _int(pc.cast(values, pa.int32()), null=_NONE)


@dataclass
class _Ctx:
    """Population arrays: person level (``n_p``) and household level (``n_hh``)."""

    as_of: int  # day number of as_of
    start: int  # first day of the window
    as_of_date: date
    county: str
    p_hh: Arr
    birth: Arr
    age_lo: Arr  # age on the first day of the window
    age_hi: Arr  # age on as_of (no event in the window is later)
    male: Arr
    dis_type: Arr  # index into DISABILITY, -1 none
    dis_grade: Arr  # 0 none
    employment: Arr
    labour: Arr
    education: Arr
    serious_code: Arr  # index into SERIOUS_CODES of a registry serious illness, -1 none
    any_serious: Arr
    ill_person: Arr  # the registry's illnesses: person, code (index into ill_vocab), serious
    ill_code: Arr
    ill_vocab: list[str]
    ill_serious: Arr
    alive: Arr  # not deceased in the registry: the household's members
    wages: Arr  # annual wages (incomes.kind = wages) of each person
    ids: pa.Array
    members: Arr  # living members
    order: Arr  # persons sorted by household
    first: Arr  # position in ``order`` of each household's first member
    head: Arr
    urban: Arr
    standard: Arr
    income: Arr
    medical_exp: Arr  # registry expenditures of the income year
    education_exp: Arr
    has_house: Arr
    active_any: Arr
    active_assisted: Arr
    active_marginal: Arr
    active_rigid: Arr
    asset_rule_any: Arr  # an assisted or dibao_marginal enrolment of any status
    qualifying_start: Arr  # latest start of an active assisted/marginal enrolment
    enrolled_any: Arr  # any enrolment at all, any status
    hh_number: pa.Array
    region_code: pa.Array

    @property
    def n_p(self) -> int:
        return len(self.p_hh)

    @property
    def n_hh(self) -> int:
        return len(self.members)

    def per_household(self, values: Arr) -> Arr:
        return np.bincount(self.p_hh, weights=values, minlength=self.n_hh)

    def member(self, hh: Arr, rank: Arr) -> Arr:
        """The ``rank``-th member (0-based) of each household in ``hh``."""
        return np.asarray(self.order[self.first[hh] + rank], dtype=np.int64)


def _context(population: dict[str, pa.Table], as_of: date) -> _Ctx:
    params = Parameters()
    households = population["households"]
    persons = population["persons"]
    n_hh, n_p = households.num_rows, persons.num_rows
    hh_key = _int(households["household_key"])
    p_key = _int(persons["person_key"])
    if not np.array_equal(hh_key, np.arange(1, n_hh + 1)):
        raise ValueError("households must be keyed 1..n in order (as population.py writes them)")
    if not np.array_equal(p_key, np.arange(1, n_p + 1)):
        raise ValueError("persons must be keyed 1..n in order (as population.py writes them)")
    as_of_days = _days(as_of)
    start = as_of_days - WINDOW_DAYS
    p_hh = _int(persons["household_key"]) - 1
    birth = _day_numbers(persons["birth_date"])
    alive = ~persons["is_deceased"].to_numpy(zero_copy_only=False).astype(bool)
    listed = np.bincount(p_hh, minlength=n_hh)
    order = np.argsort(p_hh, kind="stable")
    first = np.concatenate([[0], np.cumsum(listed)[:-1]]).astype(np.int64)
    head = order[np.minimum(first, max(n_p - 1, 0))] if n_p else np.zeros(n_hh, np.int64)
    is_head = np.flatnonzero(pc.equal(persons["relationship"], "head").to_numpy(False))
    head[p_hh[is_head]] = is_head
    urban = pc.equal(households["area_type"], "urban").to_numpy(zero_copy_only=False)
    standard = np.where(urban, params.dibao_standard_urban, params.dibao_standard_rural).astype(
        np.float64
    )

    # Income: the latest income year of each household (docs/monitoring-rules.md).
    incomes = population["incomes"]
    inc_hh = _int(incomes["household_key"]) - 1
    inc_year = _int(incomes["year"])
    inc_amount = _float(incomes["annual_amount"])
    latest = np.full(n_hh, _NONE, dtype=np.int64)
    np.maximum.at(latest, inc_hh, inc_year)
    in_latest = inc_year == latest[inc_hh]
    income = np.bincount(inc_hh, weights=inc_amount * in_latest, minlength=n_hh)
    inc_person = _int(incomes["person_key"]) - 1
    is_wage = (inc_person >= 0) & (_index_in(incomes["kind"], ["wages"]) == 0)
    wages = np.bincount(
        inc_person[is_wage], weights=inc_amount[is_wage] * in_latest[is_wage], minlength=n_p
    )

    expenditures = population["expenditures"]
    ex_hh = _int(expenditures["household_key"]) - 1
    ex_year = _int(expenditures["year"])
    ex_kind = _index_in(expenditures["kind"], ["medical", "education"])
    ex_amount = _float(expenditures["amount"]) * (ex_year == latest[ex_hh])
    medical_exp = np.bincount(ex_hh, weights=ex_amount * (ex_kind == 0), minlength=n_hh)
    education_exp = np.bincount(ex_hh, weights=ex_amount * (ex_kind == 1), minlength=n_hh)

    illnesses = population["illnesses"]
    ill_person = _int(illnesses["person_key"]) - 1
    ill_listed = _index_in(pc.utf8_slice_codeunits(illnesses["icd10"], 0, 3), SERIOUS_CODES)
    ill_serious = illnesses["is_serious"].to_numpy(zero_copy_only=False).astype(bool)
    ill_dict = pc.dictionary_encode(illnesses["icd10"]).combine_chunks()
    serious_code = np.full(n_p, _NONE, dtype=np.int64)
    listed_rows = ill_serious & (ill_listed >= 0)
    serious_code[ill_person[listed_rows]] = ill_listed[listed_rows]
    any_serious = np.zeros(n_p, dtype=bool)
    any_serious[ill_person[ill_serious]] = True

    assets = population["assets"]
    has_house = np.zeros(n_hh, dtype=bool)
    house_rows = _index_in(assets["kind"], ["housing"]) == 0
    has_house[_int(assets["household_key"])[house_rows] - 1] = True

    enrolments = population["enrolments"]
    en_hh = _int(enrolments["household_key"]) - 1
    en_cat = _index_in(enrolments["category"], CATEGORIES)
    en_active = _index_in(enrolments["status"], ["active"]) == 0
    en_start = _day_numbers(enrolments["start_date"])
    assisted = np.isin(en_cat, [CATEGORIES.index(c) for c in ASSISTED])
    marginal = en_cat == CATEGORIES.index("dibao_marginal")
    rigid = en_cat == CATEGORIES.index("rigid_expenditure")

    def flag(rows: Arr) -> Arr:
        out = np.zeros(n_hh, dtype=bool)
        out[en_hh[rows]] = True
        return out

    qualifying = en_active & (assisted | marginal)
    qualifying_start = np.full(n_hh, _NONE, dtype=np.int64)
    np.maximum.at(qualifying_start, en_hh[qualifying], en_start[qualifying])

    dis_grade = _int(persons["disability_grade"], null=0)
    age_lo, age_hi = _ages(birth, start, as_of_days)
    return _Ctx(
        as_of=as_of_days,
        start=start,
        as_of_date=as_of,
        county=str(households["region_code"][0].as_py())[:6] if n_hh else "360823",
        p_hh=p_hh,
        birth=birth,
        age_lo=age_lo,
        age_hi=age_hi,
        male=pc.equal(persons["sex"], "M").to_numpy(zero_copy_only=False),
        dis_type=np.where(dis_grade > 0, _index_in(persons["disability_type"], DISABILITY), -1),
        dis_grade=dis_grade,
        employment=_index_in(persons["employment"], EMPLOYMENT),
        labour=_index_in(persons["labour_capacity"], LABOUR),
        education=_index_in(persons["education"], EDUCATION),
        serious_code=serious_code,
        any_serious=any_serious,
        ill_person=ill_person,
        ill_code=np.asarray(ill_dict.indices.to_numpy(zero_copy_only=False), dtype=np.int64),
        ill_vocab=[str(c) for c in ill_dict.dictionary.to_pylist()],
        ill_serious=ill_serious,
        alive=alive,
        wages=wages,
        ids=pc.cast(persons["id_number"].combine_chunks(), pa.string()),
        members=np.bincount(p_hh, weights=alive, minlength=n_hh).astype(np.int64),
        order=order,
        first=first,
        head=head,
        urban=urban,
        standard=standard,
        income=income,
        medical_exp=medical_exp,
        education_exp=education_exp,
        has_house=has_house,
        active_any=flag(en_active),
        active_assisted=flag(en_active & assisted),
        active_marginal=flag(en_active & marginal),
        active_rigid=flag(en_active & rigid),
        asset_rule_any=flag(assisted | marginal),
        qualifying_start=qualifying_start,
        enrolled_any=flag(np.ones(len(en_hh), dtype=bool)),
        hh_number=pc.cast(households["number"].combine_chunks(), pa.string()),
        region_code=pc.cast(households["region_code"].combine_chunks(), pa.string()),
    )


# --------------------------------------------------------------------------------------
# The plan: truth rows, feed rows, and who is already spoken for
# --------------------------------------------------------------------------------------


def _feed_parts() -> dict[str, _Parts]:
    i8, i64, f8 = "int8", "int64", "float64"
    return {
        "medical_settlement": _Parts(
            person=(i64, 0), day=(i64, 0), care=(i8, 0), code=(i64, 0), total=(f8, 0), oop=(f8, 0)
        ),
        "social_insurance_contribution": _Parts(
            person=(i64, 0), day=(i64, 0), scheme=(i8, 0), base=(f8, np.nan), employer=(i64, -1)
        ),
        "school_status": _Parts(
            person=(i64, 0),
            day=(i64, 0),
            stage=(i8, 0),
            status=(i8, 0),
            owed=(f8, np.nan),
            school=(i64, -1),
        ),
        "housing_safety": _Parts(hh=(i64, 0), person=(i64, 0), day=(i64, 0), rating=(i8, 0)),
        "death": _Parts(person=(i64, 0), day=(i64, 0), cause=(i64, -1)),
        "disability_registration": _Parts(
            person=(i64, 0), day=(i64, 0), action=(i8, 0), type=(i8, 0), grade=(i8, 0)
        ),
        "unemployment_registration": _Parts(person=(i64, 0), day=(i64, 0), action=(i8, 0)),
        "vehicle_registration": _Parts(
            person=(i64, 0), day=(i64, 0), action=(i8, 0), kind=(i8, 0), price=(f8, np.nan)
        ),
        "property_registration": _Parts(
            person=(i64, 0),
            day=(i64, 0),
            action=(i8, 0),
            use=(i8, 0),
            area=(f8, 0),
            region=(bool, True),
        ),
        "business_registration": _Parts(
            person=(i64, 0), day=(i64, 0), action=(i8, 0), kind=(i8, 0), capital=(f8, np.nan)
        ),
    }


@dataclass
class _Plan:
    ctx: _Ctx
    seed: int
    scale: float  # records_per_household / 10
    taken: Arr  # households holding a planted or near-miss event
    truth: _Parts = field(
        default_factory=lambda: _Parts(
            hh=("int64", 0),
            person=("int64", _NONE),
            rule=("int8", 0),
            expected=("int8", 0),
            kind=("int8", 0),
            level=("int8", _NONE),
            day=("int64", _NONE),
            note=("int64", 0),
        )
    )
    notes: dict[str, int] = field(default_factory=dict)
    icd: dict[str, int] = field(default_factory=dict)  # ICD-10 codes of the medical feed
    parts: dict[str, _Parts] = field(default_factory=_feed_parts)
    meters: _Parts = field(
        default_factory=lambda: _Parts(
            hh=("int64", 0),
            hourly=(bool, False),
            first=("int64", 0),
            ep_start=("int64", _NONE),
            ep_len=("int64", 0),
            ep_kind=("int8", 0),
            truth=(bool, True),
        )
    )
    no_background_medical: Arr = field(default_factory=lambda: np.zeros(0, dtype=bool))
    school_truth: Arr = field(default_factory=lambda: np.zeros(0, dtype=bool))
    stop_contributions: Arr = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        self.no_background_medical = np.zeros(self.ctx.n_hh, dtype=bool)
        self.school_truth = np.zeros(self.ctx.n_p, dtype=bool)
        self.stop_contributions = np.full(self.ctx.n_p, _NEVER, dtype=np.int64)

    def rng(self, stream: str) -> np.random.Generator:
        return _rng(self.seed, stream)

    # -- choosing households and people ---------------------------------------------------

    def households(self, rng: np.random.Generator, mask: Arr, count: int) -> Arr:
        """Up to ``count`` random households from ``mask`` not yet holding an event."""
        cand = np.flatnonzero(mask & ~self.taken)
        chosen = cand[_random_subset(rng, len(cand), count)]
        self.taken[chosen] = True
        return chosen

    def people(self, rng: np.random.Generator, mask: Arr, count: int) -> Arr:
        """Up to ``count`` random persons from ``mask``, one a household, not yet taken."""
        p_hh = self.ctx.p_hh
        cand = np.flatnonzero(mask & self.ctx.alive & ~self.taken[p_hh])
        if count <= 0 or len(cand) == 0:
            return np.zeros(0, dtype=np.int64)
        # A random prefix big enough to hold ``count`` distinct households.
        cand = cand[_random_subset(rng, len(cand), 8 * count + 1000)]
        _u, first = np.unique(p_hh[cand], return_index=True)
        chosen = cand[np.sort(first)][:count]
        self.taken[p_hh[chosen]] = True
        return chosen

    # -- truth ----------------------------------------------------------------------------

    def add_truth(
        self,
        rule: str,
        kind: str,
        note: str,
        *,
        hh: Arr | None = None,
        person: Arr | int = _NONE,
        level: Arr | int = _NONE,
        day: Arr | int = _NONE,
    ) -> None:
        """One row of planted truth per household; ``hh`` defaults to the households of
        ``person``."""
        if hh is None:
            hh = self.ctx.p_hh[person]
        if np.size(hh) == 0:
            return
        self.truth.add(
            hh=hh,
            person=person,
            rule=RULES.index(rule),
            expected=EXPECTED.index("no_warn" if kind == "near_miss" else "warn"),
            kind=KINDS.index(kind),
            level=level,
            day=day,
            note=self.notes.setdefault(note, len(self.notes)),
        )


# --------------------------------------------------------------------------------------
# Robust household composition (see the module docstring)
# --------------------------------------------------------------------------------------


@dataclass
class _Composition:
    """Per person: counts of the *other* members that are dependants (< 18 or ≥ 60) or of
    working age (18–59) on every day of the window and on as_of alike, and of those that
    cross 18 or 60 during it (``ambiguous``: avoided when planting levels)."""

    dependant: Arr
    working: Arr
    ambiguous: Arr
    others_dependant: Arr
    others_working: Arr
    others_ambiguous: Arr


def _composition(ctx: _Ctx) -> _Composition:
    dependant = ctx.alive & ((ctx.age_hi < 18) | (ctx.age_lo >= 60))
    working = ctx.alive & (ctx.age_lo >= 18) & (ctx.age_hi < 60)
    ambiguous = ctx.alive & ~(dependant | working)
    out = []
    for flags in (dependant, working, ambiguous):
        per_hh = ctx.per_household(flags.astype(np.float64)).astype(np.int64)
        out.append(per_hh[ctx.p_hh] - flags)
    return _Composition(dependant, working, ambiguous, out[0], out[1], out[2])


# --------------------------------------------------------------------------------------
# Planted events and near-misses, one function a rule
# --------------------------------------------------------------------------------------


def _medical_series(
    plan: _Plan,
    rng: np.random.Generator,
    hh: Arr,
    person: Arr,
    total: Arr,
    last_care: int,
    last_codes: Sequence[str],
) -> Arr:
    """2–3 settlements a household adding up to ``total`` out of pocket, the last one big.

    The earlier ones sum to 10–30 % of the total, so the running total meets a threshold
    only at the last settlement and the level read at that moment equals the level read
    over the whole window. Returns the day of the last settlement.
    """
    ctx = plan.ctx
    n = len(hh)
    k = rng.integers(2, 4, n)
    owner, rank = _within(k)
    last_day = _uniform_days(rng, ctx.start + 60, ctx.as_of - 1, n)
    is_last = rank == k[owner] - 1
    jitter = rng.integers(0, 10, len(owner))
    day = last_day[owner] - (k[owner] - 1 - rank) * 14 - np.where(is_last, 0, jitter)
    early_share = rng.uniform(0.1, 0.3, n)
    weights = rng.uniform(0.5, 1.5, len(owner)) * ~is_last
    weight_sum = np.bincount(owner, weights=weights, minlength=n)
    early = total[owner] * early_share[owner] * weights / np.maximum(weight_sum[owner], 1e-9)
    early = np.round(early, 2)
    early_total = np.bincount(owner, weights=early, minlength=n)
    oop = np.where(is_last, np.round(total[owner] - early_total[owner], 2), early)
    codes = [*last_codes, *BURDEN_EARLY_CODES]
    code = np.where(
        is_last,
        rng.integers(0, len(last_codes), len(owner)),
        len(last_codes) + rng.integers(0, len(BURDEN_EARLY_CODES), len(owner)),
    )
    care = np.where(is_last, last_care, np.where(rng.random(len(owner)) < 0.5, OUTPATIENT, CHRONIC))
    _add_settlements(plan, person[owner], day, care, _code_ids(plan, codes)[code], oop, rng)
    plan.no_background_medical[hh] = True
    return last_day


def _code_ids(plan: _Plan, codes: Sequence[str]) -> Arr:
    """Indices of ICD-10 codes in the medical feed's code vocabulary (grown as needed)."""
    return np.array([plan.icd.setdefault(c, len(plan.icd)) for c in codes], dtype=np.int64)


def _add_settlements(
    plan: _Plan,
    person: Arr,
    day: Arr,
    care: Arr | int,
    code: Arr,
    oop: Arr,
    rng: np.random.Generator,
) -> None:
    care_a = np.broadcast_to(np.asarray(care), (len(person),))
    share = np.select(
        [care_a == INPATIENT, care_a == OUTPATIENT],
        [rng.uniform(0.3, 0.5, len(person)), rng.uniform(0.35, 0.7, len(person))],
        rng.uniform(0.2, 0.5, len(person)),
    )
    total = np.round(oop / share, 2)
    plan.parts["medical_settlement"].add(
        person=person, day=day, care=care_a, code=code, total=np.maximum(total, oop), oop=oop
    )


def _random_member(plan: _Plan, rng: np.random.Generator, hh: Arr, adults: bool = True) -> Arr:
    """A random member of each household (an adult when there is one)."""
    ctx = plan.ctx
    rank = np.floor(rng.random(len(hh)) * ctx.members[hh]).astype(np.int64)
    person = ctx.member(hh, rank)
    if adults:
        child = ctx.age_hi[person] < 18
        person = np.where(child, ctx.head[hh], person)
    return person


def _plant_medical_burden(plan: _Plan) -> None:
    ctx, rng, rule = plan.ctx, plan.rng("truth.medical_burden"), "medical_burden"
    n = _count(ctx.n_hh)
    income = ctx.income
    # Red: out of pocket ≥ income (and ≥ 10 000); yellow: between max(10 000, half the
    # income) and the income, with a 10 % margin on every side.
    red = plan.households(rng, income <= 100_000, math.ceil(n / 2))
    yellow = plan.households(rng, (income >= 25_000) & (income <= 150_000), n - len(red))
    red_total = np.round(
        np.maximum(MEDICAL_MIN_AMOUNT, income[red]) * rng.uniform(1.1, 1.5, len(red))
    )
    low = np.maximum(MEDICAL_MIN_AMOUNT, MEDICAL_SHARE * income[yellow]) * 1.1
    high = 0.9 * MEDICAL_RED_SHARE * income[yellow]
    yellow_total = np.round(low + (high - low) * rng.random(len(yellow)))
    for hh, total, level in ((red, red_total, RED), (yellow, yellow_total, YELLOW)):
        person = _random_member(plan, rng, hh)
        day = _medical_series(plan, rng, hh, person, total, INPATIENT, BURDEN_CODES)
        note = (
            "out-of-pocket in the window at least the household income"
            if level == RED
            else "out-of-pocket in the window at least 10 000 and half the income, below it"
        )
        plan.add_truth(rule, "planted", note, hh=hh, person=person, level=level, day=day)

    # Near-misses: a share of 0.25–0.4 of the income above 10 000 yuan; or 8 000–9 800
    # yuan (below the minimum) in a poor household, where the share would be met.
    share_n, small_n = _split_count(n, 2)
    hh = plan.households(rng, (income >= 35_000) & (income <= 80_000), share_n)
    spent: Arr = np.round(np.maximum(10_500.0, income[hh] * rng.uniform(0.25, 0.4, len(hh))))
    person = _random_member(plan, rng, hh)
    day = _medical_series(plan, rng, hh, person, spent, INPATIENT, BURDEN_CODES)
    plan.add_truth(
        rule,
        "near_miss",
        "out-of-pocket above 10 000 but under half the income",
        hh=hh,
        person=person,
        day=day,
    )
    hh = plan.households(rng, income < 15_000, small_n)
    spent = np.round(rng.uniform(8_000, 9_800, len(hh)))
    person = _random_member(plan, rng, hh)
    day = _medical_series(plan, rng, hh, person, spent, INPATIENT, BURDEN_CODES)
    plan.add_truth(
        rule,
        "near_miss",
        "out-of-pocket over half the income but under 10 000",
        hh=hh,
        person=person,
        day=day,
    )


def _plant_serious_disease(plan: _Plan) -> None:
    ctx, rng, rule = plan.ctx, plan.rng("truth.serious_disease"), "serious_disease"
    n = _count(ctx.n_hh)
    listed = ctx.serious_code >= 0
    rich = (ctx.income >= 55_000)[ctx.p_hh]
    # Red stays (≥ 20 000 out of pocket) go to households earning at least 2.3 times the
    # bill, so that the stay does not also meet medical_burden; yellow stays cost under
    # 10 000, below medical_burden's minimum.
    red = plan.people(rng, listed & rich, math.ceil(n / 2))
    yellow = plan.people(rng, listed, n - len(red))
    red_cap = np.minimum(45_000, ctx.income[ctx.p_hh[red]] / 2.3)
    red_oop = np.round(22_000 + (red_cap - 22_000) * rng.random(len(red)))
    yellow_oop = np.round(rng.uniform(3_000, 9_500, len(yellow)))
    codes = [SERIOUS_SUBCODE.get(c, c + ".9") for c in SERIOUS_CODES]
    for person, oop, level in ((red, red_oop, RED), (yellow, yellow_oop, YELLOW)):
        day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(person))
        code = _code_ids(plan, codes)[ctx.serious_code[person]]
        _add_settlements(plan, person, day, INPATIENT, code, oop, rng)
        plan.no_background_medical[ctx.p_hh[person]] = True
        note = (
            "inpatient stay for a listed serious disease, out-of-pocket at least 20 000"
            if level == RED
            else "inpatient stay for a listed serious disease, out-of-pocket under 20 000"
        )
        plan.add_truth(rule, "planted", note, person=person, level=level, day=day)

    pneumonia_n, outpatient_n = _split_count(n, 2)
    person = plan.people(rng, ctx.age_hi >= 1, pneumonia_n)
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(person))
    oop = np.round(rng.uniform(1_500, 6_000, len(person)))
    _add_settlements(
        plan,
        person,
        day,
        INPATIENT,
        _code_ids(plan, ["J18.9"])[np.zeros(len(person), np.int64)],
        oop,
        rng,
    )
    plan.no_background_medical[ctx.p_hh[person]] = True
    plan.add_truth(
        rule,
        "near_miss",
        "inpatient stay for J18 pneumonia (not a listed disease)",
        person=person,
        day=day,
    )
    person = plan.people(rng, listed, outpatient_n)
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(person))
    oop = np.round(rng.uniform(500, 3_000, len(person)))
    code = _code_ids(plan, codes)[ctx.serious_code[person]]
    _add_settlements(plan, person, day, CHRONIC, code, oop, rng)
    plan.no_background_medical[ctx.p_hh[person]] = True
    plan.add_truth(
        rule,
        "near_miss",
        "listed serious disease treated as a chronic outpatient",
        person=person,
        day=day,
    )


def _plant_working_age_death(plan: _Plan, comp: _Composition) -> None:
    ctx, rng, rule = plan.ctx, plan.rng("truth.working_age_death"), "working_age_death"
    n = _count(ctx.n_hh)
    # Aged 18–57 on every day of the window: 16 ≤ age < 60 whatever day the death falls on.
    fit = (ctx.age_lo >= 18) & (ctx.age_hi <= 57) & (ctx.members[ctx.p_hh] >= 2)
    fit &= comp.others_ambiguous == 0
    red = plan.people(rng, fit & (comp.others_dependant >= 1), math.ceil(n / 2))
    yellow = plan.people(rng, fit & (comp.others_dependant == 0), n - len(red))
    for person, level in ((red, RED), (yellow, YELLOW)):
        day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(person))
        cause = rng.integers(0, len(WORKING_AGE_CAUSES), len(person))
        plan.parts["death"].add(person=person, day=day, cause=_death_cause_ids(cause, working=True))
        note = (
            "death at working age; the household keeps a child or an elder"
            if level == RED
            else "death at working age; the others are all 18–59"
        )
        plan.add_truth(rule, "planted", note, person=person, level=level, day=day)
    # Near-miss: a death at 62–78 (the specification's example: at 72).
    person = plan.people(rng, (ctx.age_lo >= 62) & (ctx.age_hi <= 78), n)
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(person))
    cause = rng.integers(0, len(DEATH_CAUSES), len(person))
    plan.parts["death"].add(person=person, day=day, cause=_death_cause_ids(cause, working=False))
    plan.add_truth(
        rule,
        "near_miss",
        "death at 62–78, above working age",
        person=person,
        day=day,
    )


_CAUSES = [*DEATH_CAUSES, *(c for c in WORKING_AGE_CAUSES if c not in DEATH_CAUSES)]


def _death_cause_ids(index: Arr, *, working: bool) -> Arr:
    vocab = WORKING_AGE_CAUSES if working else DEATH_CAUSES
    lookup = np.array([_CAUSES.index(c) for c in vocab], dtype=np.int64)
    return lookup[index]


def _plant_severe_disability(plan: _Plan, comp: _Composition) -> None:
    ctx, rng, rule = plan.ctx, plan.rng("truth.severe_disability"), "severe_disability"
    n = _count(ctx.n_hh)
    mental = [DISABILITY.index("mental"), DISABILITY.index("intellectual")]
    other_types = np.array(
        [DISABILITY.index(t) for t in ("physical", "visual", "hearing", "multiple")]
    )
    fit = (ctx.age_hi >= 3) & (comp.others_ambiguous == 0)
    # New in the registry: not disabled before, or recorded only at grade 3–4 of a kind
    # that is not mental (a worse grade now).
    new = fit & ((ctx.dis_grade == 0) | ((ctx.dis_grade >= 3) & ~np.isin(ctx.dis_type, mental)))
    red = plan.people(rng, new & (comp.others_working == 0), math.ceil(n / 2))
    yellow = plan.people(rng, new & (comp.others_working >= 1), n - len(red))
    for person, level in ((red, RED), (yellow, YELLOW)):
        m = len(person)
        worse = ctx.dis_grade[person] > 0  # a reassessment of someone already registered
        # Every third new certificate is mental or intellectual at grade 3–4, severe by
        # the rule's mental_grade; the others grade 1–2 of another kind.
        mental_case = ~worse & (np.arange(m) % 3 == 2)
        kind = np.where(
            worse,
            ctx.dis_type[person],
            np.where(
                mental_case,
                np.array(mental)[rng.integers(0, 2, m)],
                other_types[rng.integers(0, 4, m)],
            ),
        )
        grade = np.where(mental_case, rng.integers(3, 5, m), rng.integers(1, 3, m))
        day = _uniform_days(rng, ctx.start, ctx.as_of - 1, m)
        action = np.where(
            worse, DISABILITY_ACTIONS.index("reassessed"), DISABILITY_ACTIONS.index("issued")
        )
        plan.parts["disability_registration"].add(
            person=person, day=day, action=action, type=kind, grade=grade
        )
        note = (
            "new severe disability; no other member aged 18–59"
            if level == RED
            else "new severe disability; another member aged 18–59"
        )
        plan.add_truth(rule, "planted", note, person=person, level=level, day=day)

    grade3_n, same_n = _split_count(n, 2)
    person = plan.people(rng, fit & (ctx.dis_grade == 0), grade3_n)
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(person))
    plan.parts["disability_registration"].add(
        person=person,
        day=day,
        action=DISABILITY_ACTIONS.index("issued"),
        type=DISABILITY.index("physical"),
        grade=3,
    )
    plan.add_truth(
        rule,
        "near_miss",
        "new grade-3 physical disability (not severe)",
        person=person,
        day=day,
    )
    severe_now = (ctx.dis_grade > 0) & (
        (ctx.dis_grade <= SEVERE_GRADE)
        | (np.isin(ctx.dis_type, mental) & (ctx.dis_grade <= MENTAL_GRADE))
    )
    person = plan.people(rng, fit & severe_now, same_n)
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(person))
    plan.parts["disability_registration"].add(
        person=person,
        day=day,
        action=DISABILITY_ACTIONS.index("reassessed"),
        type=ctx.dis_type[person],
        grade=ctx.dis_grade[person],
    )
    plan.add_truth(
        rule,
        "near_miss",
        "severe grade reassessed as the registry already records it",
        person=person,
        day=day,
    )


# Who registers as unemployed: people in or out of work, farmers included (registration
# is open to rural labour too).
_JOB_SEEKERS = [
    EMPLOYMENT.index(e) for e in ("employed", "flexible", "migrant", "unemployed", "farming")
]


def _plant_unemployment(plan: _Plan, comp: _Composition) -> None:
    ctx, rng, rule = plan.ctx, plan.rng("truth.unemployment_dependants"), "unemployment_dependants"
    n = _count(ctx.n_hh)
    parts = plan.parts["unemployment_registration"]
    registered, ended = (
        UNEMPLOYMENT_ACTIONS.index("registered"),
        UNEMPLOYMENT_ACTIONS.index("ended"),
    )
    fit = np.isin(ctx.employment, _JOB_SEEKERS) & (ctx.age_lo >= 18) & (ctx.age_hi <= 55)
    fit &= comp.others_ambiguous == 0
    with_dependants = fit & (comp.others_dependant >= 1)
    red = plan.people(rng, with_dependants & (comp.others_working == 0), math.ceil(n / 2))
    yellow = plan.people(rng, with_dependants & (comp.others_working >= 1), n - len(red))
    for person, level in ((red, RED), (yellow, YELLOW)):
        day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(person))
        parts.add(person=person, day=day, action=registered)
        plan.stop_contributions[person] = day  # the job, and its contributions, ended
        note = (
            "unemployed with dependants; no other member aged 18–59"
            if level == RED
            else "unemployed with dependants; another member aged 18–59"
        )
        plan.add_truth(rule, "planted", note, person=person, level=level, day=day)

    # A household of working-age adults only, the oldest 58–59: no dependant yet. Such
    # households are rare; the ended registrations below make up for any shortfall.
    near_sixty = ((ctx.age_hi >= 58) & (ctx.age_hi <= 59) & comp.working).astype(np.float64)
    others_near_sixty = ctx.per_household(near_sixty)[ctx.p_hh] - near_sixty
    only_adults = (comp.others_dependant == 0) & comp.working & (ctx.age_hi <= 57)
    person = plan.people(rng, fit & only_adults & (others_near_sixty >= 1), n // 2)
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(person))
    parts.add(person=person, day=day, action=registered)
    plan.stop_contributions[person] = day
    plan.add_truth(
        rule,
        "near_miss",
        "unemployed; the oldest other member is 58–59, not a dependant",
        person=person,
        day=day,
    )
    person = plan.people(rng, with_dependants, n - len(person))
    day = _uniform_days(rng, ctx.start, ctx.as_of - 121, len(person))
    parts.add(person=person, day=day, action=registered)
    parts.add(person=person, day=day + rng.integers(30, 100, len(person)), action=ended)
    plan.add_truth(
        rule,
        "near_miss",
        "unemployment registration ended later in the window",
        person=person,
        day=day,
    )


def _school_stage(ctx: _Ctx, rng: np.random.Generator) -> Arr:
    """The stage of each pupil from age and education (-1: not at school)."""
    age, edu = ctx.age_hi, ctx.education
    student = ctx.employment == EMPLOYMENT.index("student")
    preschool = (age >= 3) & (age <= 5) & (edu == EDUCATION.index("preschool"))
    vocational = rng.random(ctx.n_p) < 0.25
    stage = np.select(
        [
            preschool,
            student & (age <= 11),
            student & (age <= 14),
            student & (age <= 17) & vocational,
            student & (age <= 17),
            student & (edu == EDUCATION.index("college")),
            student,
        ],
        [PRESCHOOL, PRIMARY, JUNIOR, VOCATIONAL, SENIOR, COLLEGE, SENIOR],
        _NONE,
    )
    return np.asarray(stage, dtype=np.int64)


def _school_names(rng: np.random.Generator, stage: Arr) -> Arr:
    offsets = np.cumsum([0] + [len(SCHOOLS[s]) for s in range(len(STAGES))])
    sizes = np.array([len(SCHOOLS[s]) for s in range(len(STAGES))])
    return offsets[stage] + np.floor(rng.random(len(stage)) * sizes[stage]).astype(np.int64)


_SCHOOL_VOCAB = [name for s in range(len(STAGES)) for name in SCHOOLS[s]]


def _plant_school(plan: _Plan, stage: Arr) -> None:
    ctx, rng, rule = plan.ctx, plan.rng("truth.school_hardship"), "school_hardship"
    n = _count(ctx.n_hh)
    parts = plan.parts["school_status"]
    compulsory = (stage == PRIMARY) | (stage == JUNIOR)
    upper = (stage == SENIOR) | (stage == VOCATIONAL)
    fee_paying = upper | (stage == COLLEGE) | (stage == PRESCHOOL)
    red_n = math.ceil(n / 3)
    groups = (
        (
            plan.people(rng, compulsory & (ctx.age_hi >= 9), red_n),
            DROPPED,
            RED,
            "dropped out of compulsory education (primary/junior)",
        ),
        (
            plan.people(rng, upper, (n - red_n) // 2),
            DROPPED,
            YELLOW,
            "dropped out of senior or vocational school",
        ),
        (
            plan.people(rng, fee_paying, n - red_n - (n - red_n) // 2),
            ARREARS,
            YELLOW,
            "school fees in arrears, 600–6 000 yuan",
        ),
    )
    for person, status, level, note in groups:
        m = len(person)
        day = _uniform_days(rng, ctx.start, ctx.as_of - 1, m)
        owed = np.where(status == ARREARS, np.round(rng.uniform(600, 6_000, m), -1), np.nan)
        parts.add(
            person=person,
            day=day,
            stage=stage[person],
            status=status,
            owed=owed,
            school=_school_names(rng, stage[person]),
        )
        plan.school_truth[person] = True
        plan.add_truth(rule, "planted", note, person=person, level=level, day=day)
    person = plan.people(rng, fee_paying, n)
    m = len(person)
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, m)
    parts.add(
        person=person,
        day=day,
        stage=stage[person],
        status=ARREARS,
        owed=np.round(rng.uniform(200, 450, m)),
        school=_school_names(rng, stage[person]),
    )
    plan.school_truth[person] = True
    plan.add_truth(
        rule,
        "near_miss",
        "school fees in arrears of 200–450 yuan (under 500)",
        person=person,
        day=day,
    )


def _plant_housing(plan: _Plan) -> None:
    ctx, rng, rule = plan.ctx, plan.rng("truth.unsafe_housing"), "unsafe_housing"
    n = _count(ctx.n_hh)
    parts = plan.parts["housing_safety"]
    rural_house = ~ctx.urban & ctx.has_house
    red = plan.households(rng, rural_house, math.ceil(n / 2))
    yellow = plan.households(rng, rural_house, n - len(red))
    for hh, rating, level in ((red, 3, RED), (yellow, 2, YELLOW)):
        m = len(hh)
        day = _uniform_days(rng, ctx.start + 200, ctx.as_of - 1, m)
        # Half the houses were rated A or B earlier in the window and have since decayed.
        earlier = rng.random(m) < 0.5
        parts.add(
            hh=hh[earlier],
            person=ctx.head[hh[earlier]],
            day=day[earlier] - rng.integers(60, 200, int(earlier.sum())),
            rating=rng.integers(0, 2, int(earlier.sum())),
        )
        parts.add(hh=hh, person=ctx.head[hh], day=day, rating=rating)
        note = (
            "house rated D (dangerous as a whole)"
            if level == RED
            else "house rated C (partly dangerous)"
        )
        plan.add_truth(rule, "planted", note, hh=hh, person=ctx.head[hh], level=level, day=day)
    hh = plan.households(rng, rural_house, n)
    m = len(hh)
    first = _uniform_days(rng, ctx.start, ctx.as_of - 130, m)
    repaired = first + rng.integers(30, 120, m)
    parts.add(hh=hh, person=ctx.head[hh], day=first, rating=2)
    parts.add(hh=hh, person=ctx.head[hh], day=repaired, rating=1)
    plan.add_truth(
        rule,
        "near_miss",
        "house rated C, then B after repair (the latest rating counts)",
        hh=hh,
        person=ctx.head[hh],
        day=repaired,
    )


# Water episode kinds
_EP_NONE, _EP_LOW, _EP_HIGH, _EP_LOWISH, _EP_INCOMPLETE = range(5)


def _plant_water(plan: _Plan) -> Arr:
    """Meters with planted anomalies and near-misses; returns the lone-elder pool."""
    ctx, rng, rule = plan.ctx, plan.rng("truth.water_anomaly"), "water_anomaly"
    n = _count(ctx.n_hh, PLANTED_RATE / 2)
    head = ctx.head
    lone = ctx.members == 1
    # Aged 70 or more on every day of the window: one living member aged ≥ 70 throughout.
    lone_elder = lone & (ctx.age_lo[head] >= ELDER_AGE)
    meters = plan.meters

    def recent_install(m: int) -> Arr:
        # Hourly meters are a newer model, installed 35–45 days ago: they cover the
        # 30-day lookback without 24 × 365 rows each.
        return ctx.as_of - rng.integers(35, 46, m)

    def episode_in_lookback(m: int, length: Arr) -> Arr:
        # Whole episode inside [as_of − 28, as_of − 2], with ordinary days on both sides.
        return _uniform_days(rng, ctx.as_of - 28, ctx.as_of - 2 - length, m)

    hh = plan.households(rng, lone_elder, n)
    m = len(hh)
    low = np.arange(m) % 2 == 0
    hourly = np.arange(m) % 6 < 2  # one low and one high episode in six on hourly meters
    length = np.where(low, rng.integers(2, 6, m), rng.integers(1, 4, m))
    start = episode_in_lookback(m, length)
    meters.add(
        hh=hh,
        hourly=hourly,
        first=np.where(hourly, recent_install(m), ctx.start),
        ep_start=start,
        ep_len=length,
        ep_kind=np.where(low, _EP_LOW, _EP_HIGH),
    )
    for flags, level, note in (
        (low, RED, "elder living alone: under 10 litres a day"),
        (~low, YELLOW, "elder living alone: over 1 000 litres a day"),
    ):
        plan.add_truth(
            rule,
            "planted",
            note,
            hh=hh[flags],
            person=head[hh[flags]],
            level=level,
            day=start[flags],
        )

    k = _split_count(n, 5)
    # 11.5–14 litres a day: low, but not under 10.
    hh = plan.households(rng, lone_elder, k[0])
    length = rng.integers(3, 6, len(hh))
    start = episode_in_lookback(len(hh), length)
    meters.add(hh=hh, first=ctx.start, ep_start=start, ep_len=length, ep_kind=_EP_LOWISH)
    plan.add_truth(
        rule,
        "near_miss",
        "12 litres a day: low but not under 10",
        hh=hh,
        person=head[hh],
        day=start,
    )
    # A real low episode, but the elder lives with a spouse (two members).
    couple = (ctx.members == 2) & (ctx.age_lo[head] >= ELDER_AGE)
    hh = plan.households(rng, couple, k[1])
    length = rng.integers(2, 5, len(hh))
    start = episode_in_lookback(len(hh), length)
    meters.add(hh=hh, first=ctx.start, ep_start=start, ep_len=length, ep_kind=_EP_LOW)
    plan.add_truth(
        rule,
        "near_miss",
        "under 10 litres a day, but the elder lives with a spouse",
        hh=hh,
        person=head[hh],
        day=start,
    )
    # A real low episode 40–60 days ago, outside the 30-day lookback.
    hh = plan.households(rng, lone_elder, k[2])
    length = rng.integers(2, 5, len(hh))
    start = _uniform_days(rng, ctx.as_of - 60, ctx.as_of - 40 - length, len(hh))
    meters.add(hh=hh, first=ctx.start, ep_start=start, ep_len=length, ep_kind=_EP_LOW)
    plan.add_truth(
        rule,
        "near_miss",
        "under 10 litres a day 40–60 days ago (old episode)",
        hh=hh,
        person=head[hh],
        day=start,
    )
    # An hourly meter with a day of only 3–10 readings totalling 1–5 litres (incomplete).
    hh = plan.households(rng, lone_elder, k[3])
    start = episode_in_lookback(len(hh), np.ones(len(hh), dtype=np.int64))
    meters.add(
        hh=hh,
        hourly=True,
        first=recent_install(len(hh)),
        ep_start=start,
        ep_len=1,
        ep_kind=_EP_INCOMPLETE,
    )
    plan.add_truth(
        rule,
        "near_miss",
        "a day with 3–10 of 24 hourly readings, 1–5 litres (incomplete)",
        hh=hh,
        person=head[hh],
        day=start,
    )
    # A lone person aged 61–68: not yet an elder for this rule.
    young = lone & (ctx.age_lo[head] >= 61) & (ctx.age_hi[head] <= 68)
    hh = plan.households(rng, young, k[4])
    length = rng.integers(2, 5, len(hh))
    start = episode_in_lookback(len(hh), length)
    meters.add(hh=hh, first=ctx.start, ep_start=start, ep_len=length, ep_kind=_EP_LOW)
    plan.add_truth(
        rule,
        "near_miss",
        "under 10 litres a day, but the person living alone is 61–68",
        hh=hh,
        person=head[hh],
        day=start,
    )
    return lone_elder


def _plant_assets(plan: _Plan) -> None:
    ctx, rng, rule = plan.ctx, plan.rng("truth.enrolled_new_assets"), "enrolled_new_assets"
    n = _count(ctx.n_hh)
    vehicles = plan.parts["vehicle_registration"]
    businesses = plan.parts["business_registration"]
    adult = (ctx.age_lo >= 18) & (ctx.age_hi <= 65)
    # An active assisted or dibao_marginal enrolment that started a month or more before
    # the window's last day; the event falls after that month and inside the window.
    enrolled = (ctx.qualifying_start >= 0) & (ctx.qualifying_start + 31 < ctx.as_of - 1)

    def after_enrolment(person: Arr) -> Arr:
        low = np.maximum(ctx.start, ctx.qualifying_start[ctx.p_hh[person]] + 31)
        return _uniform_days(rng, low, ctx.as_of - 1, len(person))

    person = plan.people(rng, adult & enrolled[ctx.p_hh], n)
    day = after_enrolment(person)
    what = np.arange(len(person)) % 3
    p, d = person[what == 0], day[what == 0]
    kind = np.where(rng.random(len(p)) < 0.8, CAR, TRUCK)
    vehicles.add(person=p, day=d, action=0, kind=kind, price=_vehicle_price(rng, kind))
    plan.add_truth(
        rule,
        "planted",
        "enrolled household registered a car or truck",
        person=p,
        level=YELLOW,
        day=d,
    )
    p, d = person[what == 1], day[what == 1]
    plan.parts["property_registration"].add(
        person=p, day=d, action=0, use=0, area=np.round(rng.uniform(60, 140, len(p)))
    )
    plan.add_truth(
        rule,
        "planted",
        "enrolled household acquired residential property",
        person=p,
        level=YELLOW,
        day=d,
    )
    p, d = person[what == 2], day[what == 2]
    kind = np.where(rng.random(len(p)) < 0.7, INDIVIDUAL, COMPANY)
    businesses.add(person=p, day=d, action=0, kind=kind, capital=_capital(rng, kind))
    plan.add_truth(
        rule,
        "planted",
        "enrolled household registered a company or individual business",
        person=p,
        level=YELLOW,
        day=d,
    )

    car_n, moto_n, coop_n = _split_count(n, 3)
    # A car bought by a household in no programme at all.
    person = plan.people(rng, adult & ~ctx.enrolled_any[ctx.p_hh], car_n)
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(person))
    kind = np.full(len(person), CAR)
    vehicles.add(person=person, day=day, action=0, kind=kind, price=_vehicle_price(rng, kind))
    plan.add_truth(
        rule,
        "near_miss",
        "car registered by a household not enrolled in any programme",
        person=person,
        day=day,
    )
    # A motorcycle or tricycle by an enrolled household: not a kind the rule looks at.
    person = plan.people(rng, adult & enrolled[ctx.p_hh], moto_n)
    day = after_enrolment(person)
    kind = np.where(rng.random(len(person)) < 0.5, MOTORCYCLE, TRICYCLE)
    vehicles.add(person=person, day=day, action=0, kind=kind, price=_vehicle_price(rng, kind))
    plan.add_truth(
        rule,
        "near_miss",
        "enrolled household registered a motorcycle or tricycle",
        person=person,
        day=day,
    )
    # A farmers' cooperative by an enrolled household: not a business kind it looks at.
    person = plan.people(rng, adult & enrolled[ctx.p_hh], coop_n)
    day = after_enrolment(person)
    kind = np.full(len(person), COOPERATIVE)
    businesses.add(person=person, day=day, action=0, kind=kind, capital=_capital(rng, kind))
    plan.add_truth(
        rule,
        "near_miss",
        "enrolled household registered a farmers' cooperative",
        person=person,
        day=day,
    )


_PRICE_MEDIAN = np.array([90_000, 150_000, 6_000, 4_000, 25_000, 10_000], dtype=np.float64)
_CAPITAL_MEDIAN = np.array([500_000, 50_000, 200_000], dtype=np.float64)


def _vehicle_price(rng: np.random.Generator, kind: Arr) -> Arr:
    return np.round(_PRICE_MEDIAN[kind] * np.exp(rng.normal(0, 0.35, len(kind))), -2)


def _capital(rng: np.random.Generator, kind: Arr) -> Arr:
    return np.round(_CAPITAL_MEDIAN[kind] * np.exp(rng.normal(0, 0.6, len(kind))), -3)


# --------------------------------------------------------------------------------------
# Background records: ordinary, never meeting a rule's conditions
# --------------------------------------------------------------------------------------


def _target(plan: _Plan, feed_id: str) -> float:
    """Background rows still wanted in a feed: its volume less the planted rows."""
    parts = plan.parts.get(feed_id)
    planted = sum(len(chunk) for chunk in parts.chunks["day"]) if parts else 0
    return max(0.0, VOLUMES[feed_id] * plan.scale * plan.ctx.n_hh - planted)


def _background_medical(plan: _Plan) -> None:
    """Outpatient visits, chronic-disease outpatient care and ordinary inpatient stays.

    A household's out-of-pocket total in the window stays under 9 000 yuan (below
    medical_burden's minimum whatever the income), and inpatient stays are never for a
    listed serious disease (those appear only as planted events).
    """
    ctx, rng = plan.ctx, plan.rng("feeds.medical_settlement")
    target = _target(plan, "medical_settlement")
    ill_person, ill_code, ill_serious = ctx.ill_person, ctx.ill_code, ctx.ill_serious
    allowed = ctx.alive & ~plan.no_background_medical[ctx.p_hh]
    band = np.searchsorted(np.array([6, 18, 45, 60, 75]), ctx.age_hi, side="right")
    out_rate = np.array([1.0, 0.5, 0.4, 0.6, 0.8, 1.0])[band] * allowed
    in_rate = np.array([0.05, 0.03, 0.05, 0.07, 0.12, 0.2])[band] * allowed
    chronic_rate = np.where(ill_serious, 3.0, 2.0) * allowed[ill_person]
    expected = out_rate.sum() + in_rate.sum() + chronic_rate.sum()
    s = target / expected if expected > 0 else 0.0

    out_person = np.repeat(np.arange(ctx.n_p), rng.poisson(out_rate * s))
    in_person = np.repeat(np.arange(ctx.n_p), rng.poisson(in_rate * s))
    chronic_rows = np.repeat(np.arange(len(ill_person)), rng.poisson(chronic_rate * s))
    chronic_person = ill_person[chronic_rows]

    out_codes = _code_ids(plan, OUTPATIENT_CODES)
    out_code = out_codes[rng.integers(0, len(OUTPATIENT_CODES), len(out_person))]
    age = ctx.age_hi[in_person]
    group_codes = {g: _code_ids(plan, c) for g, c in INPATIENT_CODES.items()}
    u = rng.random(len(in_person))
    pick = np.floor(rng.random(len(in_person)) * 8).astype(np.int64)
    birth = ~ctx.male[in_person] & (age >= 20) & (age <= 40) & (u < 0.3)
    in_code = np.select(
        [birth, age < 18, age >= 60],
        [
            group_codes["birth"][pick % len(INPATIENT_CODES["birth"])],
            group_codes["child"][pick % len(INPATIENT_CODES["child"])],
            group_codes["elder"][pick % len(INPATIENT_CODES["elder"])],
        ],
        group_codes["adult"][pick % len(INPATIENT_CODES["adult"])],
    )
    chronic_code = _code_ids(plan, ctx.ill_vocab)[ill_code[chronic_rows]]

    person = np.concatenate([out_person, in_person, chronic_person])
    care = np.concatenate(
        [
            np.full(len(out_person), OUTPATIENT),
            np.full(len(in_person), INPATIENT),
            np.full(len(chronic_person), CHRONIC),
        ]
    )
    code = np.concatenate([out_code, in_code, chronic_code])
    oop = np.select(
        [care == OUTPATIENT, care == INPATIENT],
        [
            np.clip(120 * np.exp(rng.normal(0, 0.6, len(care))), 10, 1_500),
            np.clip(3_000 * np.exp(rng.normal(0, 0.5, len(care))), 500, 8_000),
        ],
        np.clip(250 * np.exp(rng.normal(0, 0.5, len(care))), 20, 2_000),
    )
    # Scale a household down to 8 999 yuan where its visits would add up to more.
    hh = ctx.p_hh[person]
    total = np.bincount(hh, weights=oop, minlength=ctx.n_hh)
    factor = np.minimum(1.0, 8_999.0 / np.maximum(total, 1.0))
    oop = np.floor(oop * factor[hh] * 100) / 100
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(person))
    _add_settlements(plan, person, day, care, code, oop, rng)


def _month_starts(ctx: _Ctx) -> Arr:
    """Day numbers of the first days of the months that start inside the window."""
    first = np.datetime64(int(ctx.start), "D").astype("datetime64[M]")
    last = np.datetime64(int(ctx.as_of - 1), "D").astype("datetime64[M]")
    months = np.arange(first, last + 1).astype("datetime64[D]").astype(np.int64)
    return months[months >= ctx.start]


def _background_contributions(plan: _Plan) -> None:
    """Monthly employee-pension (and unemployment-insurance) contributions of people in
    work, with the wage base; annual resident-pension contributions of rural adults."""
    ctx, rng = plan.ctx, plan.rng("feeds.social_insurance_contribution")
    parts = plan.parts["social_insurance_contribution"]
    target = _target(plan, "social_insurance_contribution")
    months = _month_starts(ctx)
    n_months = len(months)
    emp = ctx.employment
    working_age = (ctx.age_lo >= 16) & (ctx.age_hi <= 64)
    employed, migrant, flexible = (
        emp == EMPLOYMENT.index(e) for e in ("employed", "migrant", "flexible")
    )

    # Resident pension: one payment a year, about a fifth of the rows.
    rural = ~ctx.urban[ctx.p_hh]
    pool = np.flatnonzero(
        rural
        & (ctx.age_lo >= 16)
        & (ctx.age_hi < 60)
        & ~employed
        & np.isin(
            emp,
            [
                EMPLOYMENT.index(e)
                for e in ("farming", "not_working", "unemployed", "migrant", "flexible")
            ],
        )
    )
    resident = pool[_random_subset(rng, len(pool), round(0.2 * target))]
    month_index = rng.integers(max(0, n_months - 4), max(n_months, 1), len(resident))
    if n_months:
        parts.add(
            person=resident, day=months[month_index], scheme=SCHEMES.index("resident_pension")
        )

    # Monthly contributors, in a random order weighted by how formal the work is, until
    # the rows reach the target.
    weight = (1.0 * employed + 0.45 * migrant + 0.3 * flexible) * working_age
    weight[resident] = 0
    cand = np.flatnonzero(weight > 0)
    keys = np.log(weight[cand]) - np.log(-np.log(rng.random(len(cand))))
    cand = cand[np.argsort(-keys, kind="stable")]
    full = rng.random(len(cand)) < 0.85
    span = np.where(full, n_months, rng.integers(1, max(n_months, 2), len(cand)))
    span = np.minimum(span, n_months)
    late_start = rng.random(len(cand)) < 0.5
    m0 = np.where(full | ~late_start, 0, n_months - span)
    insured = employed[cand] & (rng.random(len(cand)) < 0.7)
    rows = span * (1 + insured)
    remaining = max(0.0, target - len(resident))
    take = int(np.searchsorted(np.cumsum(rows), remaining)) + 1 if remaining > 0 else 0
    cand, span, m0, insured = cand[:take], span[:take], m0[:take], insured[:take]

    base = np.clip(ctx.wages[cand] / 12, WAGE_BASE_FLOOR, WAGE_BASE_CEILING)
    base = np.where(
        flexible[cand], WAGE_BASE_FLOOR * rng.choice([1.0, 1.0, 1.2, 1.5], len(cand)), base
    )
    base = np.round(base)
    employer = np.select(
        [employed[cand], migrant[cand]],
        [
            rng.integers(0, len(EMPLOYERS), len(cand)),
            len(EMPLOYERS) + rng.integers(0, len(MIGRANT_EMPLOYERS), len(cand)),
        ],
        _NONE,
    )
    owner, rank = _within(span)
    day = months[m0[owner] + rank] if n_months else np.zeros(0, np.int64)
    for scheme, keep in (
        ("employee_pension", np.ones(len(owner), bool)),
        ("unemployment", insured[owner]),
    ):
        parts.add(
            person=cand[owner][keep],
            day=day[keep],
            scheme=SCHEMES.index(scheme),
            base=base[owner][keep],
            employer=employer[owner][keep],
        )


def _background_school(plan: _Plan, stage: Arr) -> None:
    """A record at the start of the school year, graduations in summer, and a few small
    arrears (under 500 yuan): never a drop-out."""
    ctx, rng = plan.ctx, plan.rng("feeds.school_status")
    parts = plan.parts["school_status"]
    target = _target(plan, "school_status")
    pupil = (stage >= 0) & ~plan.school_truth
    pool = np.flatnonzero(pupil)
    fee_paying = np.isin(stage, [PRESCHOOL, SENIOR, VOCATIONAL, COLLEGE])
    arrears = np.flatnonzero(pupil & fee_paying & (rng.random(ctx.n_p) < 0.03 * plan.scale))
    # Those now in the first year of junior/senior school or college finished the stage
    # before in summer.
    grad_stage = {12: PRIMARY, 15: JUNIOR, 18: SENIOR}
    graduates = np.flatnonzero(pupil & np.isin(ctx.age_hi, list(grad_stage)))
    p = np.clip((target - len(arrears)) / max(len(pool) + len(graduates), 1), 0, 1)
    sep1 = _days(_last_date(ctx.as_of_date, 9, 1))
    jul1 = _days(_last_date(ctx.as_of_date, 7, 1))

    person = pool[rng.random(len(pool)) < p]
    day = np.clip(sep1 + rng.integers(0, 6, len(person)), ctx.start, ctx.as_of - 1)
    parts.add(
        person=person,
        day=day,
        stage=stage[person],
        status=ENROLLED,
        school=_school_names(rng, stage[person]),
    )
    person = graduates[rng.random(len(graduates)) < p]
    before = np.select(
        [ctx.age_hi[person] == a for a in grad_stage], list(grad_stage.values()), SENIOR
    )
    day = np.clip(jul1 - rng.integers(0, 10, len(person)), ctx.start, ctx.as_of - 1)
    parts.add(
        person=person, day=day, stage=before, status=GRADUATED, school=_school_names(rng, before)
    )
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(arrears))
    parts.add(
        person=arrears,
        day=day,
        stage=stage[arrears],
        status=ARREARS,
        owed=np.round(rng.uniform(50, 480, len(arrears))),
        school=_school_names(rng, stage[arrears]),
    )


def _background_housing(plan: _Plan) -> None:
    """Rural houses rated A (safe) or B (basically safe)."""
    ctx, rng = plan.ctx, plan.rng("feeds.housing_safety")
    pool = np.flatnonzero(~ctx.urban & ctx.has_house & ~plan.taken)
    hh = pool[_random_subset(rng, len(pool), round(_target(plan, "housing_safety")))]
    plan.parts["housing_safety"].add(
        hh=hh,
        person=ctx.head[hh],
        day=_uniform_days(rng, ctx.start, ctx.as_of - 1, len(hh)),
        rating=(rng.random(len(hh)) < 0.25).astype(np.int8),
    )


def _background_deaths(plan: _Plan, meter_households: Arr) -> None:
    """Deaths at 60 and over, by age; never in a household holding a truth event or a
    water meter (a death there would change what the rule sees)."""
    ctx, rng = plan.ctx, plan.rng("feeds.death")
    q = np.array([0.01, 0.015, 0.025, 0.045, 0.08, 0.14, 0.25])
    band = np.searchsorted(np.array([65, 70, 75, 80, 85, 90]), ctx.age_hi, side="right")
    eligible = (ctx.age_lo >= 60) & ~plan.taken[ctx.p_hh] & ~meter_households[ctx.p_hh]
    person = np.flatnonzero(
        eligible & (rng.random(ctx.n_p) < np.minimum(q[band] * plan.scale, 0.9))
    )
    cause = rng.integers(0, len(DEATH_CAUSES), len(person))
    known = rng.random(len(person)) < 0.9
    plan.parts["death"].add(
        person=person,
        day=_uniform_days(rng, ctx.start, ctx.as_of - 1, len(person)),
        cause=np.where(known, _death_cause_ids(cause, working=False), _NONE),
    )


def _background_disability(plan: _Plan) -> None:
    """Reassessments at the recorded grade or a milder one, new certificates of grade 3–4
    for kinds other than mental/intellectual, and a few cancellations."""
    ctx, rng = plan.ctx, plan.rng("feeds.disability_registration")
    parts = plan.parts["disability_registration"]
    total = round(_target(plan, "disability_registration"))
    free = ~plan.taken[ctx.p_hh]
    registered = np.flatnonzero(free & (ctx.dis_grade > 0))
    newcomers = np.flatnonzero(free & (ctx.dis_grade == 0) & (ctx.age_hi >= 30))
    n_re, n_new = round(0.5 * total), round(0.4 * total)
    chosen = registered[_random_subset(rng, len(registered), n_re + total - n_re - n_new)]
    re, cancel = chosen[:n_re], chosen[n_re:]
    parts.add(
        person=re,
        day=_uniform_days(rng, ctx.start, ctx.as_of - 1, len(re)),
        action=DISABILITY_ACTIONS.index("reassessed"),
        type=ctx.dis_type[re],
        grade=np.minimum(ctx.dis_grade[re] + (rng.random(len(re)) < 0.2), 4),
    )
    parts.add(
        person=cancel,
        day=_uniform_days(rng, ctx.start, ctx.as_of - 1, len(cancel)),
        action=DISABILITY_ACTIONS.index("cancelled"),
        type=ctx.dis_type[cancel],
        grade=ctx.dis_grade[cancel],
    )
    new = newcomers[_random_subset(rng, len(newcomers), n_new)]
    kinds = np.array(
        [DISABILITY.index(k) for k in ("visual", "hearing", "speech", "physical", "multiple")]
    )
    parts.add(
        person=new,
        day=_uniform_days(rng, ctx.start, ctx.as_of - 1, len(new)),
        action=DISABILITY_ACTIONS.index("issued"),
        type=kinds[_choice(rng, len(new), [0.2, 0.3, 0.05, 0.35, 0.1])],
        grade=rng.integers(3, 5, len(new)),
    )


def _choice(rng: np.random.Generator, n: int, probs: Sequence[float]) -> Arr:
    cum = np.cumsum(np.asarray(probs, dtype=np.float64))
    return np.searchsorted(cum / cum[-1], rng.random(n), side="right").clip(0, len(probs) - 1)


def _background_unemployment(plan: _Plan, comp: _Composition) -> None:
    """Registrations that end within the window, or of people in households without a
    dependant; their contributions stop while they are unemployed."""
    ctx, rng = plan.ctx, plan.rng("feeds.unemployment_registration")
    parts = plan.parts["unemployment_registration"]
    people = round(_target(plan, "unemployment_registration") / 1.5)
    fit = np.isin(ctx.employment, _JOB_SEEKERS) & comp.working & ~plan.taken[ctx.p_hh]
    n_ended = people // 2
    pool = np.flatnonzero(fit)
    ended = pool[_random_subset(rng, len(pool), n_ended)]
    day = _uniform_days(rng, ctx.start, ctx.as_of - 61, len(ended))
    parts.add(person=ended, day=day, action=0)
    parts.add(person=ended, day=day + rng.integers(30, 61, len(ended)), action=1)
    alone = fit & (comp.others_dependant == 0) & (comp.others_ambiguous == 0)
    alone[ended] = False
    pool = np.flatnonzero(alone)
    open_ = pool[_random_subset(rng, len(pool), people - n_ended)]
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(open_))
    parts.add(person=open_, day=day, action=0)
    plan.stop_contributions[open_] = np.minimum(plan.stop_contributions[open_], day)


def _background_assets(plan: _Plan) -> None:
    """Vehicles, property and businesses of households outside the assisted and
    dibao_marginal programmes; enrolled households only register motorcycles, tricycles
    and tractors (kinds the exit review does not look at)."""
    ctx = plan.ctx
    free = ~plan.taken
    outside = np.flatnonzero(free & ~ctx.asset_rule_any)
    inside = np.flatnonzero(free & ctx.asset_rule_any)

    rng = plan.rng("feeds.vehicle_registration")
    n = round(_target(plan, "vehicle_registration"))
    n_in = round(n * 0.5 * len(inside) / max(len(inside) + len(outside), 1))
    hh = (
        outside[np.floor(rng.random(n - n_in) * len(outside)).astype(np.int64)]
        if len(outside)
        else outside
    )
    kind = _choice(rng, len(hh), [0.62, 0.08, 0.15, 0.08, 0.04, 0.03])
    action = _choice(rng, len(hh), [0.6, 0.15, 0.15, 0.1])
    price = np.where(action <= 1, _vehicle_price(rng, kind), np.nan)
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(hh))
    plan.parts["vehicle_registration"].add(
        person=ctx.head[hh], day=day, action=action, kind=kind, price=price
    )
    hh = (
        inside[np.floor(rng.random(n_in) * len(inside)).astype(np.int64)] if len(inside) else inside
    )
    kind = np.array([MOTORCYCLE, TRICYCLE, TRACTOR])[_choice(rng, len(hh), [0.4, 0.5, 0.1])]
    action = np.where(rng.random(len(hh)) < 0.8, 0, VEHICLE_ACTIONS.index("scrapped"))
    price = np.where(action == 0, _vehicle_price(rng, kind), np.nan)
    day = _uniform_days(rng, ctx.start, ctx.as_of - 1, len(hh))
    plan.parts["vehicle_registration"].add(
        person=ctx.head[hh], day=day, action=action, kind=kind, price=price
    )

    rng = plan.rng("feeds.property_registration")
    n = round(_target(plan, "property_registration")) if len(outside) else 0
    hh = outside[np.floor(rng.random(n) * len(outside)).astype(np.int64)]
    use = _choice(rng, n, [0.8, 0.12, 0.03, 0.05])
    area = np.select(
        [use == 0, use == 1, use == 2],
        [rng.uniform(60, 160, n), rng.uniform(20, 200, n), rng.uniform(200, 2_000, n)],
        rng.uniform(10, 60, n),
    )
    plan.parts["property_registration"].add(
        person=ctx.head[hh],
        day=_uniform_days(rng, ctx.start, ctx.as_of - 1, n),
        action=(rng.random(n) < 0.3).astype(np.int8),
        use=use,
        area=np.round(area, 2),
        region=rng.random(n) < 0.9,
    )

    rng = plan.rng("feeds.business_registration")
    n = round(_target(plan, "business_registration")) if len(outside) else 0
    hh = outside[np.floor(rng.random(n) * len(outside)).astype(np.int64)]
    kind = np.array([INDIVIDUAL, COMPANY, COOPERATIVE])[_choice(rng, n, [0.65, 0.2, 0.15])]
    capital = np.where((kind == INDIVIDUAL) & (rng.random(n) < 0.2), np.nan, _capital(rng, kind))
    plan.parts["business_registration"].add(
        person=ctx.head[hh],
        day=_uniform_days(rng, ctx.start, ctx.as_of - 1, n),
        action=(rng.random(n) < 0.25).astype(np.int8),
        kind=kind,
        capital=capital,
    )


def _background_meters(plan: _Plan, lone_elder: Arr) -> None:
    """Enough ordinary meters of elders living alone to reach the water volume: daily
    meters all year, and ≈ 2 % hourly ones installed during it."""
    ctx, rng = plan.ctx, plan.rng("feeds.water_meter_reading")
    m = plan.meters.arrays()
    truth_rows = np.sum((ctx.as_of - m["first"]) * np.where(m["hourly"], 24, 1))
    per_meter = 0.98 * 0.99 * WINDOW_DAYS + 0.02 * 24 * WINDOW_DAYS / 2
    count = round(max(0.0, _target(plan, "water_meter_reading") - truth_rows) / per_meter)
    pool = np.flatnonzero(lone_elder & ~plan.taken)
    hh = np.sort(pool[_random_subset(rng, len(pool), count)])
    hourly = rng.random(len(hh)) < 0.02
    first = np.where(hourly, _uniform_days(rng, ctx.start, ctx.as_of - 1, len(hh)), ctx.start)
    plan.meters.add(hh=hh, hourly=hourly, first=first, truth=False)


# --------------------------------------------------------------------------------------
# Water readings
# --------------------------------------------------------------------------------------


def _water_rows(plan: _Plan) -> dict[str, Arr]:
    """Daily or hourly readings of every meter from its first day to the day before as_of.

    ``read_at`` is the last second of the interval (a daily reading of day D at D
    23:59:59, the hour 07–08 at D 07:59:59), so the calendar date of ``read_at`` is the
    metered day whichever way it is read. Background days use 65–390 litres; truth
    meters have no gaps, so an episode is never split or joined by a missing day.
    """
    ctx, rng = plan.ctx, plan.rng("feeds.water_meter_reading.readings")
    m = plan.meters.arrays()
    n_m = len(m["hh"])
    meter, offset = _within(np.maximum(ctx.as_of - m["first"], 0))
    day = m["first"][meter] + offset
    n = len(day)
    usual = rng.uniform(90, 200, n_m)
    litres = np.clip(usual[meter] * np.exp(rng.normal(0, 0.25, n)), 65, 390)
    rel = day - m["ep_start"][meter]
    in_episode = (m["ep_kind"][meter] > 0) & (rel >= 0) & (rel < m["ep_len"][meter])
    kind = np.where(in_episode, m["ep_kind"][meter], _EP_NONE)
    u = rng.random(n)
    litres = np.select(
        [kind == _EP_LOW, kind == _EP_HIGH, kind == _EP_LOWISH, kind == _EP_INCOMPLETE],
        [np.where(u < 0.3, 0.0, 8.0 * u), 1_200 + 2_800 * u, 11.5 + 2.5 * u, 1 + 4 * u],
        litres,
    )
    hourly = m["hourly"][meter]
    gap = ~m["truth"][meter] & (rng.random(n) < 0.01)

    daily = np.flatnonzero(~hourly & ~gap)
    out_meter = [meter[daily]]
    out_time = [day[daily] * 86_400 + 86_399]
    out_interval = [np.ones(len(daily), dtype=np.int8)]
    out_litres = [np.round(litres[daily], 2)]

    hours = np.flatnonzero(hourly)
    h = len(hours)
    weight = _HOURLY_PROFILE[None, :] * rng.gamma(4.0, 1.0, (h, 24))
    present = np.ones((h, 24), dtype=bool)
    # A background gap loses each hour with a chance of 1 in 4; the incomplete
    # near-miss keeps only its first 3–10 hours (the line went down).
    present &= ~(gap[hours][:, None] & (rng.random((h, 24)) < 0.25))
    keep = rng.integers(3, 11, h)
    cut = kind[hours] == _EP_INCOMPLETE
    present &= ~cut[:, None] | (np.arange(24)[None, :] < keep[:, None])
    weight *= present
    weight /= np.maximum(weight.sum(axis=1, keepdims=True), 1e-12)
    values = np.round(litres[hours][:, None] * weight, 2)
    row, hour = np.nonzero(present)
    out_meter.append(meter[hours][row])
    out_time.append(day[hours][row] * 86_400 + hour * 3_600 + 3_599)
    out_interval.append(np.zeros(len(row), dtype=np.int8))
    out_litres.append(values[row, hour])

    return {
        "meter": np.concatenate(out_meter),
        "time": np.concatenate(out_time),
        "interval": np.concatenate(out_interval),
        "litres": np.concatenate(out_litres),
        "meter_hh": m["hh"],
    }


# --------------------------------------------------------------------------------------
# Department tables
# --------------------------------------------------------------------------------------

_ARROW_TYPES = {
    "string": pa.string(),
    "id_number": pa.string(),
    "date": pa.date32(),
    "datetime": pa.timestamp("s"),
    "enum": pa.string(),
    "icd10": pa.string(),
    "decimal": MONEY,
    "integer": pa.int64(),
    "boolean": pa.bool_(),
    "region_code": pa.string(),
}


def _table(feed_id: str, columns: dict[str, pa.Array]) -> pa.Table:
    """The feed in its catalogue's column order; names and types checked."""
    feed = catalogue()[feed_id]
    names = [c.name for c in feed.columns]
    if sorted(names) != sorted(columns):
        raise AssertionError(f"{feed_id}: columns {sorted(columns)} differ from {names}")
    arrays = []
    for column in feed.columns:
        array = columns[column.name]
        wanted = _ARROW_TYPES[column.type]
        if array.type != wanted:
            array = pc.cast(array, wanted)
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=names)


def _select(rows: dict[str, Arr], keep: Arr) -> dict[str, Arr]:
    return {name: values[keep] for name, values in rows.items()}


def _sorted(rows: dict[str, Arr], *keys: str) -> dict[str, Arr]:
    order = np.lexsort(tuple(rows[k] for k in reversed(keys)))
    return _select(rows, order)


def _ymd_number(days: Arr) -> Arr:
    y, m, d = _ymd(days)
    return np.asarray(y * 10_000 + m * 100 + d, dtype=np.int64)


def _permuted(seq: Arr, modulus: int, multiplier: int, offset: int) -> Arr:
    """A bijection of 0..modulus-1 (``multiplier`` coprime with ``modulus``): serial
    numbers that do not look serial."""
    return (np.asarray(seq, dtype=np.int64) * multiplier + offset) % modulus


def _plates(prefix: str, n: int) -> pa.Array:
    value = _permuted(np.arange(n), 34**5, 1_000_003, 4_242)
    chars = np.empty((n, 5), dtype=np.uint8)
    for i in range(4, -1, -1):
        chars[:, i] = _PLATE_CHARS[value % 34]
        value //= 34
    return _join(prefix, _ascii(chars))


def _credit_codes(kind: Arr, county: str) -> pa.Array:
    """Unified social credit codes (GB 32100) with valid check characters: 9 (market
    regulation) + 1 company / 2 individual / 3 cooperative + county + organisation code
    (GB 11714, 8 digits and a check) + check."""
    n = len(kind)
    body = np.empty((n, 18), dtype=np.uint8)
    body[:, 0] = ord("9")
    body[:, 1] = np.array([ord("1"), ord("2"), ord("3")], dtype=np.uint8)[kind]
    body[:, 2:8] = np.frombuffer(county.encode(), dtype=np.uint8)[None, :]
    body[:, 8:16] = _digits(_permuted(np.arange(n), 10**8, 7_777_777, 31_337_000), 8)
    org = (body[:, 8:16].astype(np.int64) - 48) @ _ORG_WEIGHTS
    org_check = 11 - org % 11  # 10 → X, 11 → 0
    body[:, 16] = np.where(org_check == 10, ord("X"), np.where(org_check == 11, 48, 48 + org_check))
    lookup = np.full(256, 0, dtype=np.int64)
    lookup[_CREDIT_CHARS] = np.arange(len(_CREDIT_CHARS))
    total = lookup[body[:, :17]] @ _CREDIT_WEIGHTS
    body[:, 17] = _CREDIT_CHARS[(31 - total % 31) % 31]
    return _ascii(body)


def _feed_tables(
    plan: _Plan, water: dict[str, Arr]
) -> tuple[dict[str, pa.Table], dict[str, dict[str, Arr]]]:
    """Arrow tables of every feed and the final NumPy rows (for the registry truth)."""
    ctx = plan.ctx
    ids = ctx.ids
    rows = {feed_id: parts.arrays() for feed_id, parts in plan.parts.items()}
    # Nobody has records after their death (contributions also stop while unemployed).
    deaths = rows["death"]
    died = np.full(ctx.n_p, _NEVER, dtype=np.int64)
    died[deaths["person"]] = deaths["day"]
    for feed_id, r in rows.items():
        if feed_id != "death":
            rows[feed_id] = _select(r, r["day"] <= died[r["person"]])
    r = rows["social_insurance_contribution"]
    rows["social_insurance_contribution"] = _select(
        r, r["day"] < plan.stop_contributions[r["person"]]
    )

    def id_of(person: Arr) -> pa.Array:
        return pc.take(ids, pa.array(person))

    province = _PROVINCE.get(ctx.county[:2], "赣")
    out: dict[str, pa.Table] = {}
    vocab = list(plan.icd)

    r = rows["medical_settlement"] = _sorted(rows["medical_settlement"], "day", "person")
    n = len(r["day"])
    sid = np.empty((n, 18), dtype=np.uint8)
    sid[:, 0:2] = np.frombuffer(b"YB", dtype=np.uint8)
    # The date digits are made once a day of the window, then looked up.
    window_days = np.arange(ctx.start, ctx.as_of)
    sid[:, 2:10] = _digits(_ymd_number(window_days), 8)[r["day"] - ctx.start]
    sid[:, 10:18] = _digits(np.arange(n) % 10**8, 8)
    out["medical_settlement"] = _table(
        "medical_settlement",
        {
            "settlement_id": _ascii(sid),
            "id_number": id_of(r["person"]),
            "settled_on": _date_array(r["day"]),
            "care_type": _take(CARE, r["care"]),
            "icd10": _take(vocab, r["code"]),
            "total_amount": _decimal(r["total"]),
            "out_of_pocket": _decimal(r["oop"]),
        },
    )

    r = rows["social_insurance_contribution"] = _sorted(
        rows["social_insurance_contribution"], "day", "person", "scheme"
    )
    out["social_insurance_contribution"] = _table(
        "social_insurance_contribution",
        {
            "id_number": id_of(r["person"]),
            "period": _date_array(r["day"]),
            "scheme": _take(SCHEMES, r["scheme"]),
            "wage_base": _decimal(r["base"], ~np.isnan(r["base"])),
            "employer": _take_nullable([*EMPLOYERS, *MIGRANT_EMPLOYERS], r["employer"]),
        },
    )

    r = rows["school_status"] = _sorted(rows["school_status"], "day", "person", "status")
    out["school_status"] = _table(
        "school_status",
        {
            "id_number": id_of(r["person"]),
            "recorded_on": _date_array(r["day"]),
            "stage": _take(STAGES, r["stage"]),
            "status": _take(SCHOOL_STATUS, r["status"]),
            "amount_owed": _decimal(r["owed"], ~np.isnan(r["owed"])),
            "school": _take_nullable(_SCHOOL_VOCAB, r["school"]),
        },
    )

    r = rows["housing_safety"] = _sorted(rows["housing_safety"], "day", "hh")
    out["housing_safety"] = _table(
        "housing_safety",
        {
            "house_id": _join(pc.take(ctx.hh_number, pa.array(r["hh"])), "-1"),
            "id_number": id_of(r["person"]),
            "rated_on": _date_array(r["day"]),
            "rating": _take(RATINGS, r["rating"]),
        },
    )

    r = rows["death"] = _sorted(rows["death"], "day", "person")
    out["death"] = _table(
        "death",
        {
            "id_number": id_of(r["person"]),
            "died_on": _date_array(r["day"]),
            "cause_icd10": _take_nullable(_CAUSES, r["cause"]),
        },
    )

    r = rows["disability_registration"] = _sorted(rows["disability_registration"], "day", "person")
    digit = np.array([_DISABILITY_DIGIT[d] for d in DISABILITY])[r["type"]]
    out["disability_registration"] = _table(
        "disability_registration",
        {
            "certificate_number": _join(id_of(r["person"]), _int_strings(digit * 10 + r["grade"])),
            "id_number": id_of(r["person"]),
            "registered_on": _date_array(r["day"]),
            "action": _take(DISABILITY_ACTIONS, r["action"]),
            "disability_type": _take(DISABILITY, r["type"]),
            "grade": pa.array(r["grade"].astype(np.int64)),
        },
    )

    r = rows["unemployment_registration"] = _sorted(
        rows["unemployment_registration"], "day", "person"
    )
    out["unemployment_registration"] = _table(
        "unemployment_registration",
        {
            "id_number": id_of(r["person"]),
            "registered_on": _date_array(r["day"]),
            "action": _take(UNEMPLOYMENT_ACTIONS, r["action"]),
        },
    )

    r = rows["vehicle_registration"] = _sorted(rows["vehicle_registration"], "day", "person")
    prefix = province + _CITY_LETTER.get(ctx.county[:4], "A")
    out["vehicle_registration"] = _table(
        "vehicle_registration",
        {
            "plate": _plates(prefix, len(r["day"])),
            "id_number": id_of(r["person"]),
            "registered_on": _date_array(r["day"]),
            "action": _take(VEHICLE_ACTIONS, r["action"]),
            "kind": _take(VEHICLE_KINDS, r["kind"]),
            "price": _decimal(r["price"], ~np.isnan(r["price"])),
        },
    )

    r = rows["property_registration"] = _sorted(rows["property_registration"], "day", "person")
    n = len(r["day"])
    year, _m, _d = _ymd(r["day"])
    serial = _ascii(_digits(_permuted(np.arange(n), 10**7, 3_141_593, 271_828), 7))
    region = pc.take(ctx.region_code, pa.array(ctx.p_hh[r["person"]]))
    out["property_registration"] = _table(
        "property_registration",
        {
            "certificate_number": _join(
                f"{province}（", _int_strings(year), "）不动产权第", serial, "号"
            ),
            "id_number": id_of(r["person"]),
            "registered_on": _date_array(r["day"]),
            "action": _take(PROPERTY_ACTIONS, r["action"]),
            "use": _take(PROPERTY_USES, r["use"]),
            "area_m2": _decimal(r["area"]),
            "region_code": pc.if_else(pa.array(r["region"]), region, pa.scalar(None, pa.string())),
        },
    )

    r = rows["business_registration"] = _sorted(rows["business_registration"], "day", "person")
    out["business_registration"] = _table(
        "business_registration",
        {
            "credit_code": _credit_codes(r["kind"], ctx.county),
            "id_number": id_of(r["person"]),
            "registered_on": _date_array(r["day"]),
            "action": _take(BUSINESS_ACTIONS, r["action"]),
            "kind": _take(BUSINESS_KINDS, r["kind"]),
            "capital": _decimal(r["capital"], ~np.isnan(r["capital"])),
        },
    )

    # Meter numbers and holders are made once a meter, then taken for every reading.
    meter_hh = water["meter_hh"]
    order = np.lexsort((water["time"], meter_hh[water["meter"]]))
    meter = pa.array(water["meter"][order])
    mid = np.empty((len(meter_hh), 12), dtype=np.uint8)
    mid[:, 0:2] = np.frombuffer(b"SM", dtype=np.uint8)
    mid[:, 2:] = _digits(_permuted(meter_hh + 1, 10**10, 7_919, 104_729), 10)
    out["water_meter_reading"] = _table(
        "water_meter_reading",
        {
            "meter_id": pc.take(_ascii(mid), meter),
            "id_number": pc.take(id_of(ctx.head[meter_hh]), meter),
            "read_at": pa.array(water["time"][order], pa.timestamp("s")),
            "interval": _take(("hour", "day"), water["interval"][order]),
            "litres": _decimal(water["litres"][order]),
        },
    )
    return {feed_id: out[feed_id] for feed_id in FEED_IDS}, rows


# --------------------------------------------------------------------------------------
# Registry-state truth: an independent NumPy reading of docs/monitoring-rules.md
# --------------------------------------------------------------------------------------


def _registry_truth(plan: _Plan, rows: dict[str, dict[str, Arr]]) -> None:
    """income_below_standard, rigid_expenditure and hardship_score for every household.

    Income is the latest income year's total; members are the persons not deceased;
    comparisons are made as income < standard × 12 × members, so no division rounds.
    """
    ctx = plan.ctx
    n_hh = ctx.n_hh
    members = ctx.members.astype(np.float64)
    monthly_line = ctx.standard * 12 * members  # the standard for the household a year
    income = ctx.income
    hh_all = np.arange(n_hh)

    below = (income < monthly_line) & ~ctx.active_assisted
    marginal_band = (
        (income >= monthly_line)
        & (income < MARGINAL_FACTOR * monthly_line)
        & ~ctx.active_assisted
        & ~ctx.active_marginal
    )
    plan.add_truth(
        "income_below_standard",
        "registry",
        "per-capita income under the dibao standard, not assisted",
        hh=hh_all[below],
        level=YELLOW,
    )
    plan.add_truth(
        "income_below_standard",
        "registry",
        "per-capita income 1–1.5 times the standard, not assisted or marginal",
        hh=hh_all[marginal_band],
        level=BLUE,
    )

    after_costs = income - ctx.medical_exp - ctx.education_exp
    rigid = (
        (after_costs < monthly_line)
        & (income >= monthly_line)
        & ~ctx.active_assisted
        & ~ctx.active_rigid
    )
    plan.add_truth(
        "rigid_expenditure",
        "registry",
        "income above the standard, under it after medical and education costs",
        hh=hh_all[rigid],
        level=YELLOW,
    )

    # The hardship score, term by term as the table in docs/monitoring-rules.md.
    alive, age = ctx.alive, ctx.age_hi
    safe_members = np.maximum(members, 1)
    per_capita = income / 12 / safe_members
    t_income = 2.0 * np.clip(2 - per_capita / ctx.standard, 0, 2)
    able = ctx.per_household(
        alive & (age >= 18) & (age < 60) & (ctx.labour == LABOUR.index("full"))
    )
    t_labour = 1.5 * (able == 0)
    severe = ctx.per_household(alive & (ctx.dis_grade >= 1) & (ctx.dis_grade <= 2))
    t_disability = 0.8 * np.minimum(severe, 2)
    serious = ctx.per_household(alive & ctx.any_serious)
    t_illness = 0.8 * np.minimum(serious, 2)
    dependants = ctx.per_household(alive & ((age < 18) | (age >= 60)))
    t_dependants = 1.0 * np.where(members > 0, dependants / safe_members, 0)
    med = rows["medical_settlement"]
    oop = np.bincount(ctx.p_hh[med["person"]], weights=np.round(med["oop"], 2), minlength=n_hh)
    t_medical = 1.0 * np.minimum(oop / np.maximum(income, 1), 2)
    t_housing = 1.0 * _unsafe_households(rows["housing_safety"], n_hh)
    score = t_income + t_labour + t_disability + t_illness + t_dependants + t_medical + t_housing
    # Ranked by score, ties by household id, among the households with living members
    # (per-capita income needs one). The score is rounded to 6 decimals before ranking, so
    # that the same terms summed in another order (SQL, Spark) rank alike.
    ranked = hh_all[members > 0]
    order = ranked[np.lexsort((ranked, -np.round(score[ranked], 6)))]
    n_ranked = len(ranked)
    red_n = (RED_LINE_PERCENT * n_ranked + 99) // 100  # ceil(3 % × households), exactly
    blue_n = (BLUE_LINE_PERCENT * n_ranked + 99) // 100
    red, blue = order[:red_n], order[red_n:blue_n]
    plan.add_truth(
        "hardship_score",
        "registry",
        "hardship score in the bottom 3 % of households, not enrolled",
        hh=red[~ctx.active_any[red]],
        level=YELLOW,
    )
    plan.add_truth(
        "hardship_score",
        "registry",
        "hardship score in the bottom 10 % of households, not enrolled",
        hh=blue[~ctx.active_any[blue]],
        level=BLUE,
    )


def _unsafe_households(housing: dict[str, Arr], n_hh: int) -> Arr:
    """Households whose house's latest rating in the window is C or D."""
    out = np.zeros(n_hh, dtype=bool)
    if len(housing["hh"]) == 0:
        return out
    order = np.lexsort((housing["day"], housing["hh"]))
    hh, rating = housing["hh"][order], housing["rating"][order]
    last = np.r_[hh[1:] != hh[:-1], True]
    out[hh[last]] = rating[last] >= 2
    return out


def _truth_table(plan: _Plan) -> pa.Table:
    t = plan.truth.arrays()
    order = np.lexsort((t["day"], t["person"], t["kind"], t["rule"], t["hh"]))
    t = _select(t, order)
    notes = sorted(plan.notes, key=plan.notes.__getitem__)
    return pa.Table.from_arrays(
        [
            pa.array(t["hh"] + 1),
            pa.array(t["person"] + 1, pa.int64(), mask=t["person"] < 0),
            _take(RULES, t["rule"]),
            _take(EXPECTED, t["expected"]),
            _take(KINDS, t["kind"]),
            _take_nullable(LEVELS, t["level"]),
            _date_array(np.maximum(t["day"], 0), t["day"] >= 0),
            _take(notes, t["note"]),
        ],
        schema=TRUTH_SCHEMA,
    )


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------


def generate_feeds(
    population: dict[str, pa.Table],
    *,
    seed: int,
    as_of: date,
    records_per_household: float = DEFAULT_RECORDS_PER_HOUSEHOLD,
    progress: ProgressFn | None = None,
) -> tuple[dict[str, pa.Table], pa.Table]:
    """The eleven department feeds over ``[as_of − 365 days, as_of)`` and the truth table.

    ``population`` is what ``generate_population`` returns (or ``read_population``
    reads). ``records_per_household`` sets the background volume (rows a household a
    year over all feeds); planted events and near-misses do not scale with it.
    ``progress`` is called with each name of ``FEED_STAGES`` as it finishes.
    """
    if seed < 0:
        raise ValueError("seed must not be negative")
    if records_per_household < 0:
        raise ValueError("records_per_household must not be negative")

    def step(name: str) -> None:
        if progress:
            progress(name)

    ctx = _context(population, as_of)
    plan = _Plan(
        ctx=ctx,
        seed=seed,
        scale=records_per_household / DEFAULT_RECORDS_PER_HOUSEHOLD,
        taken=np.zeros(ctx.n_hh, dtype=bool),
    )
    comp = _composition(ctx)
    stage = _school_stage(ctx, plan.rng("feeds.school_status.stage"))
    step("context")

    lone_elder = _plant_water(plan)
    _plant_medical_burden(plan)
    _plant_serious_disease(plan)
    _plant_working_age_death(plan, comp)
    _plant_severe_disability(plan, comp)
    _plant_unemployment(plan, comp)
    _plant_school(plan, stage)
    _plant_housing(plan)
    _plant_assets(plan)
    step("planted")

    _background_meters(plan, lone_elder)
    meter_households = np.zeros(ctx.n_hh, dtype=bool)
    meter_households[plan.meters.arrays()["hh"]] = True
    _background_medical(plan)
    _background_contributions(plan)
    _background_school(plan, stage)
    _background_housing(plan)
    _background_deaths(plan, meter_households)
    _background_disability(plan)
    _background_unemployment(plan, comp)
    _background_assets(plan)
    step("background")

    water = _water_rows(plan)
    step("water")
    feeds, rows = _feed_tables(plan, water)
    del water
    step("tables")
    _registry_truth(plan, rows)
    truth = _truth_table(plan)
    step("truth")
    return feeds, truth


def write_feeds(
    feeds: dict[str, pa.Table],
    truth: pa.Table,
    out_dir: Path,
    manifest: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """``out_dir/feeds/<feed>.parquet`` (and ``manifest.json``) and
    ``out_dir/truth/truth.parquet``; fixed writer options and no timestamps, so the
    same tables give the same bytes."""
    feeds_dir = out_dir / FEEDS_DIR
    truth_dir = out_dir / TRUTH_DIR
    feeds_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for feed_id in FEED_IDS:
        path = feeds_dir / f"{feed_id}.parquet"
        pq.write_table(feeds[feed_id], path, compression="zstd", row_group_size=1 << 20)
        paths[feed_id] = path
    paths["truth"] = truth_dir / TRUTH_FILE
    pq.write_table(truth, paths["truth"], compression="zstd", row_group_size=1 << 20)
    info = dict(manifest or {})
    info["counts"] = {feed_id: feeds[feed_id].num_rows for feed_id in FEED_IDS}
    info["truth_rows"] = truth.num_rows
    (feeds_dir / MANIFEST).write_text(
        json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return paths


def feeds_manifest(*, seed: int, as_of: date, records_per_household: float) -> dict[str, Any]:
    return {
        "generator_version": FEEDS_VERSION,
        "seed": seed,
        "as_of": as_of.isoformat(),
        "window": [(as_of - timedelta(days=WINDOW_DAYS)).isoformat(), as_of.isoformat()],
        "records_per_household": records_per_household,
    }


def read_feeds(directory: Path) -> dict[str, pa.Table]:
    """The feeds written by ``write_feeds`` (``directory`` or its ``feeds/``)."""
    if not (directory / "death.parquet").exists() and (directory / FEEDS_DIR).is_dir():
        directory = directory / FEEDS_DIR
    missing = [f for f in FEED_IDS if not (directory / f"{f}.parquet").exists()]
    if missing:
        raise FileNotFoundError(f"{directory}: missing {', '.join(missing)}.parquet")
    # Parquet has no seconds unit for timestamps: read_at comes back in milliseconds and
    # is cast back to the department form.
    return {
        feed_id: pq.read_table(directory / f"{feed_id}.parquet").cast(feed_schema(feed_id))
        for feed_id in FEED_IDS
    }


def feed_schema(feed_id: str) -> pa.Schema:
    """The Arrow schema of a feed in department form (from its catalogue definition)."""
    return pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in catalogue()[feed_id].columns])


def read_truth(directory: Path) -> pa.Table:
    """The truth table written by ``write_feeds`` (``directory``, or its ``truth/``)."""
    for path in (directory / TRUTH_FILE, directory / TRUTH_DIR / TRUTH_FILE):
        if path.exists():
            return pq.read_table(path)
    raise FileNotFoundError(f"{directory}: no {TRUTH_FILE}")
