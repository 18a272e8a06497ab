"""The policy matcher (engine.eligibility) on a hand-made snapshot: every figure known."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jiuzhu.engine.eligibility import (
    MAY_QUALIFY,
    NO_LONGER_ELIGIBLE,
    EligibilityRule,
    match,
    validate_rule_sql,
)
from jiuzhu.engine.inputs import REGISTRY_TABLES, registry_arrow_schema
from jiuzhu.engine.rules import RuleError
from jiuzhu.policies.defaults import default_library

AS_OF = datetime.date(2026, 1, 1)
VILLAGE = "360823100201"
OTHER_COUNTY_VILLAGE = "360824100201"

DIBAO = next(p for p in default_library() if p.code == "dibao")
ELDERLY = next(p for p in default_library() if p.code == "elderly_allowance")


def write_snapshot(directory: Path, rows: dict[str, list[dict[str, Any]]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for table in REGISTRY_TABLES:
        schema = registry_arrow_schema(table)
        data = rows.get(table, [])
        columns = {f.name: [r.get(f.name) for r in data] for f in schema}
        pq.write_table(pa.table(columns, schema=schema), directory / f"{table}.parquet")
    return directory


def standards(value: str = "616") -> pa.Table:
    rows = [
        (VILLAGE, "rural", "dibao_monthly", value),
        (VILLAGE, "rural", "marginal_factor", "1.5"),
        (VILLAGE, "rural", "disposable_income", "23119"),
        (VILLAGE, "rural", "rigid_share", "0.3"),
    ]
    return pa.table(
        {
            "region_code": [r[0] for r in rows],
            "area_type": [r[1] for r in rows],
            "name": [r[2] for r in rows],
            "value": pa.array([Decimal(r[3]) for r in rows], pa.decimal128(14, 4)),
        }
    )


def household(hid: int, *, members: int = 1, region: str = VILLAGE) -> dict[str, Any]:
    return {
        "household_id": hid,
        "region_code": region,
        "area_type": "rural",
        "member_count": members,
    }


def person(pid: int, hid: int, born: datetime.date, **extra: Any) -> dict[str, Any]:
    return {
        "person_id": pid,
        "household_id": hid,
        "sex": "F",
        "birth_date": born,
        "relationship": "head",
        "disability_type": "",
        "disability_grade": None,
        "labour_capacity": "full",
        "employment": "farming",
        "is_deceased": False,
        **extra,
    }


def income(hid: int, annual: str) -> dict[str, Any]:
    return {
        "household_id": hid,
        "person_id": None,
        "kind": "agriculture",
        "year": 2025,
        "annual_amount": Decimal(annual),
    }


def found(result: Any, kind: str = MAY_QUALIFY) -> set[int]:
    return {r["household_id"] for r in result.matches.to_pylist() if r["kind"] == kind}


def test_income_one_cent_below_the_standard_qualifies_and_at_the_standard_does_not(
    tmp_path: Path,
) -> None:
    # given: per-capita monthly income 615.99 (household 1) and exactly 616.00 (household 2)
    snapshot = write_snapshot(
        tmp_path,
        {
            "households": [household(1), household(2)],
            "persons": [
                person(1, 1, datetime.date(1970, 1, 1)),
                person(2, 2, datetime.date(1970, 1, 1)),
            ],
            "incomes": [income(1, "7391.88"), income(2, "7392.00")],
        },
    )
    # when
    result = match([DIBAO.eligibility_rule()], snapshot, as_of=AS_OF, standards=standards())
    # then
    assert found(result) == {1}
    row = result.matches.to_pylist()[0]
    assert json.loads(row["evidence"])["per_capita_monthly_income"] == pytest.approx(615.99)
    assert "低于低保标准616" in row["explanation"]


def test_enrolled_are_not_offered_again_and_enrolled_who_no_longer_qualify_are_reported(
    tmp_path: Path,
) -> None:
    # given: 1 poor and enrolled, 2 poor and not enrolled, 3 better off but enrolled
    snapshot = write_snapshot(
        tmp_path,
        {
            "households": [household(1), household(2), household(3)],
            "persons": [person(i, i, datetime.date(1970, 1, 1)) for i in (1, 2, 3)],
            "incomes": [income(1, "1200"), income(2, "1200"), income(3, "36000")],
            "enrolments": [
                {
                    "household_id": h,
                    "person_id": None,
                    "category": "dibao",
                    "status": "active",
                    "start_date": datetime.date(2024, 1, 1),
                    "end_date": None,
                }
                for h in (1, 3)
            ],
        },
    )
    # when
    result = match([DIBAO.eligibility_rule()], snapshot, as_of=AS_OF, standards=standards())
    # then
    assert found(result, MAY_QUALIFY) == {2}
    assert found(result, NO_LONGER_ELIGIBLE) == {3}
    assert result.counts["dibao"] == {MAY_QUALIFY: 1, NO_LONGER_ELIGIBLE: 1}


def test_without_a_standard_in_force_nobody_is_found_on_income(tmp_path: Path) -> None:
    snapshot = write_snapshot(
        tmp_path,
        {"households": [household(1)], "persons": [person(1, 1, datetime.date(1970, 1, 1))]},
    )
    result = match([DIBAO.eligibility_rule()], snapshot, as_of=AS_OF, standards=None)
    assert found(result) == set()


def test_ages_count_on_the_day_of_the_pass(tmp_path: Path) -> None:
    # given: one elder turns 80 on the day of the pass, another the day after
    snapshot = write_snapshot(
        tmp_path,
        {
            "households": [household(1), household(2)],
            "persons": [
                person(1, 1, datetime.date(1946, 1, 1)),
                person(2, 2, datetime.date(1946, 1, 2)),
            ],
        },
    )
    result = match([ELDERLY.eligibility_rule()], snapshot, as_of=AS_OF, standards=standards())
    assert found(result) == {1}


def test_a_county_policy_finds_only_that_countys_households(tmp_path: Path) -> None:
    snapshot = write_snapshot(
        tmp_path,
        {
            "households": [household(1), household(2, region=OTHER_COUNTY_VILLAGE)],
            "persons": [
                person(1, 1, datetime.date(1930, 5, 1)),
                person(2, 2, datetime.date(1930, 5, 1)),
            ],
        },
    )
    rule = ELDERLY.eligibility_rule(region_prefix="360823")
    result = match([rule], snapshot, as_of=AS_OF, standards=standards())
    assert found(result) == {1}


def test_a_rule_that_fails_at_run_time_is_reported_and_the_others_still_run(tmp_path: Path) -> None:
    snapshot = write_snapshot(
        tmp_path,
        {"households": [household(1)], "persons": [person(1, 1, datetime.date(1930, 5, 1))]},
    )
    broken = EligibilityRule(
        policy="broken",
        version=1,
        sql="SELECT household_id, json_object('x', 1) AS evidence, "
        "CAST('x' AS INTEGER) AS explanation FROM household_facts",
    )
    result = match([broken, ELDERLY.eligibility_rule()], snapshot, as_of=AS_OF)
    assert "broken" in result.errors
    assert found(result) == {1}


def test_a_member_joined_twice_counts_the_household_once(tmp_path: Path) -> None:
    snapshot = write_snapshot(
        tmp_path,
        {
            "households": [household(1, members=2)],
            "persons": [
                person(1, 1, datetime.date(1930, 5, 1)),
                person(2, 1, datetime.date(1931, 5, 1), relationship="spouse"),
            ],
        },
    )
    rule = EligibilityRule(
        policy="per_member",
        version=1,
        sql="SELECT household_id, json_object('p', person_id) AS evidence, "
        "'老人' || CAST(person_id AS VARCHAR) AS explanation FROM persons",
    )
    result = match([rule], snapshot, as_of=AS_OF)
    rows = result.matches.to_pylist()
    assert [r["household_id"] for r in rows] == [1]
    assert rows[0]["explanation"] == "老人1"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM persons", "single SELECT"),
        ("SELECT household_id, 1 AS evidence, 'x' AS explanation FROM secrets", "unknown table"),
        ("SELECT * FROM read_parquet('/etc/passwd')", "documented input table"),
        ("SELECT household_id FROM household_facts", "evidence, explanation"),
        (
            "SELECT household_id, 1 AS evidence, 'x' AS explanation FROM households "
            "WHERE member_count > :limit",
            "unknown parameters",
        ),
        ("SELECT 1; SELECT 2", "one SQL statement"),
        ("", "empty"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(sql: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        validate_rule_sql(sql, "policy")


def test_every_default_rule_validates_and_runs_on_a_synthetic_county(tmp_path: Path) -> None:
    from jiuzhu.policies.bench import bench_rules, standards_for
    from jiuzhu.synth.population import generate_population
    from jiuzhu.synth.stored import registry_snapshot

    # given
    registry_snapshot(generate_population(households=1500, seed=5), tmp_path)
    rules = bench_rules(50, "360823")
    # when
    result = match(rules, tmp_path, as_of=AS_OF, standards=standards_for(tmp_path))
    # then: no rule fails, every copy finds what its original finds, and most find someone
    assert result.errors == {}
    assert len(result.counts) == 50
    for code, counts in result.counts.items():
        if "__" in code:
            assert counts == result.counts[code.split("__")[0]]
    assert sum(1 for c in result.counts.values() if c[MAY_QUALIFY]) >= 25
