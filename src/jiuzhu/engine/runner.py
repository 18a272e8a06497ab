"""Run a rule pack over the input tables and return candidate warnings.

The default runner is DuckDB (embedded; Parquet and JSON are built in, nothing is
downloaded). The Spark runner (:mod:`jiuzhu.engine.spark`) reads the same files and runs
the same SQL transpiled by sqlglot. Both go through :func:`prepare` (what to read, the
bound SQL) and :func:`finish` (checks and a common output), so they can only differ in
what their engines compute — which the parity test compares.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlglot import exp

from jiuzhu.engine.dialects import to_sql
from jiuzhu.engine.inputs import (
    REGISTRY_TABLES,
    Sources,
    feed_input_columns,
)
from jiuzhu.engine.rules import (
    LEVELS,
    OUTPUT_COLUMNS,
    Overrides,
    Rule,
    RuleError,
    RulePack,
    bind,
    bound_values,
    referenced_columns,
    referenced_tables,
)
from jiuzhu.engine.windows import WHOLE, Window, feed_windows
from jiuzhu.feeds.schema import Feed, catalogue

CANDIDATE_SCHEMA = pa.schema(
    [
        pa.field("household_id", pa.int64(), nullable=False),
        pa.field("rule_id", pa.string(), nullable=False),
        pa.field("rule_version", pa.int32(), nullable=False),
        pa.field("level", pa.string(), nullable=False),
        pa.field("event_key", pa.string(), nullable=False),
        pa.field("event_date", pa.date32(), nullable=False),
        pa.field("evidence", pa.string(), nullable=False),
        pa.field("explanation", pa.string(), nullable=False),
    ]
)
ProgressFn = Callable[[str], None]


@dataclass
class RunResult:
    engine: str
    as_of: datetime.date
    pack: str
    mode: str  # full | incremental
    candidates: pa.Table
    rule_versions: dict[str, int]
    parameters: dict[str, dict[str, Any]]
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    households_considered: int | None = None  # incremental: the touched households
    skipped_rules: list[str] = field(default_factory=list)
    windows: dict[str, Window] = field(default_factory=dict)  # per feed read


@dataclass(frozen=True)
class Plan:
    """What a runner needs: which inputs to register and one bound SQL tree per rule."""

    rules: tuple[Rule, ...]
    trees: dict[str, exp.Expression]
    registry_tables: tuple[str, ...]
    feeds: tuple[Feed, ...]
    parameters: dict[str, dict[str, Any]]
    skipped: tuple[str, ...]
    # Per feed, the event dates the rules can see (engine.windows); the rest is not read.
    windows: dict[str, Window] = field(default_factory=dict)
    # Per input table, the columns the rules can see (rules.referenced_columns).
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def window(self, feed: Feed) -> Window:
        return self.windows.get(feed.id, WHOLE)

    def columns_of(self, table: str) -> tuple[str, ...] | None:
        return self.columns.get(table)


def prepare(
    pack: RulePack,
    *,
    as_of: datetime.date,
    values: Mapping[str, Mapping[str, Any]] | None = None,
    overrides: Mapping[str, Overrides] | None = None,
    incremental: bool = False,
    only: Iterable[str] | None = None,
) -> Plan:
    values = values or {}
    overrides = overrides or {}
    wanted = set(only) if only is not None else None
    rules, skipped = [], []
    for rule in pack.rules:
        if wanted is not None and rule.id not in wanted:
            continue
        if incremental and rule.scope == "population":
            skipped.append(rule.id)  # ranks all households: full passes only
            continue
        rules.append(rule)
    trees = {
        rule.id: bind(
            rule, as_of=as_of, values=values.get(rule.id), overrides=overrides.get(rule.id)
        )
        for rule in rules
    }
    parameters = {
        rule.id: bound_values(rule, values.get(rule.id), overrides.get(rule.id)) for rule in rules
    }
    used = referenced_tables(trees.values())
    feeds = catalogue()
    # Feeds are resolved through persons, so persons is always needed when a feed is.
    registry = {t for t in used if t in REGISTRY_TABLES}
    feed_list = tuple(feeds[name] for name in sorted(used) if name in feeds)
    if feed_list or incremental:
        registry.add("persons")
    if incremental:
        registry.add("households")
    return Plan(
        rules=tuple(rules),
        trees=trees,
        registry_tables=tuple(sorted(registry)),
        feeds=feed_list,
        parameters=parameters,
        skipped=tuple(skipped),
        windows=feed_windows(trees, feed_list),
        columns=_loaded_columns(trees.values(), feed_list),
    )


# Read whatever the rules say: persons and households are joined on these.
_KEYS = ("person_id", "household_id")


def _loaded_columns(
    trees: Iterable[exp.Expression], feeds: Sequence[Feed]
) -> dict[str, tuple[str, ...]]:
    tables = {**REGISTRY_TABLES, **{feed.id: feed_input_columns(feed) for feed in feeds}}
    used = referenced_columns(trees, tables)
    return {
        table: tuple(c for c in columns if c in _KEYS or c in used[table])
        for table, columns in tables.items()
    }


def _columns_sql(columns: Mapping[str, str]) -> str:
    return ", ".join(f"CAST({name} AS {kind}) AS {name}" for name, kind in columns.items())


def empty_select(columns: Mapping[str, str]) -> str:
    """A subquery with these columns and no rows (a feed nobody has sent yet). The FROM
    clause is there for Spark, which wants one; DuckDB accepts it too."""
    cols = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in columns.items())
    return f"(SELECT {cols} FROM (SELECT 1 AS x) AS one WHERE 1 = 0)"  # noqa: S608


def registry_select(
    table: str,
    source: str,
    scope_table: str | None = None,
    columns: Sequence[str] | None = None,
) -> str:
    """SELECT of a registry table with its documented columns and types (DuckDB SQL);
    only ``columns`` when given."""
    documented = REGISTRY_TABLES[table]
    kept = {c: t for c, t in documented.items() if columns is None or c in columns}
    sql = f"SELECT {_columns_sql(kept)} FROM {source}"  # noqa: S608
    if scope_table:
        sql += f" WHERE household_id IN (SELECT household_id FROM {scope_table})"  # noqa: S608
    return sql


def check_stored_layout(feed: Feed, files: Sequence[Path]) -> None:
    """Refuse files from before records carried ``person_id``: joined, their records
    would silently resolve to nobody."""
    for path in files:
        if "person_id" not in pq.read_schema(path).names:
            raise RuleError(
                f"{path}: stored before feed records carried person_id; run "
                "`jiuzhu feeds resolve-persons` once (数据文件缺少 person_id，请先运行该命令)"
            )


def window_condition(feed: Feed, window: Window) -> str:
    column = feed.event_date_column
    is_date = feed.column(column).type == "date"
    conditions = []
    for op, value in ((">=", window.since), ("<=", window.until)):
        if value is None:
            continue
        # A date column against the day of the bound: the same rows, and the filter can
        # still be pushed into the Parquet scan (no cast on the column).
        literal = f"DATE '{value.date().isoformat()}'" if is_date else f"TIMESTAMP '{value}'"
        conditions.append(f"f.{column} {op} {literal}")
    return " AND ".join(conditions)


def feed_select(
    feed: Feed, source: str, window: Window = WHOLE, columns: Sequence[str] | None = None
) -> str:
    """Resolve a feed's stored rows to persons and households (DuckDB SQL), keeping only
    the event dates inside ``window`` (and only ``columns`` when given)."""
    inputs = feed_input_columns(feed)
    stored = [
        c
        for c in inputs
        if c not in ("person_id", "household_id") and (columns is None or c in columns)
    ]
    selected = ", ".join(["p.person_id", "p.household_id", *(f"f.{c}" for c in stored)])
    sql = (
        f"SELECT {selected} FROM {source} AS f "  # noqa: S608 - names from the catalogue
        "JOIN persons AS p ON p.person_id = f.person_id"
    )
    if not window.unbounded:
        sql += " WHERE " + window_condition(feed, window)
    return sql


def _json_text(value: Any) -> str:
    """Evidence as canonical JSON. Null members are dropped: Spark's to_json leaves them
    out, DuckDB's json_object keeps them, and "no value" reads the same either way."""
    if value is None:
        return "{}"
    data = json.loads(value) if isinstance(value, str) else dict(value)
    kept = {k: v for k, v in data.items() if v is not None}
    return json.dumps(kept, ensure_ascii=False, sort_keys=True, default=str)


def finish(rule: Rule, table: pa.Table) -> pa.Table:
    """Check one rule's output and bring it to :data:`CANDIDATE_SCHEMA`."""
    missing = [c for c in OUTPUT_COLUMNS if c not in table.column_names]
    if missing:
        raise RuleError(f"{rule.sql_path.name}: output lacks columns {missing}")
    n = table.num_rows
    if n == 0:
        return CANDIDATE_SCHEMA.empty_table()
    for column in OUTPUT_COLUMNS:
        if table[column].null_count:
            raise RuleError(f"{rule.sql_path.name}: {column} is null in some rows")
    rule_ids = set(table["rule_id"].to_pylist())
    if rule_ids != {rule.id}:
        raise RuleError(f"{rule.sql_path.name}: rule_id must be {rule.id!r}, got {rule_ids}")
    levels = set(table["level"].to_pylist())
    if not levels <= set(rule.levels):
        raise RuleError(f"{rule.sql_path.name}: levels {sorted(levels)} not in {rule.levels}")
    event_date = table["event_date"]
    if pa.types.is_timestamp(event_date.type):
        event_date = pc.cast(event_date, pa.date32())
    evidence = pa.array([_json_text(v) for v in table["evidence"].to_pylist()], pa.string())
    out = pa.table(
        {
            "household_id": pc.cast(table["household_id"], pa.int64()),
            "rule_id": pc.cast(table["rule_id"], pa.string()),
            "rule_version": pa.array([rule.version] * n, pa.int32()),
            "level": pc.cast(table["level"], pa.string()),
            "event_key": pc.cast(table["event_key"], pa.string()),
            "event_date": pc.cast(event_date, pa.date32()),
            "evidence": evidence,
            "explanation": pc.cast(table["explanation"], pa.string()),
        },
        schema=CANDIDATE_SCHEMA,
    )
    keys = pc.binary_join_element_wise(
        pc.cast(out["household_id"], pa.string()), out["event_key"], "\x1f"
    )
    if pc.count_distinct(keys).as_py() != n:
        raise RuleError(f"{rule.sql_path.name}: the same event key appears twice")
    return out


def sort_candidates(table: pa.Table) -> pa.Table:
    if table.num_rows == 0:
        return table
    rank = pa.array([LEVELS.index(v) for v in table["level"].to_pylist()], pa.int8())
    ordered = table.append_column("_rank", rank).sort_by(
        [
            ("_rank", "ascending"),
            ("rule_id", "ascending"),
            ("household_id", "ascending"),
            ("event_key", "ascending"),
        ]
    )
    return ordered.drop_columns(["_rank"])


def run(
    pack: RulePack,
    sources: Sources,
    *,
    as_of: datetime.date,
    engine: str = "duckdb",
    values: Mapping[str, Mapping[str, Any]] | None = None,
    overrides: Mapping[str, Overrides] | None = None,
    households: Sequence[int] | None = None,
    only: Iterable[str] | None = None,
    progress: ProgressFn | None = None,
    **engine_options: Any,
) -> RunResult:
    """One pass of ``pack``. ``households`` given = incremental: only those households are
    considered and population-wide rules are skipped."""
    plan = prepare(
        pack,
        as_of=as_of,
        values=values,
        overrides=overrides,
        incremental=households is not None,
        only=only,
    )
    if engine == "duckdb":
        from jiuzhu.engine.duck import DuckRunner

        runner: Any = DuckRunner(**engine_options)
    elif engine == "spark":
        from jiuzhu.engine.spark import SparkRunner

        runner = SparkRunner(**engine_options)
    else:
        raise ValueError(f"unknown engine {engine!r} (duckdb or spark)")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    try:
        runner.load(plan, sources, households)
        seconds["load"] = time.perf_counter() - clock
        if progress:
            progress("load")
        parts, counts = [], {}
        for rule in plan.rules:
            clock = time.perf_counter()
            table = finish(rule, runner.query(plan.trees[rule.id]))
            seconds[f"rule:{rule.id}"] = time.perf_counter() - clock
            counts[rule.id] = table.num_rows
            parts.append(table)
            if progress:
                progress(rule.id)
    finally:
        runner.close()
    candidates = sort_candidates(
        pa.concat_tables(parts) if parts else CANDIDATE_SCHEMA.empty_table()
    )
    return RunResult(
        engine=engine,
        as_of=as_of,
        pack=pack.name,
        mode="incremental" if households is not None else "full",
        candidates=candidates,
        rule_versions={rule.id: rule.version for rule in plan.rules},
        parameters=plan.parameters,
        seconds=seconds,
        counts=counts,
        households_considered=None if households is None else len(set(households)),
        skipped_rules=list(plan.skipped),
        windows={feed.id: plan.window(feed) for feed in plan.feeds},
    )


def sql_for(pack: RulePack, dialect: str, *, as_of: datetime.date) -> dict[str, str]:
    """The bound SQL of every rule as ``dialect`` receives it (snapshot tests, review)."""
    plan = prepare(pack, as_of=as_of)
    return {rule_id: to_sql(tree, dialect, pretty=True) for rule_id, tree in plan.trees.items()}
