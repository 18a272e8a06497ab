"""The DuckDB runner: registry snapshot and resolved feeds as tables, rules as queries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from jiuzhu.engine.dialects import to_sql
from jiuzhu.engine.inputs import REGISTRY_TABLES, Sources, feed_stored_columns
from jiuzhu.engine.rules import RuleError
from jiuzhu.engine.runner import (
    Plan,
    check_stored_layout,
    empty_select,
    feed_select,
    registry_select,
)


def path_literal(path: Path) -> str:
    """A file path as a DuckDB string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def parquet_source(files: Sequence[Path]) -> str:
    return "read_parquet([" + ", ".join(path_literal(p) for p in files) + f"], {FEED_READ_OPTIONS})"


# The store's folders are named period=…, and a feed may have a column of that name
# (social-insurance contributions do): never let DuckDB turn folder names into columns.
FEED_READ_OPTIONS = "union_by_name = true, hive_partitioning = false"


def households_with_records(files: Sequence[Path], snapshot: Path) -> list[int]:
    """Households whose persons appear in these feed files — the set an incremental run
    reconsiders. Reads only the person column and joins it to the snapshot's persons."""
    if not files:
        return []
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        found = con.sql(
            f"SELECT DISTINCT p.household_id FROM read_parquet(?, {FEED_READ_OPTIONS}) AS f "  # noqa: S608
            "JOIN read_parquet(?) AS p ON p.person_id = f.person_id "
            "WHERE p.household_id IS NOT NULL ORDER BY 1",
            params=[sorted(str(f) for f in files), str(snapshot / "persons.parquet")],
        ).to_arrow_table()
    finally:
        con.close()
    return [int(h) for h in found.column(0).to_pylist()]


class DuckRunner:
    """Inputs are loaded into an in-memory database first, then rules run on it with
    file access switched off: a rule can read only the documented tables."""

    def __init__(
        self, *, threads: int | None = None, memory_limit: str | None = None, **_: Any
    ) -> None:
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        # Rules never need extensions from the network (air-gapped deployments).
        config["autoinstall_known_extensions"] = False
        config["autoload_known_extensions"] = False
        self.con = duckdb.connect(":memory:", config=config)

    def load(self, plan: Plan, sources: Sources, households: Sequence[int] | None) -> None:
        con = self.con
        scope = None
        if households is not None:
            # Handed over as Arrow: a Python list of 100 000 ids bound as a parameter
            # costs a tenth of a second.
            wanted = pa.table({"household_id": pa.array(households, pa.int64())})
            con.register("_wanted", wanted)
            con.execute("CREATE TEMP TABLE _scope AS SELECT DISTINCT household_id FROM _wanted")
            con.unregister("_wanted")
            scope = "_scope"
        for table in plan.registry_tables:
            path = sources.registry_file(table)
            if not path.exists():
                raise RuleError(f"registry snapshot lacks {path.name} ({sources.snapshot})")
            source = f"read_parquet({path_literal(path)})"
            sql = registry_select(table, source, scope, plan.columns_of(table))
            con.execute(f"CREATE TEMP TABLE {table} AS {sql}")
        for table in REGISTRY_TABLES:
            if table not in plan.registry_tables:  # unused, but every name must exist
                cols = REGISTRY_TABLES[table]
                con.execute(f"CREATE TEMP TABLE {table} AS {empty_select(cols)}")
        for feed in plan.feeds:
            window = plan.window(feed)
            files = sources.files_of(feed, window)
            check_stored_layout(feed, files)
            source = parquet_source(files) if files else empty_select(feed_stored_columns(feed))
            sql = feed_select(feed, source, window, plan.columns_of(feed.id))
            con.execute(f"CREATE TEMP TABLE {feed.id} AS {sql}")
        # From here on, no file can be read or written by a rule.
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")

    def query(self, tree: exp.Expression) -> pa.Table:
        result = self.con.sql(to_sql(tree, "duckdb")).to_arrow_table()
        return result

    def close(self) -> None:
        self.con.close()
