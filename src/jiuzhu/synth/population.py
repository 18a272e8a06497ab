"""A synthetic county population, vectorised (NumPy + PyArrow; no Django here).

``generate_population`` returns one Arrow table per kind of record (regions, households,
persons, illnesses, incomes, assets, expenditures, enrolments); ``write_population``
stores them as Parquet. Every number comes from a seeded NumPy generator, so the same
seed, size, region and reference date give byte-identical files. Each stage draws from
its own stream (``_rng(seed, "persons")``…), so a stage added later (department feeds,
planted truth) does not shift what the earlier stages produce.

Nothing here is ever called once per row: 2 064 000 households (≈ 6 M people) must be
generated in minutes on two cores. Strings are built by Arrow compute kernels or straight
from byte buffers (ID numbers, household numbers, phones).

The distributions and their sources are described in docs/synth.md.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

Arr = npt.NDArray[Any]

GENERATOR_VERSION = 2
# A fixed reference date keeps the output independent of the day it is generated on
# (ages, enrolment spells, the income year). Pass ``as_of`` to move it.
REFERENCE_DATE = date(2026, 1, 1)
DEMO_COUNTY = "360823"
TABLE_NAMES = (
    "regions",
    "households",
    "persons",
    "illnesses",
    "incomes",
    "assets",
    "expenditures",
    "enrolments",
)
MANIFEST = "manifest.json"
_EPOCH = date(1970, 1, 1)
_DEMO_FIXTURE = Path(__file__).resolve().parents[1] / "regions" / "fixtures" / "xiajiang.json"

MONEY = pa.decimal128(14, 2)
QUANTITY = pa.decimal128(10, 2)


# --------------------------------------------------------------------------------------
# Region input
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    code: str  # 9 digits
    name: str


@dataclass(frozen=True)
class Village:
    code: str  # 12 digits
    name: str
    town_code: str
    is_synthetic: bool = True


@dataclass(frozen=True)
class RegionSpec:
    """The county the population lives in.

    ``villages`` are the villages already known (from the fixture or the database):
    synthetic ones are reused; real ones only reserve their codes, so no synthetic
    village ever takes the code of a real one.
    """

    county_code: str
    county_name: str
    towns: tuple[Town, ...]
    villages: tuple[Village, ...] = ()


def demo_region_spec() -> RegionSpec:
    """峡江县 from the demo fixture: real towns, synthetic villages (read without Django)."""
    data = json.loads(_DEMO_FIXTURE.read_text(encoding="utf-8"))
    rows = data["regions"]
    county = next(r for r in rows if r["code"] == DEMO_COUNTY)
    towns = tuple(
        Town(r["code"], r["name"])
        for r in rows
        if len(r["code"]) == 9 and r["code"].startswith(DEMO_COUNTY)
    )
    villages = tuple(
        Village(r["code"], r["name"], r["parent"], bool(r.get("synthetic", False)))
        for r in rows
        if len(r["code"]) == 12 and r["code"].startswith(DEMO_COUNTY)
    )
    return RegionSpec(DEMO_COUNTY, county["name"], towns, villages)


@dataclass(frozen=True)
class Parameters:
    """Shares and amounts; the defaults and where they come from are in docs/synth.md."""

    dibao_standard_rural: int = 616  # yuan a person a month, national average Sept 2025
    dibao_standard_urban: int = 828
    dibao_share: float = 0.045  # households with an active 低保 spell
    dibao_history_share: float = 0.012  # households whose 低保 spell has ended
    tekun_share: float = 0.012  # households that are one 特困 person
    marginal_share: float = 0.015  # 低保边缘
    relapse_share: float = 0.012  # 防止返贫监测 (rural)
    rigid_share: float = 0.004  # 刚性支出困难
    temporary_share: float = 0.015  # 临时救助 in the last twelve months
    orphan_rate: float = 0.006  # of the children raised by grandparents alone
    unsupported_child_rate: float = 0.012
    child_allowance: int = 1300  # 孤儿 / 事实无人抚养儿童 basic living allowance a month
    village_households: int = 450  # target size of a synthetic village
    hidden_poverty_share: float = 0.012  # outside assistance, below 1.5 × the standard


ProgressFn = Callable[[str], None]
# The names ``generate_population`` reports to ``progress``, in order.
GENERATION_STAGES = (
    "villages",
    "members",
    "illnesses",
    "abilities",
    "assistance",
    "incomes",
    "enrolments",
    "expenditures",
    "assets",
    "names",
    "tables",
)


# --------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------


def _rng(seed: int, stream: str) -> np.random.Generator:
    # A SeedSequence per named stream: stages are independent of one another.
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def _choice_by_group(
    rng: np.random.Generator, groups: Arr, table: Sequence[Sequence[float]]
) -> Arr:
    """One category per row, drawn from the probability row ``table[groups[i]]``."""
    probs = np.asarray(table, dtype=np.float64)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(groups))
    out = np.zeros(len(groups), dtype=np.int8)
    for k in range(probs.shape[1] - 1):
        out += u >= cum[groups, k]
    return out


def _choice(rng: np.random.Generator, n: int, probs: Sequence[float]) -> Arr:
    return _choice_by_group(rng, np.zeros(n, dtype=np.int8), [probs])


def _split(total: int, weights: Arr) -> Arr:
    """Integers proportional to ``weights`` that add up to ``total`` (largest remainder)."""
    w = np.asarray(weights, dtype=np.float64)
    if total == 0 or len(w) == 0:
        return np.zeros(len(w), dtype=np.int64)
    raw = w / w.sum() * total
    base = np.floor(raw).astype(np.int64)
    rest = total - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base


def _within(counts: Arr) -> tuple[Arr, Arr]:
    """For groups of the given sizes: the group of every item and its rank in the group."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(owner)) - np.repeat(starts, counts)
    return owner, rank


def _lognormal(rng: np.random.Generator, median: float | Arr, sigma: float, n: int) -> Arr:
    return np.asarray(median) * np.exp(rng.normal(0.0, sigma, n))


def _digits(values: Arr, width: int) -> Arr:
    """(n, width) ASCII digits of non-negative integers, zero-padded."""
    v = np.asarray(values, dtype=np.int64).copy()
    out = np.empty((len(v), width), dtype=np.uint8)
    for i in range(width - 1, -1, -1):
        out[:, i] = v % 10 + 48
        v //= 10
    return out


def _strings_from_bytes(matrix: Arr, lengths: Arr | None = None) -> pa.Array:
    """A UTF-8 string array straight from a byte matrix (one row a string, ASCII).

    With ``lengths`` each row keeps only that many leading bytes (0 gives "").
    """
    n, width = matrix.shape
    if lengths is None:
        lengths = np.full(n, width, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if (lengths == width).all():
        data = np.ascontiguousarray(matrix).reshape(-1)
    else:
        data = np.ascontiguousarray(matrix[np.arange(width)[None, :] < lengths[:, None]])
    otype = np.int32 if offsets[-1] < 2**31 else np.int64
    kind = pa.string() if otype is np.int32 else pa.large_string()
    arr = pa.Array.from_buffers(
        kind, n, [None, pa.py_buffer(offsets.astype(otype)), pa.py_buffer(data)]
    )
    return arr


def _take(vocab: Sequence[str], index: Arr) -> pa.Array:
    return pc.take(pa.array(list(vocab), pa.string()), pa.array(np.asarray(index, np.int64)))


def _int_strings(values: Arr) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def _join(*parts: pa.Array | str) -> pa.Array:
    args = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, "")


def _money(yuan: Arr) -> pa.Array:
    """decimal128(14, 2) from whole yuan, built from the 16-byte little-endian words."""
    cents = np.round(np.asarray(yuan, dtype=np.float64) * 100).astype(np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # sign extension
    return pa.Array.from_buffers(MONEY, len(cents), [None, pa.py_buffer(words)])


def _quantity(values: Arr, valid: Arr | None = None) -> pa.Array:
    hundredths = np.round(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)
    words = np.empty((len(hundredths), 2), dtype=np.int64)
    words[:, 0] = hundredths
    words[:, 1] = hundredths >> 63
    mask = None
    if valid is not None:
        mask = pa.array(np.asarray(valid, dtype=bool)).buffers()[1]
    return pa.Array.from_buffers(QUANTITY, len(hundredths), [mask, pa.py_buffer(words)])


def _dates(days: Arr, valid: Arr | None = None) -> pa.Array:
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(days, dtype=np.int32), pa.date32(), mask=mask)


def _nullable_int(values: Arr, valid: Arr, kind: pa.DataType) -> pa.Array:
    return pa.array(values, kind, mask=~np.asarray(valid, dtype=bool))


def _days(day: date) -> int:
    return (day - _EPOCH).days


def _ymd(days: Arr) -> tuple[Arr, Arr, Arr]:
    d = np.asarray(days, dtype="datetime64[D]")
    months = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months).astype(np.int64) + 1
    return year, month, day


# --------------------------------------------------------------------------------------
# Names (Faker's zh_CN data, sampled with NumPy)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NamePools:
    surnames: list[str]
    surname_weights: Arr
    given: dict[bool, list[str]]  # male → given names
    given_weights: dict[bool, Arr]


def _name_pools() -> _NamePools:
    from faker.providers.person.zh_CN import Provider

    surnames = list(Provider.last_names.keys())
    weights = np.array(list(Provider.last_names.values()), dtype=np.float64)
    given: dict[bool, list[str]] = {}
    given_w: dict[bool, Arr] = {}
    for male, listed in ((True, Provider.first_names_male), (False, Provider.first_names_female)):
        # Faker's lists hold ~60 names a sex; alone they would make a county of
        # namesakes. Two-character names composed from the same characters widen the
        # pool while keeping its flavour: 30 % listed single, 20 % listed double, 50 %
        # composed.
        singles = [g for g in listed if len(g) == 1]
        doubles = [g for g in listed if len(g) == 2]
        chars = sorted(set("".join(listed)))
        composed = [a + b for a in chars for b in chars if a != b and a + b not in doubles]
        names = singles + doubles + composed
        w = np.concatenate(
            [
                np.full(len(singles), 0.30 / len(singles)),
                np.full(len(doubles), 0.20 / len(doubles)),
                np.full(len(composed), 0.50 / len(composed)),
            ]
        )
        given[male] = names
        given_w[male] = w / w.sum()
    return _NamePools(surnames, weights / weights.sum(), given, given_w)


# --------------------------------------------------------------------------------------
# ID numbers (GB 11643)
# --------------------------------------------------------------------------------------

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)


def id_region_codes(county_code: str) -> list[tuple[str, int, int]]:
    """The codes a county's ID numbers carry, with the birth years each is valid for.

    ID numbers keep the code of the county as it was when they were issued: people of
    峡江县 born before 2000 carry 362423 (吉安地区), those born since 360823. The table
    is python-stdnum's (the same one ``parse_id_number`` checks against).
    """
    from stdnum import numdb

    def entries(text: str) -> list[tuple[int, int, str]]:
        out = []
        for item in text.split(","):
            start, end = 0, 9999
            if item.startswith("["):
                span, item = item[1:].split("]", 1)
                lo, hi = span.split("-")
                start, end = int(lo or 0), int(hi or 9999)
            out.append((start, end, item))
        return out

    by_code: dict[str, list[tuple[int, int, str]]] = {}
    for _length, low, high, _props, children in numdb.get("cn/loc").prefixes:
        if not (low <= county_code[:2] <= high):
            continue
        for _l2, low2, high2, props2, _c2 in children:
            if "county" not in props2:
                continue
            for number in range(int(low2), int(high2) + 1):
                by_code[f"{low}{number:04d}"] = entries(props2["county"])
    own = by_code.get(county_code)
    if not own:
        return [(county_code, 0, 9999)]
    names = {name for _s, _e, name in own}
    codes = [(county_code, s, e) for s, e, _n in own]
    for code, items in sorted(by_code.items()):
        if code != county_code:
            codes.extend((code, s, e) for s, e, name in items if name in names)
    return codes


def _id_numbers(
    rng: np.random.Generator, county_code: str, birth_days: Arr, male: Arr
) -> tuple[pa.Array, Arr]:
    """Unique, valid 18-digit numbers; returns them and the (possibly moved) birth days.

    Digits 15–17 are a sequence number whose last digit is odd for men; within one
    birth date and sex there are 500 of them. They are dealt out without repeats (a
    stride through the 500 from a random offset), so no two people share a number. In
    the rare case that more than 500 people of one sex share a birth date, the surplus
    move to the next day.
    """
    codes = id_region_codes(county_code)
    years = np.arange(1850, 2151)
    choice = np.zeros(len(years), dtype=np.int64)
    for i, y in enumerate(years):
        valid = [k for k, (_c, s, e) in enumerate(codes) if s <= y <= e]
        choice[i] = valid[0] if valid else 0
    code_digits = np.array([[ord(ch) for ch in c] for c, _s, _e in codes], dtype=np.uint8)

    days = np.asarray(birth_days, dtype=np.int64).copy()
    sexbit = np.asarray(male, dtype=np.int64)
    while True:
        key = days * 2 + sexbit
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        first = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
        group = np.cumsum(first) - 1
        starts = np.flatnonzero(first)
        rank = np.empty(len(days), dtype=np.int64)
        rank[order] = np.arange(len(days)) - starts[group]
        over = rank >= 500
        if not over.any():
            break
        days[over] += 1
    offsets = rng.integers(0, 500, size=len(starts))
    group_of = np.empty(len(days), dtype=np.int64)
    group_of[order] = group
    slot = (rank * 173 + offsets[group_of]) % 500  # 173 is prime to 500: a permutation
    seq = slot * 2 + sexbit

    year, month, day = _ymd(days)
    year_index = np.clip(year - years[0], 0, len(years) - 1)
    body = np.empty((len(days), 18), dtype=np.uint8)
    body[:, 0:6] = code_digits[choice[year_index]]
    body[:, 6:10] = _digits(year, 4)
    body[:, 10:12] = _digits(month, 2)
    body[:, 12:14] = _digits(day, 2)
    body[:, 14:17] = _digits(seq, 3)
    total = np.zeros(len(days), dtype=np.int32)
    for i, weight in enumerate(_ID_WEIGHTS):  # column by column: no (n, 17) int64 copy
        total += (body[:, i].astype(np.int32) - 48) * int(weight)
    body[:, 17] = _CHECK_CHARS[total % 11]
    return _strings_from_bytes(body), days


# --------------------------------------------------------------------------------------
# Villages and households
# --------------------------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 105 → 一百零五 (for village names up to 999)."""
    if not 0 < n < 1000:
        raise ValueError(n)
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += _CN_DIGITS[hundreds] + "百"
        if rest and tens == 0:
            return out + "零" + _CN_DIGITS[ones]
    if tens:
        out += ("" if tens == 1 and not hundreds else _CN_DIGITS[tens]) + "十"
    if ones:
        out += _CN_DIGITS[ones]
    return out


def _town_short(name: str, county_name: str) -> str:
    short = name.removeprefix(county_name)
    for suffix in ("街道办事处", "民族乡", "街道", "镇", "乡"):
        if short.endswith(suffix) and len(short) > len(suffix):
            return short.removesuffix(suffix)
    for word in ("园区", "开发区", "新区"):
        if word in short:
            return word
    return short


def _town_profile(name: str) -> tuple[float, float]:
    """(weight in the county's population, urban share) guessed from the town's name."""
    if name.endswith(("街道", "街道办事处")):
        return 1.0, 1.0
    if name.endswith("民族乡"):
        return 0.5, 0.05
    if name.endswith("乡"):
        return 0.7, 0.08
    if name.endswith("镇"):
        return 1.0, 0.25
    if any(word in name for word in ("园区", "开发区", "新区")):
        return 0.15, 1.0
    return 0.5, 0.3


# NBS village codes: 0xx are residents' committees (社区), 2xx–3xx villagers' committees.
_CODE_RANGES = {True: range(1, 100), False: range(201, 400)}


@dataclass
class _Villages:
    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    town_codes: list[str] = field(default_factory=list)
    town_names: list[str] = field(default_factory=list)
    urban: list[bool] = field(default_factory=list)
    households: list[int] = field(default_factory=list)


def _plan_villages(region: RegionSpec, households: int, params: Parameters) -> _Villages:
    """Spread the households over towns, urban communities and rural villages, reusing the
    synthetic villages already known and creating more where a town needs them."""
    rng = _rng(0, "villages")  # village layout depends on size only, not on the seed
    towns = sorted(region.towns, key=lambda t: t.code)
    if not towns:
        raise ValueError(f"no towns known for county {region.county_code}")
    profiles = [_town_profile(t.name) for t in towns]
    per_town = _split(households, np.array([w for w, _u in profiles]))
    used = {v.code for v in region.villages}
    plan = _Villages()
    for town, (_w, urban_share), n_town in zip(towns, profiles, per_town, strict=True):
        n_urban = round(int(n_town) * urban_share)
        short = _town_short(town.name, region.county_name)
        for urban, n in ((True, n_urban), (False, int(n_town) - n_urban)):
            existing = sorted(
                (
                    v
                    for v in region.villages
                    if v.town_code == town.code
                    and v.is_synthetic
                    and (int(v.code[9:]) < 200) == urban
                ),
                key=lambda v: v.code,
            )
            wanted = max(len(existing), math.ceil(n / params.village_households))
            free = [
                f"{town.code}{k:03d}"
                for k in _CODE_RANGES[urban]
                if f"{town.code}{k:03d}" not in used
            ]
            new_codes = free[: max(0, wanted - len(existing))]
            if n and not existing and not new_codes:
                raise ValueError(f"no free village codes left in town {town.code}")
            chosen = [(v.code, v.name) for v in existing]
            for code in new_codes:
                ordinal = len(chosen) + 1
                if urban:
                    label = "社区" if ordinal == 1 else f"{chinese_numeral(ordinal)}社区"
                else:
                    label = f"{chinese_numeral(ordinal)}村"
                chosen.append((code, f"{short}示例{label}（虚构）"))
            # Villages differ in size (coefficient of variation ≈ 0.25).
            sizes = _split(n, rng.gamma(16.0, 1.0, len(chosen)))
            for (code, name), size in zip(chosen, sizes, strict=True):
                plan.codes.append(code)
                plan.names.append(name)
                plan.town_codes.append(town.code)
                plan.town_names.append(town.name)
                plan.urban.append(urban)
                plan.households.append(int(size))
    return plan


# Household types (rows: rural, urban). A single elder, B elder couple, C single adult,
# D couple without children, E couple with children, F three generations, G grandparents
# with grandchildren (left-behind children), H single parent.
_TYPE_PROBS = [
    [0.13, 0.14, 0.10, 0.07, 0.22, 0.20, 0.08, 0.06],
    [0.09, 0.11, 0.13, 0.09, 0.35, 0.12, 0.04, 0.07],
]
A, B, C, D, E, F, G, H = range(8)

RELATIONSHIPS = [
    "head",
    "spouse",
    "parent",
    "child",
    "child_in_law",
    "grandchild",
    "grandparent",
    "sibling",
    "other",
]
REL_HEAD, REL_SPOUSE, REL_PARENT, REL_CHILD, REL_IN_LAW, REL_GRANDCHILD = range(6)
MARITAL = ["unmarried", "married", "widowed", "divorced"]
EDUCATION = ["none", "preschool", "primary", "junior", "senior", "college"]
HEALTH = ["healthy", "chronic", "serious", "disabled"]
DISABILITY = ["visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple"]
LABOUR = ["full", "partial", "none"]
EMPLOYMENT = [
    "employed",
    "flexible",
    "farming",
    "migrant",
    "unemployed",
    "student",
    "retired",
    "not_working",
]
HUKOU = ["agricultural", "non_agricultural", "resident"]

# (ICD-10, name, serious, sex only, prevalence by age band 0–17, 18–44, 45–59, 60–74, 75+)
# Orders of magnitude from the China Chronic Disease and Risk Factor Surveillance and the
# National Cancer Registry; see docs/synth.md.
ILLNESSES: list[tuple[str, str, bool, str, tuple[float, float, float, float, float]]] = [
    ("I10", "原发性高血压", False, "", (0.0, 0.04, 0.18, 0.36, 0.45)),
    ("E11", "2型糖尿病", False, "", (0.0, 0.015, 0.07, 0.13, 0.14)),
    ("I25", "慢性缺血性心脏病", False, "", (0.0, 0.002, 0.02, 0.06, 0.10)),
    ("I50", "心力衰竭", False, "", (0.0, 0.0005, 0.003, 0.012, 0.035)),
    ("I63", "脑梗死", True, "", (0.0, 0.001, 0.01, 0.03, 0.05)),
    ("J44", "慢性阻塞性肺疾病", False, "", (0.0, 0.002, 0.02, 0.06, 0.09)),
    ("M17", "膝关节病", False, "", (0.0, 0.003, 0.04, 0.10, 0.14)),
    ("B18", "慢性病毒性肝炎", False, "", (0.003, 0.02, 0.02, 0.012, 0.008)),
    ("G40", "癫痫", False, "", (0.003, 0.003, 0.003, 0.003, 0.003)),
    ("G20", "帕金森病", False, "", (0.0, 0.0, 0.001, 0.005, 0.015)),
    ("G30", "阿尔茨海默病", False, "", (0.0, 0.0, 0.001, 0.01, 0.06)),
    ("F20", "精神分裂症", True, "", (0.0003, 0.005, 0.005, 0.004, 0.002)),
    ("F31", "双相情感障碍", True, "", (0.0002, 0.002, 0.0015, 0.001, 0.0005)),
    ("N18", "慢性肾脏病（尿毒症期）", True, "", (0.0001, 0.0006, 0.002, 0.004, 0.005)),
    ("C34", "支气管和肺恶性肿瘤", True, "", (0.0, 0.0002, 0.002, 0.005, 0.006)),
    ("C16", "胃恶性肿瘤", True, "", (0.0, 0.0001, 0.001, 0.003, 0.004)),
    ("C22", "肝和肝内胆管恶性肿瘤", True, "", (0.0, 0.0002, 0.001, 0.002, 0.002)),
    ("C18", "结肠恶性肿瘤", True, "", (0.0, 0.0001, 0.001, 0.002, 0.003)),
    ("C50", "乳房恶性肿瘤", True, "F", (0.0, 0.0008, 0.004, 0.005, 0.004)),
    ("C53", "子宫颈恶性肿瘤", True, "F", (0.0, 0.0004, 0.0015, 0.0015, 0.001)),
    ("C91", "淋巴样白血病", True, "", (0.0003, 0.0001, 0.0001, 0.0001, 0.0001)),
    ("Q21", "先天性心脏间隔缺损", True, "", (0.002, 0.0003, 0.0, 0.0, 0.0)),
    ("D61", "再生障碍性贫血", True, "", (0.0001, 0.0001, 0.0001, 0.0001, 0.0001)),
]
CATEGORIES = [
    "dibao",
    "tekun_centralised",
    "tekun_dispersed",
    "dibao_marginal",
    "rigid_expenditure",
    "relapse_monitoring",
    "temporary",
    "unsupported_child",
    "orphan",
    "other",
]
STATUSES = ["active", "suspended", "ended"]
END_REASONS = [
    "",
    "家庭收入超过低保标准",
    "家庭成员就业，经济状况好转",
    "主动申请退出",
    "核查发现不符合条件",
    "风险消除",
    "一次性救助已发放",
]

_SELF_CARE_LOSS = {"I63", "G30", "G20"}  # conditions that often take away self-care


def _age_band5(age: Arr) -> Arr:
    """0–17, 18–44, 45–59, 60–74, 75+: the bands of the prevalence tables."""
    return np.searchsorted(np.array([18, 45, 60, 75]), age, side="right").astype(np.int8)


@dataclass
class _People:
    """Per-person arrays, ordered by household and, within it, head first."""

    hh: Arr
    age: Arr
    male: Arr
    rel: Arr
    gen: Arr
    lineage: Arr  # carries the household's surname


def _household_members(rng: np.random.Generator, types: Arr) -> _People:
    """Members by generation: elders (G0), the middle generation (G1) and children (G2),
    counted per household type; ages are drawn per household so that couples are close in
    age and parents are at least 20 years older than their children. The head is the
    first of the head's generation; the others' relationship follows from that."""
    n = len(types)
    u = rng.random((6, n))
    elders = np.zeros(n, np.int64)
    adults = np.zeros(n, np.int64)
    kids = np.zeros(n, np.int64)
    elders[types == A] = 1
    elders[types == B] = 2
    elders[types == F] = 1 + (u[0][types == F] < 0.55)
    elders[types == G] = 1 + (u[0][types == G] < 0.6)
    adults[types == C] = 1
    adults[np.isin(types, (D, E, F))] = 2
    adults[types == H] = 1
    ef = np.isin(types, (E, F))
    kids[ef] = 1 + _choice(rng, int(ef.sum()), [0.50, 0.42, 0.08])
    kids[types == G] = 1 + (u[1][types == G] < 0.45)
    kids[types == H] = 1 + (u[1][types == H] < 0.3)
    head_gen = np.where(np.isin(types, (A, B, G)), 0, 1)
    head_gen[types == F] = np.where(u[2][types == F] < 0.6, 1, 0)

    # Ages of the middle generation (G1) and the elders (G0), household level.
    beta = rng.beta(2.0, 2.0, n)
    b1 = np.select(
        [types == C, types == D, types == E, types == F, types == H],
        [
            20 + 39 * rng.beta(1.2, 1.5, n),
            np.where(u[3] < 0.5, 22 + 10 * u[4], 45 + 14 * u[4]),
            24 + 31 * beta,
            26 + 26 * beta,
            25 + 30 * beta,
        ],
        0.0,
    )
    gap1 = np.round(rng.normal(2.0, 2.0, n))  # husbands are a little older
    p_male1 = np.select([types == C, types == H], [0.65, 0.3], 0.85)
    first_male1 = u[5] < p_male1
    min_g1 = np.where(adults == 2, b1 - np.maximum(gap1, 0), b1)

    b0 = np.select(
        [types == A, types == B, types == F, types == G],
        [
            60 + rng.gamma(2.0, 6.0, n),
            60 + rng.gamma(2.0, 5.0, n),
            b1 + 22 + 11 * rng.random(n),
            52 + rng.gamma(2.5, 5.0, n),
        ],
        0.0,
    )
    gap0 = np.round(rng.normal(2.0, 2.5, n))
    p_male0 = np.select(
        [(types == A), (elders == 1) & (types == F), (elders == 1) & (types == G)],
        [0.4, 0.3, 0.35],
        0.9,
    )
    first_male0 = rng.random(n) < p_male0
    floor0 = np.where(np.isin(types, (A, B)), 60, 45)

    # Generation 0
    hh0, ord0 = _within(elders)
    male0 = np.where(ord0 == 0, first_male0[hh0], ~first_male0[hh0])
    age0 = b0[hh0] - np.where(~male0 & (elders[hh0] == 2), gap0[hh0], 0)
    age0 = np.clip(age0, floor0[hh0], 102)
    rel0 = np.where(head_gen[hh0] == 0, np.where(ord0 == 0, REL_HEAD, REL_SPOUSE), REL_PARENT)
    # Generation 1
    hh1, ord1 = _within(adults)
    male1 = np.where(ord1 == 0, first_male1[hh1], ~first_male1[hh1])
    age1 = np.clip(b1[hh1] - np.where(~male1 & (adults[hh1] == 2), gap1[hh1], 0), 18, 70)
    rel1 = np.where(
        head_gen[hh1] == 1,
        np.where(ord1 == 0, REL_HEAD, REL_SPOUSE),
        np.where(ord1 == 0, REL_CHILD, REL_IN_LAW),
    )
    # Generation 2
    hh2, _ord2 = _within(kids)
    t2 = types[hh2]
    cap = np.select([t2 == E, t2 == F, t2 == H], [28, 32, 17], 17)
    max_age = np.where(t2 == G, 17, np.clip(min_g1[hh2] - 20, 0, cap))
    age2 = np.floor(rng.random(len(hh2)) * (max_age + 1))
    male2 = rng.random(len(hh2)) < 0.53  # Jiangxi's sex ratio at birth is high
    rel2 = np.where(head_gen[hh2] == 1, REL_CHILD, REL_GRANDCHILD)

    hh = np.concatenate([hh0, hh1, hh2])
    rel = np.concatenate([rel0, rel1, rel2]).astype(np.int8)
    rank = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8], np.int8)[rel]
    order = np.lexsort((np.arange(len(hh)), rank, hh))
    gen = np.concatenate([np.zeros(len(hh0)), np.ones(len(hh1)), np.full(len(hh2), 2)])
    male = np.concatenate([male0, male1, male2])
    age = np.concatenate([age0, age1, age2]).astype(np.int64)
    rel = rel[order]
    gen = gen[order].astype(np.int8)
    male = male[order]
    lineage = male | (rel == REL_HEAD) | (gen == 2)
    return _People(hh=hh[order], age=age[order], male=male, rel=rel, gen=gen, lineage=lineage)


# --------------------------------------------------------------------------------------
# The generator: one function a stage, sharing the arrays in ``_Pop``
# --------------------------------------------------------------------------------------


def _empty() -> Arr:
    return np.zeros(0)


@dataclass
class _Pop:
    """Arrays shared between stages: household level (``n_hh``) and person level."""

    as_of_days: int
    urban: Arr
    types: Arr
    members: Arr
    people: _People
    head: Arr  # index of each household's head
    birth_days: Arr
    band5: Arr
    marital: Arr = field(default_factory=_empty)
    education: Arr = field(default_factory=_empty)
    disabled: Arr = field(default_factory=_empty)
    dis_type: Arr = field(default_factory=_empty)
    dis_grade: Arr = field(default_factory=_empty)
    n_serious: Arr = field(default_factory=_empty)  # serious illnesses of each person
    n_chronic: Arr = field(default_factory=_empty)
    loses_self_care: Arr = field(default_factory=_empty)
    health: Arr = field(default_factory=_empty)
    unable: Arr = field(default_factory=_empty)  # self-care items the person cannot do
    labour: Arr = field(default_factory=_empty)
    student: Arr = field(default_factory=_empty)
    employment: Arr = field(default_factory=_empty)

    @property
    def n_hh(self) -> int:
        return len(self.urban)

    @property
    def n_p(self) -> int:
        return len(self.people.hh)

    @property
    def p_hh(self) -> Arr:
        return self.people.hh

    @property
    def age(self) -> Arr:
        return self.people.age

    @property
    def male(self) -> Arr:
        return self.people.male

    @property
    def severe(self) -> Arr:
        return self.disabled & (self.dis_grade <= 2)

    def per_household(self, values: Arr) -> Arr:
        return np.bincount(self.p_hh, weights=values, minlength=self.n_hh)


def _traits(rng: np.random.Generator, pop: _Pop) -> None:
    """Marital status, education and disability."""
    people, age, male, n_p = pop.people, pop.age, pop.male, pop.n_p
    size_of_gen = np.zeros(n_p, dtype=np.int64)
    for g in (0, 1):
        in_gen = people.gen == g
        counts = np.bincount(people.hh[in_gen], minlength=pop.n_hh)
        size_of_gen[in_gen] = counts[people.hh[in_gen]]
    couple = (people.gen < 2) & (size_of_gen == 2)
    p_type = pop.types[people.hh]
    group = np.select(
        [
            couple,
            (people.gen == 0) & male,
            people.gen == 0,
            (people.gen == 1) & (p_type == H),
            (people.gen == 1) & (age < 30),
            (people.gen == 1) & male,
            people.gen == 1,
            age < 20,
        ],
        [0, 1, 2, 3, 4, 5, 6, 7],
        8,
    )
    pop.marital = _choice_by_group(
        rng,
        group,
        [
            # unmarried married widowed divorced
            [0, 1, 0, 0],  # couples
            [0.25, 0, 0.65, 0.10],  # old men alone: many never married (光棍)
            [0.04, 0, 0.92, 0.04],  # old women alone: mostly widows
            [0, 0, 0.45, 0.55],  # single parents
            [0.9, 0, 0, 0.1],  # single adults under 30
            [0.55, 0, 0.10, 0.35],  # single men 30+
            [0.30, 0, 0.30, 0.40],  # single women 30+
            [1, 0, 0, 0],  # children
            [0.9, 0, 0, 0.1],  # grown children at home
        ],
    )
    # Education by age band (cohort) and area: the 2020 census shape, rural lower.
    band = np.searchsorted(np.array([3, 6, 12, 15, 18, 30, 45, 60, 75]), age, side="right")
    p_urban = pop.urban[people.hh]
    pop.education = _choice_by_group(
        rng,
        band * 2 + p_urban,
        [
            # none preschool primary junior senior college; rows: band × (rural, urban)
            [1, 0, 0, 0, 0, 0],
            [1, 0, 0, 0, 0, 0],
            [0.1, 0.9, 0, 0, 0, 0],
            [0.05, 0.95, 0, 0, 0, 0],
            [0, 0, 1, 0, 0, 0],
            [0, 0, 1, 0, 0, 0],
            [0, 0, 0.05, 0.95, 0, 0],
            [0, 0, 0.02, 0.98, 0, 0],
            [0, 0, 0, 0.15, 0.85, 0],
            [0, 0, 0, 0.08, 0.92, 0],
            [0, 0, 0.03, 0.35, 0.37, 0.25],
            [0, 0, 0.01, 0.15, 0.34, 0.50],
            [0.01, 0, 0.12, 0.55, 0.20, 0.12],
            [0, 0, 0.05, 0.35, 0.30, 0.30],
            [0.04, 0, 0.35, 0.45, 0.13, 0.03],
            [0.01, 0, 0.15, 0.45, 0.28, 0.11],
            [0.15, 0, 0.50, 0.28, 0.06, 0.01],
            [0.06, 0, 0.35, 0.35, 0.18, 0.06],
            [0.45, 0, 0.43, 0.10, 0.02, 0],
            [0.30, 0, 0.40, 0.18, 0.09, 0.03],
        ],
    )
    # Disability: ≈ 6 % of people, rising steeply with age (2006 national sample survey);
    # children's disabilities are more often intellectual.
    pop.disabled = rng.random(n_p) < np.array([0.015, 0.032, 0.07, 0.13, 0.23])[pop.band5]
    pop.dis_type = _choice_by_group(
        rng,
        (age >= 18).astype(np.int8),
        [
            [0.06, 0.12, 0.05, 0.25, 0.30, 0.07, 0.15],
            [0.15, 0.24, 0.015, 0.30, 0.06, 0.07, 0.165],
        ],
    )
    pop.dis_grade = 1 + _choice(rng, n_p, [0.13, 0.22, 0.27, 0.38])


def _illnesses(rng: np.random.Generator, pop: _Pop, as_of_days: int) -> tuple[pa.Table, Arr]:
    """Diagnoses by age band and sex; returns the table and each row's person index."""
    n_p = pop.n_p
    people: list[Arr] = []
    codes: list[Arr] = []
    pop.n_serious = np.zeros(n_p, np.int8)
    pop.n_chronic = np.zeros(n_p, np.int8)
    pop.loses_self_care = np.zeros(n_p, dtype=bool)
    for k, (code, _name, serious, sex_only, prevalence) in enumerate(ILLNESSES):
        p = np.array(prevalence, dtype=np.float32)[pop.band5]
        if sex_only == "F":
            p = np.where(pop.male, 0, p)
        has = np.flatnonzero(rng.random(n_p, dtype=np.float32) < p)
        people.append(has)
        codes.append(np.full(len(has), k, np.int8))
        if serious:
            pop.n_serious[has] += 1
        else:
            pop.n_chronic[has] += 1
        if code in _SELF_CARE_LOSS:
            pop.loses_self_care[has] = True
    person = np.concatenate(people)
    kind = np.concatenate(codes)
    order = np.lexsort((kind, person))
    person, kind = person[order], kind[order]
    pop.health = np.select(
        [pop.n_serious > 0, pop.disabled, pop.n_chronic > 0], [2, 3, 1], 0
    ).astype(np.int8)
    serious = np.array([s for _c, _n, s, _x, _p in ILLNESSES])[kind]
    years_ago = np.minimum(pop.age[person], 15) * rng.random(len(person))
    diagnosed = np.maximum(as_of_days - 1 - np.floor(years_ago * 365.25), pop.birth_days[person])
    table = pa.table(
        {
            "illness_key": pa.array(np.arange(1, len(person) + 1, dtype=np.int64)),
            "person_key": pa.array(person + 1),
            "household_key": pa.array(pop.p_hh[person] + 1),
            "icd10": _take([c for c, *_r in ILLNESSES], kind),
            "name": _take([n for _c, n, *_r in ILLNESSES], kind),
            "is_serious": pa.array(serious),
            "diagnosed_on": _dates(diagnosed),
        }
    )
    return table, person


def _abilities(rng: np.random.Generator, pop: _Pop) -> pa.Array:
    """Self-care, labour capacity, schooling, employment; returns the phone numbers."""
    age, n_p = pop.age, pop.n_p
    p_urban = pop.urban[pop.p_hh]
    grade = np.where(pop.disabled, pop.dis_grade, 0)
    band = np.searchsorted(np.array([60, 70, 80, 90]), age, side="right")
    # Chance of losing 1–3 items (partial) or 4–6 (full), from age, disability grade and
    # the illnesses that take self-care away; the largest cause wins.
    p_part = np.maximum.reduce(
        [
            np.array([0, 0.03, 0.08, 0.18, 0.30])[band],
            np.array([0, 0.35, 0.35, 0.12, 0.04])[grade],
            np.where(pop.loses_self_care, 0.35, 0),
        ]
    )
    p_full = np.maximum.reduce(
        [
            np.array([0, 0.005, 0.02, 0.07, 0.15])[band],
            np.array([0, 0.45, 0.15, 0.03, 0.0])[grade],
            np.where(pop.loses_self_care, 0.25, 0),
        ]
    )
    small_child = age < 7  # the assessment is not made for small children
    u = rng.random(n_p)
    unable = np.where(
        u < p_full,
        rng.integers(4, 7, n_p),
        np.where(u < p_full + p_part, rng.integers(1, 4, n_p), 0),
    )
    pop.unable = np.where(small_child, 0, unable).astype(np.int8)
    del p_part, p_full, u, unable

    incapacity = np.select([age < 16, age >= 65, age >= 60], [2, 2, 1], 0)
    incapacity = np.maximum(incapacity, np.where(pop.severe, 2, np.where(pop.disabled, 1, 0)))
    incapacity = np.maximum(incapacity, np.where(pop.n_serious > 0, 1 + (rng.random(n_p) < 0.5), 0))
    incapacity = np.maximum(incapacity, np.select([pop.unable >= 4, pop.unable >= 1], [2, 1], 0))
    pop.labour = incapacity.astype(np.int8)
    del incapacity

    student = (age >= 6) & (age <= 15)
    student |= (age >= 16) & (age <= 17) & (rng.random(n_p) < 0.88)
    student |= (age >= 18) & (age <= 22) & (rng.random(n_p) < np.where(p_urban, 0.5, 0.35))
    student &= pop.unable < 4  # children who need full care are not at school
    pop.student = student
    education = np.where(student & (age >= 19), 5, pop.education)
    pop.education = np.where(student & (age == 18), np.maximum(education, 4), education).astype(
        np.int8
    )
    labour = pop.labour
    group = np.select(
        [
            age < 6,
            student,
            (age >= 60) & p_urban,
            (age >= 60) & (labour == 2),
            age >= 60,
            labour == 2,
            p_urban & (labour == 0),
            p_urban,
            labour == 0,
        ],
        [0, 1, 2, 3, 4, 5, 6, 7, 8],
        9,
    )
    pop.employment = _choice_by_group(
        rng,
        group,
        [
            # employed flexible farming migrant unemployed student retired not_working
            [0, 0, 0, 0, 0, 0, 0, 1],  # under 6
            [0, 0, 0, 0, 0, 1, 0, 0],  # at school
            [0, 0, 0, 0, 0, 0, 0.70, 0.30],  # urban 60+
            [0, 0, 0.15, 0, 0, 0, 0, 0.85],  # rural 60+ unable to work
            [0, 0.05, 0.55, 0, 0, 0, 0, 0.40],  # rural 60+ partly able
            [0, 0, 0, 0, 0, 0, 0, 1],  # working age, unable to work
            [0.50, 0.27, 0.01, 0.10, 0.12, 0, 0, 0],  # urban, able
            [0.10, 0.35, 0, 0, 0.55, 0, 0, 0],  # urban, partly able
            [0.10, 0.16, 0.24, 0.42, 0.08, 0, 0, 0],  # rural, able: many migrant workers
            [0.02, 0.20, 0.45, 0.03, 0.30, 0, 0, 0],  # rural, partly able
        ],
    )
    del group

    p_phone = np.select([age < 14, age < 18, age < 60, age < 75], [0, 0.35, 0.95, 0.65], 0.3)
    has_phone = rng.random(n_p) < np.where(pop.unable >= 4, 0.1, p_phone)
    from faker.providers.phone_number.zh_CN import Provider as PhoneProvider

    prefixes = np.array(PhoneProvider.phonenumber_prefixes, dtype=np.int64)
    numbers = prefixes[rng.integers(0, len(prefixes), n_p)] * 10**8 + rng.integers(0, 10**8, n_p)
    return _strings_from_bytes(_digits(numbers, 11), np.where(has_phone, 11, 0))


@dataclass
class _Aid:
    """Who is in which kind of assistance (household flags, plus children)."""

    score: Arr
    tekun: Arr
    dibao: Arr
    had_dibao: Arr
    marginal: Arr
    relapse: Arr
    temporary: Arr
    rigid: Arr
    orphan: Arr  # person level
    unsupported: Arr  # person level

    @property
    def assisted(self) -> Arr:
        return self.dibao | self.tekun


def _top(order: Arr, count: int, size: int) -> Arr:
    flags = np.zeros(size, dtype=bool)
    flags[order[:count]] = True
    return flags


def _assistance(rng: np.random.Generator, pop: _Pop, params: Parameters) -> _Aid:
    """Choose the households in each category from a hardship score.

    The score counts what makes a household poor in practice (no one able to work,
    severe disability, serious illness, single parent, left-behind children, rural) plus
    noise, so enrolment follows need without following it perfectly.
    """
    n_hh, age, head = pop.n_hh, pop.age, pop.head
    severe = pop.severe
    n_working = pop.per_household((age >= 18) & (age < 60) & (pop.labour == 0) & ~pop.student)
    n_severe = pop.per_household(severe)
    n_disabled = pop.per_household(pop.disabled)
    n_serious = pop.per_household(pop.n_serious > 0)
    n_chronic = pop.per_household(pop.n_chronic > 0)
    n_kids = pop.per_household(age < 18)
    score = (
        1.6 * (n_working == 0)
        + 0.9 * np.minimum(n_severe, 2)
        + 0.4 * np.minimum(n_disabled - n_severe, 2)
        + 0.9 * np.minimum(n_serious, 2)
        + 0.2 * np.minimum(n_chronic, 3)
        + 0.6 * (pop.types == H)
        + 0.4 * (pop.types == G)
        + 0.3 * ~pop.urban
        + 0.3 * ((n_kids >= 3) & (n_working <= 1))
        + rng.normal(0, 0.8, n_hh)
    )

    # 特困: a person alone, old or unable to work, never married or widowed (a proxy for
    # "no one is obliged to support them").
    head_age, head_marital, head_labour = age[head], pop.marital[head], pop.labour[head]
    candidate = (
        (pop.members == 1) & ((head_age >= 60) | (head_labour == 2)) & np.isin(head_marital, (0, 2))
    )
    tekun_score = (
        1.0 * (head_marital == 0)
        + 0.8 * (head_labour == 2)
        + 0.6 * severe[head]
        + 0.4 * (head_age >= 80)
        + rng.normal(0, 0.7, n_hh)
    )
    tekun_order = np.argsort(-np.where(candidate, tekun_score, -np.inf), kind="stable")
    tekun = _top(tekun_order, min(int(candidate.sum()), round(params.tekun_share * n_hh)), n_hh)

    ranked = np.argsort(-np.where(tekun, -np.inf, score), kind="stable")
    n_dibao = round(params.dibao_share * n_hh)
    n_marginal = round(params.marginal_share * n_hh)
    dibao = _top(ranked, n_dibao, n_hh) & ~tekun
    marginal = _top(ranked[n_dibao:], n_marginal, n_hh) & ~tekun
    above = ranked[n_dibao + n_marginal :]
    # 防止返贫监测: rural households just above the 低保 and 边缘 groups.
    band = above[: round(0.08 * n_hh)]
    relapse = _top(band[~pop.urban[band]], round(params.relapse_share * n_hh), n_hh)
    # Ended 低保 spells: households that were poor and have recovered.
    pool = above[: round(0.2 * n_hh)]
    pool = pool[rng.random(len(pool)) < 0.5]
    had_dibao = _top(pool, round(params.dibao_history_share * n_hh), n_hh) & ~tekun
    # Temporary assistance: sudden hardship, scattered more widely than chronic poverty.
    temp_order = np.argsort(-(score + rng.normal(0, 1.5, n_hh)), kind="stable")
    temporary = _top(temp_order, round(params.temporary_share * n_hh), n_hh)
    # Rigid expenditure: serious illness in a household not otherwise covered.
    pool = np.flatnonzero((n_serious > 0) & ~dibao & ~tekun & ~marginal)
    rigid = _top(
        pool[np.argsort(-score[pool], kind="stable")], round(params.rigid_share * n_hh), n_hh
    )
    # Orphans and de-facto unsupported children: among children raised by grandparents.
    pool_children = (pop.types[pop.p_hh] == G) & (pop.people.gen == 2) & (age < 18)
    draw = rng.random(pop.n_p)
    orphan = pool_children & (draw < params.orphan_rate)
    unsupported = (
        pool_children
        & (draw >= params.orphan_rate)
        & (draw < params.orphan_rate + params.unsupported_child_rate)
    )
    return _Aid(
        score, tekun, dibao, had_dibao, marginal, relapse, temporary, rigid, orphan, unsupported
    )


INCOME_KINDS = [
    "wages",
    "business",
    "agriculture",
    "property",
    "transfer",
    "pension",
    "support",
    "other",
]


class _Rows:
    """Collects rows of one table in parts (one part a kind), concatenated at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list[Arr]] = {}

    def add(self, **columns: Arr | float | int) -> None:
        size = max(np.size(v) for v in columns.values() if np.ndim(v) > 0)
        for name, value in columns.items():
            array = np.asarray(value)
            if array.ndim == 0:
                array = np.full(size, value)
            self.parts.setdefault(name, []).append(array)

    def columns(self, order_by: Sequence[str]) -> dict[str, Arr]:
        data = {name: np.concatenate(parts) for name, parts in self.parts.items()}
        self.parts.clear()
        order = np.lexsort(tuple(data[k] for k in reversed(order_by)))
        return {name: values[order] for name, values in data.items()}


@dataclass
class _Money:
    incomes: pa.Table
    per_capita_month: Arr
    total: Arr
    business: Arr  # households with a business


def _incomes(
    rng: np.random.Generator, pop: _Pop, params: Parameters, aid: _Aid, year: int
) -> _Money:
    """Annual incomes by kind; households in assistance are made poor on paper."""
    n_hh, n_p, p_hh, age = pop.n_hh, pop.n_p, pop.p_hh, pop.age
    employment, urban, members = pop.employment, pop.urban, pop.members
    p_urban = urban[p_hh]
    rows = _Rows()
    kind = INCOME_KINDS.index
    no_person = -1

    wage_median = np.select(
        [employment == 0, employment == 3, employment == 1],
        [np.where(p_urban, 55000, 45000), 55000, 28000],
        0,
    ) * np.where(pop.labour == 1, 0.6, 1.0)
    earners = np.flatnonzero(np.isin(employment, (0, 1, 3)))
    rows.add(
        hh=p_hh[earners],
        person=earners,
        kind=kind("wages"),
        amount=_lognormal(rng, wage_median[earners], 0.4, len(earners)),
    )
    pensioners = np.flatnonzero(age >= 60)
    retired = employment[pensioners] == 6
    # Urban retirees draw a pension; rural elders the basic resident pension (160–300/month).
    rows.add(
        hh=p_hh[pensioners],
        person=pensioners,
        kind=kind("pension"),
        amount=np.where(
            retired,
            _lognormal(rng, 38000, 0.3, len(pensioners)),
            12 * rng.uniform(160, 300, len(pensioners)),
        ),
    )
    farm = pop.per_household((employment == 2) * _lognormal(rng, 18000, 0.5, n_p))
    farm_hh = np.flatnonzero(farm > 0)
    rows.add(hh=farm_hh, person=no_person, kind=kind("agriculture"), amount=farm[farm_hh])
    business = np.flatnonzero(rng.random(n_hh) < np.where(urban, 0.06, 0.04))
    rows.add(
        hh=business,
        person=no_person,
        kind=kind("business"),
        amount=_lognormal(rng, 60000, 0.6, len(business)),
    )
    rent = np.flatnonzero(urban & (rng.random(n_hh) < 0.06))
    rows.add(
        hh=rent,
        person=no_person,
        kind=kind("property"),
        amount=_lognormal(rng, 12000, 0.5, len(rent)),
    )
    # Support from children living elsewhere: for elders on their own, and for left-behind
    # children whose parents send money home.
    elders_only = pop.per_household(age >= 60) == members
    support_p = np.where(pop.types == G, 0.92, np.where(elders_only, 0.92, 0.0))
    support_median = np.where(pop.types == G, 24000, 8000 * members)
    supported = np.flatnonzero(rng.random(n_hh) < support_p)
    rows.add(
        hh=supported,
        person=no_person,
        kind=kind("support"),
        amount=_lognormal(rng, support_median[supported], 0.4, len(supported)),
    )
    subsidised = np.flatnonzero(~urban & (rng.random(n_hh) < 0.6))  # farmland subsidies
    rows.add(
        hh=subsidised,
        person=no_person,
        kind=kind("transfer"),
        amount=rng.uniform(300, 1500, len(subsidised)),
    )
    severe = np.flatnonzero(pop.severe)  # 重度残疾人护理补贴, about 100 yuan a month
    rows.add(hh=p_hh[severe], person=severe, kind=kind("transfer"), amount=1200.0)
    data = rows.columns(("hh", "person", "kind"))

    # Households in assistance must be poor on paper: their incomes are scaled to a
    # per-capita level below the standard (低保, 特困) or just above it (边缘, < 1.5 ×).
    standard = np.where(urban, params.dibao_standard_urban, params.dibao_standard_rural)
    target = np.full(n_hh, np.nan)
    for flags, low, high in (
        (aid.dibao, 0.0, 0.45),
        (aid.tekun, 0.0, 0.7),
        (aid.marginal, 1.0, 1.45),
    ):
        target[flags] = standard[flags] * rng.uniform(low, high, int(flags.sum()))
    total = np.bincount(data["hh"], weights=data["amount"], minlength=n_hh)
    target_total = target * 12 * members
    has_target = ~np.isnan(target)
    factor = np.where(has_target & (total > 0), target_total / np.maximum(total, 1), 1.0)
    rows.add(
        hh=data["hh"],
        person=data["person"],
        kind=data["kind"],
        amount=data["amount"] * factor[data["hh"]],
    )
    top_up = np.flatnonzero(has_target & (total <= 0) & (target_total >= 100))
    rows.add(hh=top_up, person=no_person, kind=kind("support"), amount=target_total[top_up])
    data = rows.columns(("hh", "person", "kind"))
    amount = np.round(data["amount"])
    keep = amount > 0
    hh, person, kinds, amount = (
        data["hh"][keep],
        data["person"][keep],
        data["kind"][keep],
        amount[keep],
    )
    total = np.bincount(hh, weights=amount, minlength=n_hh)

    # Outside assistance most households stay above the 低保边缘 line (1.5 × the
    # standard): relatives, odd jobs and savings keep them there. Only a small share stays
    # below it — the hidden poverty that monitoring exists to find.
    outside = ~(aid.dibao | aid.tekun | aid.marginal)
    below_line = np.flatnonzero(outside & (total / 12 / members < 1.5 * standard))
    hidden = rng.permutation(below_line)[: round(params.hidden_poverty_share * n_hh)]
    lifted = np.setdiff1d(below_line, hidden)
    wanted = standard[lifted] * rng.uniform(1.55, 2.5, len(lifted)) * 12 * members[lifted]
    lift = np.round(np.maximum(wanted - total[lifted], 1.0))
    hh = np.concatenate([hh, lifted])
    person = np.concatenate([person, np.full(len(lifted), no_person)])
    kinds = np.concatenate([kinds, np.full(len(lifted), kind("support"))])
    amount = np.concatenate([amount, lift])
    # A lift joins any support the household already had: one row per kind and person.
    key = (hh * (n_p + 1) + (person + 1)) * len(INCOME_KINDS) + kinds
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    amount = np.bincount(inverse, weights=amount).astype(np.float64)
    hh, person, kinds = hh[first], person[first], kinds[first]
    total = np.bincount(hh, weights=amount, minlength=n_hh)
    table = pa.table(
        {
            "household_key": pa.array(hh + 1),
            "person_key": _nullable_int(person + 1, person >= 0, pa.int64()),
            "kind": _take(INCOME_KINDS, kinds),
            "year": pa.array(np.full(len(hh), year, np.int16)),
            "annual_amount": _money(amount),
        }
    )
    return _Money(table, total / 12 / members, total, business)


def _enrolments(
    rng: np.random.Generator, pop: _Pop, params: Parameters, aid: _Aid, money: _Money
) -> pa.Table:
    """Spells of assistance, with amounts that follow the rules of each category."""
    as_of, members = pop.as_of_days, pop.members
    standard = np.where(pop.urban, params.dibao_standard_urban, params.dibao_standard_rural)
    rows = _Rows()
    none = -1
    active, suspended, ended = (STATUSES.index(s) for s in ("active", "suspended", "ended"))

    def spell_start(n: int, mean_years: float, max_years: float) -> Arr:
        years_ago = np.minimum(rng.exponential(mean_years, n), max_years)
        return as_of - 1 - np.floor(years_ago * 365.25).astype(np.int64)

    def add(
        hh: Arr,
        category: str,
        start: Arr,
        *,
        person: Arr | int = none,
        end: Arr | int = none,
        amount: Arr | float = 0.0,
        status: Arr | int = active,
        reason: Arr | int = 0,
    ) -> None:
        rows.add(
            hh=hh,
            person=person,
            category=CATEGORIES.index(category),
            start=start,
            end=end,
            amount=amount,
            status=status,
            reason=reason,
        )

    # 低保: the household gets the gap between the standard and its income, per member.
    idx = np.flatnonzero(aid.dibao)
    gap = np.maximum(standard[idx] - money.per_capita_month[idx], 0.3 * standard[idx])
    add(
        idx,
        "dibao",
        spell_start(len(idx), 4.0, 14.0),
        amount=np.round(gap * members[idx]),
        status=np.where(rng.random(len(idx)) < 0.02, suspended, active),
    )
    idx = np.flatnonzero(aid.had_dibao)
    start = as_of - np.floor(rng.uniform(2, 12, len(idx)) * 365.25).astype(np.int64)
    end = np.minimum(
        start + np.floor(rng.uniform(0.5, 6, len(idx)) * 365.25).astype(np.int64), as_of - 30
    )
    add(
        idx,
        "dibao",
        start,
        end=end,
        amount=np.round(standard[idx] * rng.uniform(0.3, 0.8, len(idx)) * members[idx]),
        status=ended,
        reason=1 + _choice(rng, len(idx), [0.45, 0.3, 0.1, 0.15]),
    )
    # 特困: basic living at 1.3 × the 低保 standard plus a care allowance by self-care.
    idx = np.flatnonzero(aid.tekun)
    person = pop.head[idx]
    level = np.select([pop.unable[person] >= 4, pop.unable[person] >= 1], [2, 1], 0)
    centralised = rng.random(len(idx)) < np.array([0.15, 0.35, 0.6])[level]
    amount = np.round(1.3 * standard[idx]) + np.array([100, 300, 600])[level]
    earliest = pop.birth_days[person] + int(16 * 365.25)
    start = np.maximum(spell_start(len(idx), 5.0, 20.0), earliest)
    for flags, category in ((centralised, "tekun_centralised"), (~centralised, "tekun_dispersed")):
        add(idx[flags], category, start[flags], person=person[flags], amount=amount[flags])
    idx = np.flatnonzero(aid.marginal)
    add(idx, "dibao_marginal", spell_start(len(idx), 2.0, 6.0))
    idx = np.flatnonzero(aid.relapse)
    start = as_of - 1 - np.floor(rng.uniform(0, 4.5, len(idx)) * 365.25).astype(np.int64)
    finished = rng.random(len(idx)) < 0.3
    end = np.where(finished, np.minimum(start + rng.integers(180, 720, len(idx)), as_of - 1), none)
    add(
        idx,
        "relapse_monitoring",
        start,
        end=end,
        status=np.where(finished, ended, active),
        reason=np.where(finished, 5, 0),
    )
    idx = np.flatnonzero(aid.rigid)
    add(idx, "rigid_expenditure", spell_start(len(idx), 1.0, 3.0))
    # 临时救助: paid once; the spell covers the month it was granted for.
    idx = np.flatnonzero(aid.temporary)
    start = as_of - 1 - rng.integers(0, 365, len(idx))
    end = start + 30
    add(
        idx,
        "temporary",
        start,
        end=end,
        amount=np.round(rng.uniform(500, 5000, len(idx)), -2),
        status=np.where(end < as_of, ended, active),
        reason=np.where(end < as_of, 6, 0),
    )
    for flags, category in ((aid.orphan, "orphan"), (aid.unsupported, "unsupported_child")):
        person = np.flatnonzero(flags)
        born = pop.birth_days[person]
        start = born + np.floor(rng.random(len(person)) * (as_of - born)).astype(np.int64)
        add(pop.p_hh[person], category, start, person=person, amount=float(params.child_allowance))
    e = rows.columns(("hh", "category", "start"))
    has_end = e["end"] >= 0
    return pa.table(
        {
            "enrolment_key": pa.array(np.arange(1, len(e["hh"]) + 1, dtype=np.int64)),
            "household_key": pa.array(e["hh"] + 1),
            "person_key": _nullable_int(e["person"] + 1, e["person"] >= 0, pa.int64()),
            "category": _take(CATEGORIES, e["category"]),
            "status": _take(STATUSES, e["status"]),
            "start_date": _dates(e["start"]),
            "end_date": _dates(np.where(has_end, e["end"], 0), has_end),
            "monthly_amount": _money(e["amount"]),
            "end_reason": _take(END_REASONS, e["reason"]),
        }
    )


def _expenditures(
    rng: np.random.Generator,
    pop: _Pop,
    aid: _Aid,
    illnesses: pa.Table,
    ill_person: Arr,
    money: _Money,
    year: int,
) -> pa.Table:
    """Rigid expenditure: out-of-pocket medical costs by diagnosis, and schooling."""
    n_hh = pop.n_hh
    serious = illnesses["is_serious"].to_numpy()
    # Out of pocket, after basic insurance, 大病保险 and 医疗救助 have paid their share.
    cost = np.where(
        serious, _lognormal(rng, 9000, 0.7, len(serious)), _lognormal(rng, 1200, 0.6, len(serious))
    )
    medical = np.bincount(pop.p_hh[ill_person], weights=cost, minlength=n_hh)
    # 刚性支出困难 households spend more on health than they earn, or close to it.
    floor = np.maximum(money.total * rng.uniform(0.6, 1.5, n_hh), 20000)
    medical = np.where(aid.rigid, np.maximum(medical, floor), medical)
    school_cost = np.array([0, 3000, 600, 900, 4500, 14000])[pop.education]
    schooling = pop.per_household(
        np.where(pop.student, school_cost, 0) * np.exp(rng.normal(0, 0.3, pop.n_p))
    )
    rows = _Rows()
    for kind, values in enumerate((medical, schooling)):
        idx = np.flatnonzero(values >= 1)
        rows.add(hh=idx, kind=kind, amount=np.round(values[idx]))
    x = rows.columns(("hh", "kind"))
    return pa.table(
        {
            "household_key": pa.array(x["hh"] + 1),
            "kind": _take(["medical", "education"], x["kind"]),
            "year": pa.array(np.full(len(x["hh"]), year, np.int16)),
            "amount": _money(x["amount"]),
        }
    )


ASSET_KINDS = ["housing", "vehicle", "business", "deposit", "securities", "land", "other"]
ASSET_DESCRIPTIONS = [
    "自建房",
    "商品房",
    "小型汽车",
    "电动三轮车",
    "个体经营",
    "银行存款",
    "理财产品",
    "承包耕地",
]


def _assets(rng: np.random.Generator, pop: _Pop, aid: _Aid, money: _Money) -> pa.Table:
    """Housing, vehicles, businesses, deposits, securities and contracted land."""
    n_hh, urban, assisted = pop.n_hh, pop.urban, aid.assisted
    rows = _Rows()
    kind = ASSET_KINDS.index
    desc = ASSET_DESCRIPTIONS.index
    nan = np.nan
    owner = np.flatnonzero(rng.random(n_hh) < np.where(urban, np.where(assisted, 0.5, 0.8), 0.95))
    value = np.where(
        urban[owner],
        _lognormal(rng, 350000, 0.4, len(owner)),
        _lognormal(rng, 120000, 0.5, len(owner)),
    )
    value = np.where(assisted[owner], value * 0.35, value)
    area = np.round(
        np.where(urban[owner], rng.uniform(50, 140, len(owner)), rng.uniform(60, 250, len(owner)))
    )
    rows.add(
        hh=owner,
        kind=kind("housing"),
        desc=np.where(urban[owner], desc("商品房"), desc("自建房")),
        value=value,
        qty=area,
    )
    car = np.flatnonzero(~assisted & (rng.random(n_hh) < np.where(urban, 0.45, 0.30)))
    rows.add(
        hh=car,
        kind=kind("vehicle"),
        desc=desc("小型汽车"),
        value=_lognormal(rng, 70000, 0.5, len(car)),
        qty=1.0,
    )
    trike = np.flatnonzero(assisted & ~urban & (rng.random(n_hh) < 0.15))
    rows.add(
        hh=trike,
        kind=kind("vehicle"),
        desc=desc("电动三轮车"),
        value=rng.uniform(1500, 4000, len(trike)),
        qty=1.0,
    )
    rows.add(
        hh=money.business,
        kind=kind("business"),
        desc=desc("个体经营"),
        value=_lognormal(rng, 80000, 0.6, len(money.business)),
        qty=nan,
    )
    saver = np.flatnonzero(rng.random(n_hh) < np.where(assisted, 0.4, 0.75))
    rows.add(
        hh=saver,
        kind=kind("deposit"),
        desc=desc("银行存款"),
        value=np.where(
            assisted[saver],
            _lognormal(rng, 2000, 0.8, len(saver)),
            _lognormal(rng, 25000, 1.0, len(saver)),
        ),
        qty=nan,
    )
    investor = np.flatnonzero(urban & ~assisted & (rng.random(n_hh) < 0.08))
    rows.add(
        hh=investor,
        kind=kind("securities"),
        desc=desc("理财产品"),
        value=_lognormal(rng, 30000, 0.8, len(investor)),
        qty=nan,
    )
    land = np.flatnonzero(~urban & (rng.random(n_hh) < 0.85))
    mu = np.round(pop.members[land] * rng.uniform(0.6, 1.4, len(land)), 1)  # ≈ 1 mu a head
    rows.add(hh=land, kind=kind("land"), desc=desc("承包耕地"), value=mu * 1500, qty=mu)
    a = rows.columns(("hh", "kind"))
    qty = a["qty"].astype(np.float64)
    return pa.table(
        {
            "household_key": pa.array(a["hh"] + 1),
            "kind": _take(ASSET_KINDS, a["kind"]),
            "description": _take(ASSET_DESCRIPTIONS, a["desc"]),
            "value": _money(np.round(a["value"])),
            "quantity": _quantity(np.nan_to_num(qty), ~np.isnan(qty)),
        }
    )


def _names(rng: np.random.Generator, pop: _Pop) -> pa.Array:
    """Household surname for the lineage (men, the head, children), own surname for the
    women who married in; given names by sex."""
    pools = _name_pools()
    hh_surname = rng.choice(len(pools.surnames), pop.n_hh, p=pools.surname_weights)
    own_surname = rng.choice(len(pools.surnames), pop.n_p, p=pools.surname_weights)
    surnames = _take(
        pools.surnames, np.where(pop.people.lineage, hh_surname[pop.p_hh], own_surname)
    )
    picked: list[Arr] = []
    arrays: list[pa.Array] = []
    for is_male in (True, False):
        who = np.flatnonzero(pop.male == is_male)
        pick = rng.choice(len(pools.given[is_male]), len(who), p=pools.given_weights[is_male])
        picked.append(who)
        arrays.append(_take(pools.given[is_male], pick))
    back = np.argsort(np.concatenate(picked), kind="stable")
    return _join(surnames, pc.take(pa.concat_arrays(arrays), pa.array(back)))


def _addresses(rng: np.random.Generator, urban: Arr, village: Arr, prefixes: list[str]) -> pa.Array:
    """Rural "<village>3组12号", urban "<community>5栋2单元1203室"; each kind is built
    for its own households only, then put back in household order."""
    rural_idx = np.flatnonzero(~urban)
    urban_idx = np.flatnonzero(urban)
    n_r, n_u = len(rural_idx), len(urban_idx)
    rural = _join(
        _take(prefixes, village[rural_idx]),
        _int_strings(1 + rng.integers(0, 12, n_r)),
        "组",
        _int_strings(1 + rng.integers(0, 80, n_r)),
        "号",
    )
    town = _join(
        _take(prefixes, village[urban_idx]),
        _int_strings(1 + rng.integers(0, 30, n_u)),
        "栋",
        _int_strings(1 + rng.integers(0, 4, n_u)),
        "单元",
        _int_strings(100 * (1 + rng.integers(0, 18, n_u)) + 1 + rng.integers(0, 4, n_u)),
        "室",
    )
    back = np.argsort(np.concatenate([rural_idx, urban_idx]), kind="stable")
    return pc.take(pa.concat_arrays([rural, town]), pa.array(back))


def generate_population(
    *,
    households: int,
    seed: int,
    region: RegionSpec | None = None,
    as_of: date = REFERENCE_DATE,
    params: Parameters | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, pa.Table]:
    """A county of ``households`` households; the same arguments give the same tables.

    ``region`` defaults to the demo county (峡江县, from the fixture); ``progress`` is
    called with the name of each stage as it finishes.
    """
    if households < 1:
        raise ValueError("households must be at least 1")
    if seed < 0:
        raise ValueError("seed must not be negative")
    region = region or demo_region_spec()
    params = params or Parameters()

    def step(name: str) -> None:
        if progress:
            progress(name)

    plan = _plan_villages(region, households, params)
    v_count = np.array(plan.households, dtype=np.int64)
    v_urban = np.array(plan.urban, dtype=bool)
    hh_village, hh_seq = _within(v_count)
    urban = v_urban[hh_village]
    step("villages")

    rng = _rng(seed, "households")
    types = _choice_by_group(rng, urban.astype(np.int8), _TYPE_PROBS)
    people = _household_members(rng, types)
    as_of_days = _days(as_of)
    rng = _rng(seed, "persons")
    birth_days = as_of_days - np.floor(
        people.age * 365.2425 + rng.random(len(people.hh)) * 365
    ).astype(np.int64)
    pop = _Pop(
        as_of_days=as_of_days,
        urban=urban,
        types=types,
        members=np.bincount(people.hh, minlength=households),
        people=people,
        head=np.flatnonzero(people.rel == REL_HEAD),  # one a household, in order
        birth_days=np.minimum(birth_days, as_of_days - 1),
        band5=_age_band5(people.age),
    )
    del birth_days
    _traits(rng, pop)
    step("members")

    illnesses, ill_person = _illnesses(_rng(seed, "illnesses"), pop, as_of_days)
    step("illnesses")
    phone = _abilities(_rng(seed, "abilities"), pop)
    step("abilities")
    aid = _assistance(_rng(seed, "assistance"), pop, params)
    step("assistance")
    year = as_of.year - 1  # the last full year
    money = _incomes(_rng(seed, "incomes"), pop, params, aid, year)
    step("incomes")
    enrolments = _enrolments(_rng(seed, "enrolments"), pop, params, aid, money)
    step("enrolments")
    expenditures = _expenditures(
        _rng(seed, "expenditures"), pop, aid, illnesses, ill_person, money, year
    )
    del ill_person
    step("expenditures")
    assets = _assets(_rng(seed, "assets"), pop, aid, money)
    del aid
    step("assets")

    rng = _rng(seed, "names")
    names = _names(rng, pop)
    id_numbers, pop.birth_days = _id_numbers(
        _rng(seed, "ids"), region.county_code, pop.birth_days, pop.male
    )
    prefixes = [
        f"{region.county_name}{t}{v}" for t, v in zip(plan.town_names, plan.names, strict=True)
    ]
    address = _addresses(rng, urban, hh_village, prefixes)
    hukou = _choice_by_group(rng, urban.astype(np.int8), [[0.55, 0, 0.45], [0.15, 0.45, 0.40]])
    step("names")

    village_codes = np.array(
        [[ord(ch) for ch in code] for code in plan.codes], dtype=np.uint8
    ).reshape(-1, 12)
    number = np.empty((households, 18), dtype=np.uint8)  # 360823100201-00017
    number[:, :12] = village_codes[hh_village]
    number[:, 12] = ord("-")
    number[:, 13:] = _digits(hh_seq + 1, 5)
    p_hh = pop.p_hh
    regions_table = pa.table(
        {
            "code": pa.array(plan.codes, pa.string()),
            "name": pa.array(plan.names, pa.string()),
            "parent_code": pa.array(plan.town_codes, pa.string()),
            "level": pa.array(np.full(len(plan.codes), 5, np.int8)),
            "area_type": _take(["rural", "urban"], v_urban.astype(np.int8)),
            "is_synthetic": pa.array(np.ones(len(plan.codes), dtype=bool)),
            "households": pa.array(v_count),
        }
    )
    households_table = pa.table(
        {
            "household_key": pa.array(np.arange(1, households + 1, dtype=np.int64)),
            "number": _strings_from_bytes(number),
            "region_code": _take(plan.codes, hh_village),
            "address": address,
            "area_type": _take(["rural", "urban"], urban.astype(np.int8)),
            "head_name": pc.take(names, pa.array(pop.head)),
            "member_count": pa.array(pop.members.astype(np.int16)),
        }
    )
    unable = pop.unable
    persons_table = pa.table(
        {
            "person_key": pa.array(np.arange(1, pop.n_p + 1, dtype=np.int64)),
            "household_key": pa.array(p_hh + 1),
            "name": names,
            "sex": _take(["F", "M"], pop.male.astype(np.int8)),
            "birth_date": _dates(pop.birth_days),
            "id_number": id_numbers,
            "phone": phone,
            "relationship": _take(RELATIONSHIPS, people.rel),
            "hukou_type": _take(HUKOU, hukou[p_hh]),
            "marital_status": _take(MARITAL, pop.marital),
            "education": _take(EDUCATION, pop.education),
            "health": _take(HEALTH, pop.health),
            "disability_type": _take(
                ["", *DISABILITY], np.where(pop.disabled, pop.dis_type + 1, 0)
            ),
            "disability_grade": _nullable_int(
                pop.dis_grade.astype(np.int8), pop.disabled, pa.int8()
            ),
            "labour_capacity": _take(LABOUR, pop.labour),
            "employment": _take(EMPLOYMENT, pop.employment),
            # Items are lost roughly in this order: bathing first, eating last.
            "can_eat": pa.array(unable < 6),
            "can_dress": pa.array(unable < 2),
            "can_transfer": pa.array(unable < 4),
            "can_use_toilet": pa.array(unable < 3),
            "can_walk_indoors": pa.array(unable < 5),
            "can_bathe": pa.array(unable < 1),
            "is_deceased": pa.array(np.zeros(pop.n_p, dtype=bool)),
        }
    )
    step("tables")
    return {
        "regions": regions_table,
        "households": households_table,
        "persons": persons_table,
        "illnesses": illnesses,
        "incomes": money.incomes,
        "assets": assets,
        "expenditures": expenditures,
        "enrolments": enrolments,
    }


# --------------------------------------------------------------------------------------
# Parquet
# --------------------------------------------------------------------------------------


def write_population(
    tables: dict[str, pa.Table], out_dir: Path, manifest: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write one Parquet file a table (and ``manifest.json``) into ``out_dir``.

    Fixed writer options and no timestamps anywhere: same tables, same bytes.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in TABLE_NAMES:
        path = out_dir / f"{name}.parquet"
        pq.write_table(tables[name], path, compression="zstd", row_group_size=1 << 20)
        paths[name] = path
    info = dict(manifest or {})
    info["counts"] = {name: tables[name].num_rows for name in TABLE_NAMES}
    (out_dir / MANIFEST).write_text(
        json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return paths


def population_manifest(
    *, households: int, seed: int, region: RegionSpec, as_of: date, params: Parameters | None = None
) -> dict[str, Any]:
    return {
        "generator_version": GENERATOR_VERSION,
        "households": households,
        "seed": seed,
        "county_code": region.county_code,
        "county_name": region.county_name,
        "as_of": as_of.isoformat(),
        "parameters": asdict(params or Parameters()),
    }


def read_population(directory: Path) -> dict[str, pa.Table]:
    """The tables written by ``write_population`` (``directory`` or its ``population/``)."""
    if not (directory / "persons.parquet").exists() and (directory / "population").is_dir():
        directory = directory / "population"
    missing = [n for n in TABLE_NAMES if not (directory / f"{n}.parquet").exists()]
    if missing:
        raise FileNotFoundError(f"{directory}: missing {', '.join(missing)}.parquet")
    return {name: pq.read_table(directory / f"{name}.parquet") for name in TABLE_NAMES}


def read_manifest(directory: Path) -> dict[str, Any]:
    if not (directory / MANIFEST).exists() and (directory / "population" / MANIFEST).exists():
        directory = directory / "population"
    path = directory / MANIFEST
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else {}
