"""Rule packs: loading, validation (only SELECT, documented tables, parameters, outputs)
and binding of parameters with region overrides."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jiuzhu.engine.inputs import REGISTRY_TABLES, Sources, input_tables
from jiuzhu.engine.rules import (
    DEFAULT_PACK,
    OUTPUT_COLUMNS,
    RuleError,
    bind,
    load_pack,
)
from jiuzhu.engine.runner import run

AS_OF = datetime.date(2026, 1, 1)
ISSUE_RULES = {
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
}

GOOD_YAML = """\
id: tiny
version: 3
name: {zh: 测试规则, en: test rule}
finds: {zh: 低收入家庭, en: low-income households}
why: because
levels: [yellow]
deadline_hours: {yellow: 72}
region_column: h.region_code
parameters:
  line: {type: number, default: 100, unit: 元, label: {zh: 线, en: line}}
"""
GOOD_SQL = """\
-- households whose income is below :line
SELECT h.household_id, 'tiny' AS rule_id, 'yellow' AS level,
       'tiny:' || CAST(h.household_id AS VARCHAR) AS event_key, :as_of AS event_date,
       json_object('income', i.annual_amount) AS evidence, '收入低' AS explanation
FROM households AS h JOIN incomes AS i ON i.household_id = h.household_id
WHERE i.annual_amount < :line
"""


def _pack(tmp_path: Path, yaml_text: str = GOOD_YAML, sql: str = GOOD_SQL) -> Path:
    directory = tmp_path / "pack"
    directory.mkdir(exist_ok=True)
    (directory / "tiny.yaml").write_text(yaml_text, encoding="utf-8")
    (directory / "tiny.sql").write_text(sql, encoding="utf-8")
    return directory


def _snapshot(tmp_path: Path) -> Sources:
    """Two households in two villages with incomes 50 and 150."""
    directory = tmp_path / "snapshot"
    directory.mkdir()
    rows: dict[str, dict[str, list[object]]] = {
        "households": {
            "household_id": [1, 2],
            "region_code": ["360823100201", "360823101201"],
            "area_type": ["rural", "rural"],
            "member_count": [1, 1],
        },
        "incomes": {
            "household_id": [1, 2],
            "person_id": [None, None],
            "kind": ["wages", "wages"],
            "year": [2025, 2025],
            "annual_amount": [50, 150],
        },
    }
    for table, columns in REGISTRY_TABLES.items():
        data = rows.get(table, {name: [] for name in columns})
        pq.write_table(
            pa.table({k: pa.array(v) for k, v in data.items()}), directory / f"{table}.parquet"
        )
    return Sources(snapshot=directory)


def test_the_default_pack_has_every_rule_the_issue_names() -> None:
    pack = load_pack()
    assert {r.id for r in pack.rules} == ISSUE_RULES
    for rule in pack.rules:
        assert rule.why and rule.finds and rule.finds_zh and rule.version >= 1
        assert set(rule.deadline_hours) == set(rule.levels)
        # every SQL file starts with a header that says what it finds
        assert rule.sql.lstrip().startswith("-- ") and rule.id in rule.sql.splitlines()[0]


def test_default_deadlines_follow_the_levels() -> None:
    for rule in load_pack().rules:
        for level, hours in rule.deadline_hours.items():
            assert hours <= {"red": 24, "yellow": 72, "blue": 168}[level]


def test_a_small_pack_runs_and_binds_parameters(tmp_path: Path) -> None:
    pack = load_pack(_pack(tmp_path))
    sources = _snapshot(tmp_path)
    # when
    result = run(pack, sources, as_of=AS_OF)
    # then
    assert result.candidates["household_id"].to_pylist() == [1]
    assert result.rule_versions == {"tiny": 3}
    assert result.parameters == {"tiny": {"line": 100.0}}
    # a run-wide value
    result = run(pack, sources, as_of=AS_OF, values={"tiny": {"line": 200}})
    assert result.candidates["household_id"].to_pylist() == [1, 2]
    # a value for one town only: the other keeps the default
    result = run(pack, sources, as_of=AS_OF, overrides={"tiny": {"line": {"360823101": 200}}})
    assert result.candidates["household_id"].to_pylist() == [1, 2]
    result = run(pack, sources, as_of=AS_OF, overrides={"tiny": {"line": {"360823100201": 10}}})
    assert result.candidates["household_id"].to_pylist() == []
    assert result.parameters["tiny"]["line"] == {
        "default": 100.0,
        "by_region": {"360823100201": 10},
    }


def test_the_longest_region_prefix_wins(tmp_path: Path) -> None:
    rule = load_pack(_pack(tmp_path)).rule("tiny")
    sql = bind(rule, as_of=AS_OF, overrides={"line": {"360823": 1, "360823100201": 2}}).sql(
        dialect="duckdb"
    )
    assert sql.index("'360823100201%'") < sql.index("'360823%'")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM households", "single SELECT"),
        (GOOD_SQL + "; DROP TABLE households", "one SQL statement"),
        (GOOD_SQL.replace("FROM households", "FROM read_parquet('/etc/passwd')"), "documented"),
        (GOOD_SQL.replace("FROM households", "FROM secrets"), "unknown table"),
        (GOOD_SQL.replace(":line", ":limit"), "not declared"),
        (GOOD_SQL.replace("< :line", "< 5"), "declared but not used"),
        ("SELEC broken", "parse|single SELECT"),
    ],
)
def test_bad_sql_is_refused_with_a_reason(tmp_path: Path, sql: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        load_pack(_pack(tmp_path, sql=sql))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("id: tiny", "id: other", "file name"),
        ("version: 3", "version: 0", "version"),
        ("levels: [yellow]", "levels: [purple]", "levels"),
        ("deadline_hours: {yellow: 72}", "deadline_hours: {red: 72}", "deadline"),
        ("default: 100", "default: lots", "not a valid number"),
        ("why: because\n", "", "why"),
    ],
)
def test_bad_definitions_are_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        load_pack(_pack(tmp_path, yaml_text=GOOD_YAML.replace(old, new)))


def test_missing_output_columns_are_refused_at_run(tmp_path: Path) -> None:
    pack = load_pack(_pack(tmp_path, sql=GOOD_SQL.replace(", '收入低' AS explanation", "")))
    with pytest.raises(RuleError, match="explanation"):
        run(pack, _snapshot(tmp_path), as_of=AS_OF)


def test_a_rule_cannot_emit_another_rules_warnings(tmp_path: Path) -> None:
    pack = load_pack(_pack(tmp_path, sql=GOOD_SQL.replace("'tiny' AS rule_id", "'x' AS rule_id")))
    with pytest.raises(RuleError, match="rule_id"):
        run(pack, _snapshot(tmp_path), as_of=AS_OF)


def test_rules_cannot_read_files_while_running(tmp_path: Path) -> None:
    # Even if a file-reading function slipped past validation, DuckDB refuses it once
    # the inputs are loaded.
    sql = GOOD_SQL.replace(
        "'收入低' AS explanation",
        "(SELECT content FROM read_text('/etc/hostname')) AS explanation",
    )
    with pytest.raises(RuleError):
        load_pack(_pack(tmp_path, sql=sql))


def test_overrides_need_a_region_column(tmp_path: Path) -> None:
    pack = load_pack(
        _pack(tmp_path, yaml_text=GOOD_YAML.replace("region_column: h.region_code\n", ""))
    )
    with pytest.raises(RuleError, match="cannot be overridden"):
        run(pack, _snapshot(tmp_path), as_of=AS_OF, overrides={"tiny": {"line": {"3608": 1}}})


def test_every_default_rule_reads_only_documented_tables() -> None:
    tables = input_tables()
    pack = load_pack(DEFAULT_PACK, tables)
    assert pack.rules
    assert set(OUTPUT_COLUMNS) >= {"household_id", "evidence", "explanation"}


def test_a_copied_pack_with_an_extra_rule_loads(tmp_path: Path) -> None:
    # Rules are content: a county can add one without touching the engine.
    directory = tmp_path / "county"
    shutil.copytree(DEFAULT_PACK, directory)
    (directory / "tiny.yaml").write_text(GOOD_YAML, encoding="utf-8")
    (directory / "tiny.sql").write_text(GOOD_SQL, encoding="utf-8")
    assert len(load_pack(directory).rules) == len(ISSUE_RULES) + 1
