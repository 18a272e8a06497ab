"""The pure generator: valid IDs, determinism, plausible distributions, villages."""

from __future__ import annotations

import datetime
import hashlib
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from faker.providers.person.zh_CN import Provider as FakerPerson
from stdnum.cn import ric

from jiuzhu.core.idnumbers import parse_id_number
from jiuzhu.synth.population import (
    REFERENCE_DATE,
    TABLE_NAMES,
    Parameters,
    RegionSpec,
    Town,
    Village,
    chinese_numeral,
    generate_population,
    id_region_codes,
    read_population,
    write_population,
)

from .conftest import HOUSEHOLDS

GB11643_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def gb11643_check_digit(first17: str) -> str:
    """Written out from the standard, independently of the generator."""
    total = sum(int(d) * w for d, w in zip(first17, GB11643_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def column(table: pa.Table, name: str) -> list:  # type: ignore[type-arg]
    return table[name].to_pylist()


# --------------------------------------------------------------------------------------
# ID numbers
# --------------------------------------------------------------------------------------


def test_every_id_number_is_valid_and_matches_birth_date_sex_and_county(
    population: dict[str, pa.Table],
) -> None:
    # given
    persons = population["persons"]
    # when
    rows = zip(
        column(persons, "id_number"),
        column(persons, "birth_date"),
        column(persons, "sex"),
        strict=True,
    )
    # then
    for number, birth, sex in rows:
        assert re.fullmatch(r"\d{17}[\dX]", number)
        assert number[17] == gb11643_check_digit(number[:17])
        assert ric.is_valid(number)  # python-stdnum: checksum, date, county by year
        assert ric.get_birth_date(number) == birth
        assert (int(number[16]) % 2 == 1) == (sex == "M")
        # 峡江县 is 360823 since 2000; people born earlier keep 吉安地区's 362423.
        assert number[:6] == ("360823" if birth.year >= 2000 else "362423")


def test_id_numbers_are_unique(population: dict[str, pa.Table]) -> None:
    # given
    numbers = column(population["persons"], "id_number")
    # then
    assert len(set(numbers)) == len(numbers)


def test_id_numbers_stay_unique_when_many_share_a_birthday() -> None:
    # given: a county of 30 000 households (≈ 85 000 people, many per birth date)
    tables = generate_population(households=30_000, seed=3)
    # when
    numbers = tables["persons"]["id_number"]
    # then
    assert pc.count_distinct(numbers).as_py() == len(numbers)


def test_every_id_number_is_accepted_by_the_registry_parser(
    population: dict[str, pa.Table],
) -> None:
    # given
    persons = population["persons"]
    # when / then
    for number, birth, sex in zip(
        column(persons, "id_number"),
        column(persons, "birth_date"),
        column(persons, "sex"),
        strict=True,
    ):
        facts = parse_id_number(number)
        assert facts.birth_date == birth
        assert facts.sex == sex


def test_historical_county_codes_come_from_the_stdnum_table() -> None:
    # when
    codes = id_region_codes("360823")
    # then
    assert ("360823", 2000, 9999) in codes
    assert ("362423", 0, 2000) in codes


# --------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------


def test_same_seed_gives_identical_tables_and_identical_files(tmp_path: Path) -> None:
    # given
    first = generate_population(households=150, seed=11)
    second = generate_population(households=150, seed=11)
    # when
    write_population(first, tmp_path / "a")
    write_population(second, tmp_path / "b")
    # then
    for name in TABLE_NAMES:
        assert first[name].equals(second[name]), name
        digest_a = hashlib.sha256((tmp_path / "a" / f"{name}.parquet").read_bytes()).digest()
        digest_b = hashlib.sha256((tmp_path / "b" / f"{name}.parquet").read_bytes()).digest()
        assert digest_a == digest_b, name


def test_another_seed_gives_another_population() -> None:
    # given
    first = generate_population(households=150, seed=11)
    # when
    other = generate_population(households=150, seed=12)
    # then
    assert column(first["persons"], "id_number") != column(other["persons"], "id_number")
    assert column(first["persons"], "name") != column(other["persons"], "name")


def test_written_files_read_back_equal(population: dict[str, pa.Table], tmp_path: Path) -> None:
    # given
    write_population(population, tmp_path / "population", {"seed": 7})
    # when: the loader accepts the out directory or its population/ subdirectory
    read = read_population(tmp_path)
    # then
    for name in TABLE_NAMES:
        assert read[name].equals(population[name]), name
    assert '"counts"' in (tmp_path / "population" / "manifest.json").read_text()


# --------------------------------------------------------------------------------------
# Households and people
# --------------------------------------------------------------------------------------


def test_households_hold_their_members_with_one_head(population: dict[str, pa.Table]) -> None:
    # given
    households = population["households"]
    persons = population["persons"]
    # when
    members = Counter(column(persons, "household_key"))
    heads = {
        key: name
        for key, name, rel in zip(
            column(persons, "household_key"),
            column(persons, "name"),
            column(persons, "relationship"),
            strict=True,
        )
        if rel == "head"
    }
    # then
    assert households.num_rows == HOUSEHOLDS
    for key, count, head_name in zip(
        column(households, "household_key"),
        column(households, "member_count"),
        column(households, "head_name"),
        strict=True,
    ):
        assert members[key] == count
        assert 1 <= count <= 7
        assert heads[key] == head_name
    assert len(heads) == HOUSEHOLDS


def test_household_numbers_are_village_code_and_running_number(
    population: dict[str, pa.Table],
) -> None:
    # given
    households = population["households"]
    # then
    numbers = column(households, "number")
    assert len(set(numbers)) == len(numbers)
    for number, village in zip(numbers, column(households, "region_code"), strict=True):
        assert re.fullmatch(r"\d{12}-\d{5}", number)
        assert number.startswith(village + "-")


def test_distributions_are_plausible_for_a_rural_county() -> None:
    # given: big enough for shares to settle
    tables = generate_population(households=20_000, seed=5)
    households, persons = tables["households"], tables["persons"]
    # when
    size = np.array(column(households, "member_count"))
    birth = np.array(column(persons, "birth_date"), dtype="datetime64[D]")
    age = (np.datetime64(REFERENCE_DATE) - birth).astype(int) / 365.25
    disabled = np.array(column(persons, "disability_type")) != ""
    # then
    assert 2.0 <= size.mean() <= 3.5
    assert (size <= 2).mean() > 0.4  # many one- and two-person (often elderly) households
    assert 0.15 <= (age >= 60).mean() <= 0.35
    assert 0.12 <= (age < 15).mean() <= 0.28
    assert 0.04 <= disabled.mean() <= 0.08
    assert 0.45 <= (np.array(column(persons, "sex")) == "M").mean() <= 0.55


def test_children_and_elders_have_fewer_phones(population: dict[str, pa.Table]) -> None:
    # given
    persons = population["persons"]
    birth = np.array(column(persons, "birth_date"), dtype="datetime64[D]")
    age = (np.datetime64(REFERENCE_DATE) - birth).astype(int) / 365.25
    phones = column(persons, "phone")
    # then
    for phone in phones:
        assert phone == "" or re.fullmatch(r"1[3-9]\d{9}", phone)
    has = np.array([p != "" for p in phones])
    assert not has[age < 14].any()
    assert has[(age >= 20) & (age < 55)].mean() > 0.8


def test_names_come_from_fakers_chinese_surnames(population: dict[str, pa.Table]) -> None:
    # given
    surnames = set(FakerPerson.last_names)
    persons = population["persons"]
    # then
    for name in column(persons, "name"):
        assert 2 <= len(name) <= 4
        assert name[0] in surnames or name[:2] in surnames


def test_codes_are_those_of_the_registry_choices(population: dict[str, pa.Table]) -> None:
    # given
    from jiuzhu.registry import choices as c

    persons = population["persons"]
    allowed = {
        "relationship": set(c.Relationship.values),
        "hukou_type": set(c.HukouType.values),
        "marital_status": set(c.MaritalStatus.values),
        "education": set(c.Education.values),
        "health": set(c.Health.values),
        "disability_type": {"", *c.DisabilityType.values},
        "labour_capacity": set(c.LabourCapacity.values),
        "employment": set(c.Employment.values),
        "sex": set(c.Sex.values),
    }
    # then
    for name, values in allowed.items():
        assert set(column(persons, name)) <= values, name
    assert set(column(population["enrolments"], "category")) <= set(c.Category.values)
    assert set(column(population["incomes"], "kind")) <= set(c.IncomeKind.values)
    assert set(column(population["assets"], "kind")) <= set(c.AssetKind.values)
    assert set(column(population["expenditures"], "kind")) <= set(c.ExpenditureKind.values)


def test_illnesses_use_icd10_codes(population: dict[str, pa.Table]) -> None:
    # given
    illnesses = population["illnesses"]
    # then
    assert illnesses.num_rows > 0
    for code in column(illnesses, "icd10"):
        assert re.fullmatch(r"[A-Z]\d{2}", code)
    assert "I10" in column(illnesses, "icd10")  # hypertension is the commonest


# --------------------------------------------------------------------------------------
# Assistance
# --------------------------------------------------------------------------------------


def test_enrolments_follow_the_rules_of_each_category() -> None:
    # given
    params = Parameters()
    tables = generate_population(households=20_000, seed=5, params=params)
    households, enrolments = tables["households"], tables["enrolments"]
    incomes = tables["incomes"]
    urban = dict(
        zip(
            column(households, "household_key"),
            (a == "urban" for a in column(households, "area_type")),
            strict=True,
        )
    )
    size = dict(
        zip(column(households, "household_key"), column(households, "member_count"), strict=True)
    )
    income: Counter[int] = Counter()
    for key, amount in zip(
        column(incomes, "household_key"), column(incomes, "annual_amount"), strict=True
    ):
        income[key] += float(amount)
    # when
    rows = enrolments.to_pylist()
    dibao = [r for r in rows if r["category"] == "dibao" and r["status"] != "ended"]
    tekun = [r for r in rows if r["category"].startswith("tekun")]
    temporary = [r for r in rows if r["category"] == "temporary"]
    # then: 3–5 % of households on 低保, all poorer than the standard, paid the gap
    assert 0.03 <= len(dibao) / households.num_rows <= 0.06
    for r in dibao:
        key = r["household_key"]
        standard = params.dibao_standard_urban if urban[key] else params.dibao_standard_rural
        assert income[key] / 12 / size[key] < standard
        per_person = float(r["monthly_amount"]) / size[key]
        assert 0.3 * standard <= per_person <= standard + 1
    # 特困: single people, a person-level enrolment
    assert tekun
    for r in tekun:
        assert size[r["household_key"]] == 1
        assert r["person_key"] is not None
    # temporary assistance ends; every spell ends after it starts
    assert all(r["end_date"] is not None for r in temporary)
    for r in rows:
        assert r["start_date"] <= REFERENCE_DATE
        assert r["end_date"] is None or r["end_date"] >= r["start_date"]
        assert (r["status"] == "ended") == (
            r["end_date"] is not None and r["end_date"] < REFERENCE_DATE
        )


def test_orphans_and_unsupported_children_are_minors() -> None:
    # given
    tables = generate_population(households=20_000, seed=5)
    persons = tables["persons"]
    birth = dict(zip(column(persons, "person_key"), column(persons, "birth_date"), strict=True))
    # when
    children = [
        r
        for r in tables["enrolments"].to_pylist()
        if r["category"] in ("orphan", "unsupported_child")
    ]
    # then
    assert children
    for r in children:
        age = (REFERENCE_DATE - birth[r["person_key"]]).days / 365.25
        assert age < 18
        assert r["start_date"] >= birth[r["person_key"]]


# --------------------------------------------------------------------------------------
# Villages
# --------------------------------------------------------------------------------------


def test_small_counties_use_the_fixture_villages(population: dict[str, pa.Table]) -> None:
    # given
    regions = population["regions"]
    # then
    assert set(column(regions, "code")) >= {"360823100201", "360823100001"}
    assert all(name.endswith("（虚构）") for name in column(regions, "name"))
    assert all(column(regions, "is_synthetic"))


def test_large_counties_get_more_synthetic_villages_of_300_to_700_households() -> None:
    # given
    tables = generate_population(households=60_000, seed=1)
    regions = tables["regions"].to_pylist()
    # then
    assert len(regions) > 100
    for r in regions:
        code, suffix = r["code"], int(r["code"][9:])
        assert len(code) == 12 and code.startswith(r["parent_code"])
        if r["area_type"] == "urban":
            assert 1 <= suffix <= 99 and r["name"].endswith("社区（虚构）")
        else:
            assert 201 <= suffix <= 399 and r["name"].endswith("村（虚构）")
    sizes = [r["households"] for r in regions if r["households"] > 0]
    assert 300 <= float(np.median(sizes)) <= 700
    assert len({r["code"] for r in regions}) == len(regions)


def test_another_county_keeps_clear_of_real_village_codes() -> None:
    # given: 吉安县 with one real village already known
    spec = RegionSpec(
        county_code="360821",
        county_name="吉安县",
        towns=(Town("360821100", "敦厚镇"), Town("360821200", "横江乡")),
        villages=(Village("360821100201", "真实村", "360821100", is_synthetic=False),),
    )
    # when
    tables = generate_population(households=2_000, seed=1, region=spec)
    # then
    codes = column(tables["regions"], "code")
    assert "360821100201" not in codes
    assert {c[:9] for c in codes} == {"360821100", "360821200"}
    for number, birth in zip(
        column(tables["persons"], "id_number"), column(tables["persons"], "birth_date"), strict=True
    ):
        assert number[:6] == ("360821" if birth.year >= 2000 else "362421")
        assert ric.is_valid(number)


def test_reference_date_moves_ages_and_the_income_year() -> None:
    # given
    as_of = datetime.date(2024, 7, 1)
    # when
    tables = generate_population(households=100, seed=1, as_of=as_of)
    # then
    assert max(column(tables["persons"], "birth_date")) < as_of
    assert set(column(tables["incomes"], "year")) == {2023}


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "一"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (105, "一百零五"),
        (110, "一百一十"),
        (999, "九百九十九"),
    ],
)
def test_chinese_numerals(n: int, text: str) -> None:
    assert chinese_numeral(n) == text
