"""DuckDB/Spark parity over the same synthetic county, and snapshots of the SQL Spark gets.

Spark starts a JVM (about 20 s here); CI sets JIUZHU_REQUIRE_SPARK=1 so this cannot skip
silently. Regenerate the snapshots after a deliberate rule or sqlglot change with
JIUZHU_UPDATE_SNAPSHOTS=1.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from jiuzhu.engine.inputs import Sources
from jiuzhu.engine.rules import load_pack
from jiuzhu.engine.runner import run, sql_for
from jiuzhu.engine.spark import spark_available
from jiuzhu.synth.evaluate import evaluate
from jiuzhu.synth.feeds import generate_feeds
from jiuzhu.synth.population import generate_population
from jiuzhu.synth.stored import person_indexes, registry_snapshot, store_feeds

AS_OF = datetime.date(2026, 1, 1)
SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture(scope="module", autouse=True)
def _stop_spark() -> Any:
    # Stop the JVM before pytest closes its streams: py4j logs on shutdown otherwise.
    yield
    from jiuzhu.engine import spark

    if spark._SESSION is not None:
        spark._SESSION.stop()
        spark._SESSION = None


def _index(ids: Any) -> list[str]:
    return [hashlib.sha256(i.encode()).hexdigest() for i in ids]


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Sources, pa.Table]:
    out = tmp_path_factory.mktemp("county")
    population = generate_population(households=3000, seed=7)
    feeds, truth = generate_feeds(population, seed=7, as_of=AS_OF)
    index = person_indexes(population, _index)
    registry_snapshot(population, out / "snapshot")
    store_feeds(
        feeds, out / "feeds", population=population, person_index=index, index_key=b"k" * 32
    )
    return Sources(snapshot=out / "snapshot", feeds_root=out / "feeds"), truth


def _normalised(table: pa.Table) -> list[tuple[Any, ...]]:
    def number(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        return round(float(value), 6)

    rows = []
    for r in table.to_pylist():
        evidence = {k: number(v) for k, v in json.loads(r["evidence"]).items()}
        rows.append(
            (
                r["household_id"],
                r["rule_id"],
                r["rule_version"],
                r["level"],
                r["event_key"],
                r["event_date"],
                r["explanation"],
                json.dumps(evidence, sort_keys=True, ensure_ascii=False),
            )
        )
    return sorted(rows)


def test_the_default_pack_finds_the_planted_truth(county: tuple[Sources, pa.Table]) -> None:
    sources, truth = county
    result = run(load_pack(), sources, as_of=AS_OF)
    scores = evaluate(result.candidates, truth)
    assert scores["recall"] >= 0.95
    assert scores["precision"] >= 0.6
    assert scores["near_misses"] > 0 and scores["near_misses_warned"] == 0
    # every rule of the pack raised something on this county
    assert all(n > 0 for n in result.counts.values()), result.counts


@pytest.mark.skipif(
    not spark_available() and os.environ.get("JIUZHU_REQUIRE_SPARK") != "1",
    reason="PySpark not installed (pip install 'jiuzhu[spark]')",
)
def test_duckdb_and_spark_give_identical_warnings(county: tuple[Sources, pa.Table]) -> None:
    sources, _ = county
    pack = load_pack()
    duck = run(pack, sources, as_of=AS_OF, engine="duckdb")
    spark = run(pack, sources, as_of=AS_OF, engine="spark")
    assert duck.candidates.num_rows > 100
    assert _normalised(spark.candidates) == _normalised(duck.candidates)
    # incremental mode too
    some = sorted(set(duck.candidates["household_id"].to_pylist()))[:50]
    duck_inc = run(pack, sources, as_of=AS_OF, engine="duckdb", households=some)
    spark_inc = run(pack, sources, as_of=AS_OF, engine="spark", households=some)
    assert _normalised(spark_inc.candidates) == _normalised(duck_inc.candidates)
    assert duck_inc.candidates.num_rows > 0


def test_the_sql_spark_receives_matches_the_snapshots() -> None:
    statements = sql_for(load_pack(), "spark", as_of=AS_OF)
    update = os.environ.get("JIUZHU_UPDATE_SNAPSHOTS") == "1"
    SNAPSHOTS.mkdir(exist_ok=True)
    for rule_id, sql in statements.items():
        path = SNAPSHOTS / f"{rule_id}.spark.sql"
        if update or not path.exists():
            path.write_text(sql + "\n", encoding="utf-8")
        assert path.read_text(encoding="utf-8") == sql + "\n", f"{rule_id}: Spark SQL changed"
    assert {p.name.split(".")[0] for p in SNAPSHOTS.glob("*.spark.sql")} == set(statements)
