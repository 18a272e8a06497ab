"""The Spark runner: the same inputs and the same rule SQL, transpiled by sqlglot.

PySpark is an optional extra (``pip install 'jiuzhu[spark]'``; Java 17). Here it runs in
local mode; at province scale point ``JIUZHU_SPARK_MASTER`` at a cluster. The session is
kept for the life of the process because starting a JVM takes seconds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from sqlglot import exp

from jiuzhu.engine.dialects import to_sql
from jiuzhu.engine.inputs import REGISTRY_TABLES, Sources, feed_stored_columns
from jiuzhu.engine.rules import RuleError, parse
from jiuzhu.engine.runner import (
    Plan,
    check_stored_layout,
    empty_select,
    feed_select,
    registry_select,
)

_SESSION: Any = None


def spark_available() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return True


def session() -> Any:
    global _SESSION
    if _SESSION is None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "the Spark engine needs PySpark: pip install 'jiuzhu[spark]' (and Java 17)"
            ) from exc
        master = os.environ.get("JIUZHU_SPARK_MASTER", "local[2]")
        _SESSION = (
            SparkSession.builder.master(master)
            .appName("jiuzhu-monitoring")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", os.environ.get("JIUZHU_SPARK_PARTITIONS", "4"))
            .config("spark.driver.memory", os.environ.get("JIUZHU_SPARK_MEMORY", "2g"))
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
        _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def _spark_sql(duckdb_sql: str) -> str:
    return to_sql(parse(duckdb_sql, "input"), "spark")


class SparkRunner:
    def __init__(self, **_: Any) -> None:
        self.spark = session()
        self.views: list[str] = []

    def _view(self, name: str, duckdb_sql: str, *, cache: bool = False) -> None:
        self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {_spark_sql(duckdb_sql)}")
        self.views.append(name)
        if cache:
            self.spark.sql(f"CACHE TABLE {name}")

    def _raw(self, name: str, paths: Sequence[str]) -> str:
        self.spark.read.parquet(*paths).createOrReplaceTempView(name)
        self.views.append(name)
        return name

    def load(self, plan: Plan, sources: Sources, households: Sequence[int] | None) -> None:
        scope = None
        if households is not None:
            frame = self.spark.createDataFrame(
                [(int(h),) for h in sorted(set(households))], "household_id BIGINT"
            )
            frame.createOrReplaceTempView("_scope")
            self.views.append("_scope")
            scope = "_scope"
        for table in REGISTRY_TABLES:
            if table in plan.registry_tables:
                path = sources.registry_file(table)
                if not path.exists():
                    raise RuleError(f"registry snapshot lacks {path.name} ({sources.snapshot})")
                source = self._raw(f"_raw_{table}", [str(path)])
                columns = plan.columns_of(table)
                self._view(table, registry_select(table, source, scope, columns), cache=True)
            else:
                self._view(table, registry_select(table, empty_select(REGISTRY_TABLES[table])))
        for feed in plan.feeds:
            files = sources.files_of(feed, plan.window(feed))
            check_stored_layout(feed, files)
            if files:
                source = self._raw(f"_raw_{feed.id}", [str(p) for p in files])
            else:
                source = empty_select(feed_stored_columns(feed))
            self._view(
                feed.id,
                feed_select(feed, source, plan.window(feed), plan.columns_of(feed.id)),
                cache=True,
            )

    def query(self, tree: exp.Expression) -> pa.Table:
        frame = self.spark.sql(to_sql(tree, "spark"))
        return frame.toArrow()

    def close(self) -> None:
        for name in reversed(self.views):
            self.spark.catalog.dropTempView(name)
        self.views.clear()
