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
from jiuzhu.engine.runner import Plan, empty_select, feed_select, registry_select


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def parquet_source(files: Sequence[Path]) -> str:
    return "read_parquet([" + ", ".join(_quote(p) for p in files) + "], union_by_name = true)"


def households_with_records(files: Sequence[Path], snapshot: Path) -> list[int]:
    """Households whose persons appear in these feed files — the set an incremental run
    reconsiders. Reads only the person column and joins it to the snapshot's persons."""
    if not files:
        return []
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        rows = con.execute(
            "SELECT DISTINCT p.household_id FROM read_parquet(?, union_by_name = true) AS f "
            "JOIN read_parquet(?) AS p ON p.person_index = f.person_index ORDER BY 1",
            [sorted(str(f) for f in files), str(snapshot / "persons.parquet")],
        ).fetchall()
    finally:
        con.close()
    return [int(r[0]) for r in rows]


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
            con.execute("CREATE TEMP TABLE _scope (household_id BIGINT PRIMARY KEY)")
            if households:
                con.execute(
                    "INSERT INTO _scope SELECT DISTINCT unnest(?::BIGINT[])", [list(households)]
                )
            scope = "_scope"
        for table in plan.registry_tables:
            path = sources.registry_file(table)
            if not path.exists():
                raise RuleError(f"registry snapshot lacks {path.name} ({sources.snapshot})")
            sql = registry_select(table, f"read_parquet({_quote(path)})", scope)
            con.execute(f"CREATE TEMP TABLE {table} AS {sql}")
        for table in REGISTRY_TABLES:
            if table not in plan.registry_tables:  # unused, but every name must exist
                cols = REGISTRY_TABLES[table]
                con.execute(f"CREATE TEMP TABLE {table} AS {empty_select(cols)}")
        for feed in plan.feeds:
            files = sources.files_of(feed)
            source = parquet_source(files) if files else empty_select(feed_stored_columns(feed))
            con.execute(f"CREATE TEMP TABLE {feed.id} AS {feed_select(feed, source)}")
        # From here on, no file can be read or written by a rule.
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")

    def query(self, tree: exp.Expression) -> pa.Table:
        result = self.con.sql(to_sql(tree, "duckdb")).to_arrow_table()
        return result

    def close(self) -> None:
        self.con.close()
