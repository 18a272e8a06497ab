"""What a run reads, derived from the rules' SQL: the event dates of each feed (windows)
and the columns of each table — and proof that reading only those changes no warning."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlglot

from jiuzhu.engine import runner as runner_module
from jiuzhu.engine.inputs import Sources, input_tables
from jiuzhu.engine.rules import bind, load_pack, referenced_columns
from jiuzhu.engine.runner import prepare, run
from jiuzhu.engine.windows import WHOLE, Window, feed_windows
from jiuzhu.feeds.schema import catalogue
from jiuzhu.synth.feeds import generate_feeds
from jiuzhu.synth.population import generate_population
from jiuzhu.synth.stored import person_indexes, registry_snapshot, store_feeds

AS_OF = datetime.date(2026, 1, 1)
WATER = catalogue()["water_meter_reading"]
UNEMPLOYMENT = catalogue()["unemployment_registration"]


def _window(sql: str, feed: Any = WATER) -> Window:
    return feed_windows([sqlglot.parse_one(sql, read="duckdb")], [feed])[feed.id]


def _at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day)


def test_a_constant_range_in_where_bounds_the_feed() -> None:
    window = _window(
        "SELECT w.household_id FROM water_meter_reading AS w "
        "WHERE w.litres > 0 AND w.read_at >= DATE '2026-01-01' - INTERVAL '30' DAY "
        "AND w.read_at < DATE '2026-01-01'"
    )
    assert window == Window(since=_at("2025-12-02"), until=_at("2026-01-01"))


def test_between_and_reversed_comparisons_count_too() -> None:
    assert _window(
        "SELECT 1 FROM water_meter_reading AS w "
        "WHERE w.read_at BETWEEN DATE '2025-06-01' AND DATE '2025-06-30'"
    ) == Window(since=_at("2025-06-01"), until=_at("2025-06-30"))
    assert _window(
        "SELECT 1 FROM water_meter_reading AS w WHERE DATE '2025-06-01' <= w.read_at"
    ) == Window(since=_at("2025-06-01"))


@pytest.mark.parametrize(
    "sql",
    [
        # an OR may let older rows through
        "SELECT 1 FROM water_meter_reading AS w "
        "WHERE w.read_at >= DATE '2025-12-01' OR w.litres > 1000",
        # the bound depends on another row
        "SELECT 1 FROM water_meter_reading AS w JOIN households AS h "
        "ON h.household_id = w.household_id WHERE w.read_at >= h.since",
        # a RIGHT join keeps the feed's rows whatever its ON clause says
        "SELECT 1 FROM households AS h RIGHT JOIN water_meter_reading AS w "
        "ON w.household_id = h.household_id AND w.read_at >= DATE '2025-12-01'",
        # an unqualified column beside a join may belong to another table
        "SELECT 1 FROM water_meter_reading AS w JOIN households AS h "
        "ON h.household_id = w.household_id WHERE read_at >= DATE '2025-12-01'",
        # no filter at all
        "SELECT 1 FROM water_meter_reading AS w",
    ],
)
def test_anything_else_reads_the_whole_feed(sql: str) -> None:
    assert _window(sql) == WHOLE


def test_a_left_join_condition_filters_the_joined_feed() -> None:
    window = _window(
        "SELECT 1 FROM households AS h LEFT JOIN water_meter_reading AS w "
        "ON w.household_id = h.household_id AND w.read_at >= DATE '2025-12-01'"
    )
    assert window == Window(since=_at("2025-12-01"))


def test_every_reference_must_be_bounded_and_the_widest_wins() -> None:
    two_windows = (
        "SELECT 1 FROM water_meter_reading AS a WHERE a.read_at >= DATE '2025-12-01' "
        "UNION ALL SELECT 1 FROM water_meter_reading AS b WHERE b.read_at >= DATE '2025-10-01'"
    )
    assert _window(two_windows) == Window(since=_at("2025-10-01"))
    # the default pack: unemployment_dependants looks for a later 'ended' record of the
    # same person with a bound that depends on the row, so its lower end stays open
    pack = load_pack()
    trees = {r.id: bind(r, as_of=AS_OF) for r in pack.rules}
    windows = feed_windows(trees, catalogue().values())
    assert windows["unemployment_registration"] == Window(until=_at("2026-01-01"))
    assert windows["water_meter_reading"] == Window(
        since=_at("2025-12-02"), until=_at("2026-01-01")
    )
    assert windows["medical_settlement"].since == _at("2025-01-01")


def test_a_cte_named_like_a_feed_is_not_the_feed() -> None:
    sql = (
        "WITH water_meter_reading AS (SELECT 1 AS x) "
        "SELECT 1 FROM water_meter_reading AS w, households AS h"
    )
    assert _window(sql) == WHOLE  # no reference to the feed: nothing to bound


def test_region_overrides_widen_the_window_to_their_longest_look_back() -> None:
    rule = load_pack().rule("water_anomaly")
    tree = bind(rule, as_of=AS_OF, overrides={"lookback_days": {"3714": 60, "371402": 10}})
    window = feed_windows([tree], [WATER])["water_meter_reading"]
    assert window == Window(since=_at("2025-11-02"), until=_at("2026-01-01"))


def _columns(sql: str, table: str) -> tuple[str, ...]:
    return referenced_columns([sqlglot.parse_one(sql, read="duckdb")], input_tables())[table]


def test_only_columns_named_in_some_rule_are_loaded() -> None:
    assert _columns("SELECT p.birth_date FROM persons AS p", "persons") == ("birth_date",)
    # the default pack never reads a person's sex, relationship or employment
    plan = prepare(load_pack(), as_of=AS_OF)
    assert {"sex", "relationship", "employment"}.isdisjoint(plan.columns["persons"])
    assert {"person_id", "household_id", "birth_date"} <= set(plan.columns["persons"])
    assert "total_amount" not in plan.columns["medical_settlement"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM persons",
        "SELECT x.* FROM persons AS x",
        "SELECT COLUMNS('birth') FROM persons",
        "SELECT p FROM persons AS p",  # DuckDB: the whole row as a struct
        "WITH a AS (SELECT * FROM persons) SELECT person_id FROM a",
    ],
)
def test_whatever_reads_the_whole_row_gets_every_column(sql: str) -> None:
    assert _columns(sql, "persons") == tuple(input_tables()["persons"])


# ----------------------------------------------------------------------------------------
# Over data: the windowed run reads fewer files and finds exactly the same warnings.
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Sources:
    out = tmp_path_factory.mktemp("county")
    population = generate_population(households=2000, seed=11)
    feeds, _ = generate_feeds(population, seed=11, as_of=AS_OF)
    index = person_indexes(
        population, lambda ids: [hashlib.sha256(i.encode()).hexdigest() for i in ids]
    )
    registry_snapshot(population, out / "snapshot")
    store_feeds(
        feeds, out / "feeds", population=population, person_index=index, index_key=b"k" * 32
    )
    return Sources(snapshot=out / "snapshot", feeds_root=out / "feeds")


def test_runs_that_read_less_find_the_same(
    county: Sources, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a year of water readings, of which the rules look at 30 days
    plan = prepare(load_pack(), as_of=AS_OF)
    every_file = county.files_of(WATER)
    read = county.files_of(WATER, plan.window(WATER))
    assert len(every_file) == 12 and [p.parent.name for p in read] == ["period=2025-12"]
    rows = sum(pq.read_metadata(p).num_rows for p in read)
    assert rows < sum(pq.read_metadata(p).num_rows for p in every_file) / 2
    # when
    windowed = run(load_pack(), county, as_of=AS_OF)
    monkeypatch.setattr(runner_module, "feed_windows", lambda trees, feeds: {})
    monkeypatch.setattr(runner_module, "_loaded_columns", lambda trees, feeds: {})
    whole = run(load_pack(), county, as_of=AS_OF)
    # then
    assert windowed.candidates.num_rows > 50
    assert windowed.counts["water_anomaly"] > 0
    assert windowed.candidates.equals(whole.candidates)


def test_the_window_is_applied_to_rows_inside_a_partly_covered_period(tmp_path: Path) -> None:
    # given: readings on the 1st and the 20th of December; the rule looks back 20 days
    rule = load_pack().rule("water_anomaly")
    tree = bind(rule, as_of=AS_OF, values={"lookback_days": 20})
    plan_window = feed_windows([tree], [WATER])["water_meter_reading"]
    # then: December is read, but only from the 12th
    assert plan_window.since == _at("2025-12-12")
    sql = runner_module.feed_select(WATER, "source", plan_window)
    assert "f.read_at >= TIMESTAMP '2025-12-12 00:00:00'" in sql
    assert "f.read_at <= TIMESTAMP '2026-01-01 00:00:00'" in sql
    assert plan_window.covers_period(datetime.date(2025, 12, 1), datetime.date(2026, 1, 1))
    assert not plan_window.covers_period(datetime.date(2025, 11, 1), datetime.date(2025, 12, 1))
    assert not plan_window.covers_period(datetime.date(2026, 2, 1), datetime.date(2026, 3, 1))


def test_a_feed_column_named_like_the_store_folders_keeps_its_own_values(
    county: Sources, tmp_path: Path
) -> None:
    # given: a rule reading social-insurance contributions, whose `period` column shares
    # its name with the store's period=YYYY-MM folders
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "contributions.yaml").write_text(
        "id: contributions\nversion: 1\nname: {zh: 缴费, en: contributions}\n"
        "finds: {zh: 缴费, en: contributions}\nwhy: test\nlevels: [blue]\n"
        "deadline_hours: {blue: 168}\n",
        encoding="utf-8",
    )
    (pack / "contributions.sql").write_text(
        "SELECT s.household_id, 'contributions' AS rule_id, 'blue' AS level,\n"
        "  'c:' || CAST(s.household_id AS VARCHAR) AS event_key, MAX(s.period) AS event_date,\n"
        "  json_object('months', COUNT(*)) AS evidence, '缴费' AS explanation\n"
        "FROM social_insurance_contribution AS s\n"
        "WHERE s.period >= :as_of - INTERVAL 90 DAY\n"
        "GROUP BY s.household_id\n",
        encoding="utf-8",
    )
    # when
    result = run(load_pack(pack), county, as_of=AS_OF)
    # then: the dates are the records' own months, not the folder names
    dates = set(result.candidates["event_date"].to_pylist())
    assert dates and all(isinstance(d, datetime.date) for d in dates)
    assert max(dates) <= AS_OF
