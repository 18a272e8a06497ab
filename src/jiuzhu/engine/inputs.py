"""The documented input tables every rule may read (docs/engine.md lists them).

Two families:

* the **registry snapshot** — households, persons, illnesses, incomes, expenditures,
  assets and enrolments as of the run, written as one Parquet file a table (by
  ``jiuzhu.monitoring.snapshot`` from the database, or by the benchmark from a synthetic
  population);
* the **feeds** — one table per feed of the catalogue, named by the feed id, holding the
  feed's stored columns with ``household_id`` resolved through the snapshot's persons.
  The importer resolved each record's person through the blind index and stored the
  registry's ``person_id`` with it, so a run joins on integers and never needs the blind
  index. Records of persons the snapshot does not know are left out.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from jiuzhu.core.dates import first_of_next_month
from jiuzhu.engine.windows import WHOLE, Window
from jiuzhu.feeds.schema import Feed, catalogue

# Column → DuckDB type. Rules must only read these names.
REGISTRY_TABLES: dict[str, dict[str, str]] = {
    "households": {
        "household_id": "BIGINT",
        "region_code": "VARCHAR",  # 12-digit village code
        "area_type": "VARCHAR",  # urban | rural
        "member_count": "INTEGER",  # living members
    },
    "persons": {
        "person_id": "BIGINT",
        "household_id": "BIGINT",
        "sex": "VARCHAR",  # M | F
        "birth_date": "DATE",
        "relationship": "VARCHAR",
        "disability_type": "VARCHAR",  # '' when none
        "disability_grade": "INTEGER",  # 1 (most severe) … 4, null when none
        "labour_capacity": "VARCHAR",  # full | partial | none
        "employment": "VARCHAR",
        "is_deceased": "BOOLEAN",
    },
    "illnesses": {
        "person_id": "BIGINT",
        "household_id": "BIGINT",
        "icd10": "VARCHAR",
        "is_serious": "BOOLEAN",
        "diagnosed_on": "DATE",
    },
    "incomes": {
        "household_id": "BIGINT",
        "person_id": "BIGINT",  # null for household income
        "kind": "VARCHAR",
        "year": "INTEGER",
        "annual_amount": "DECIMAL(14,2)",
    },
    "expenditures": {
        "household_id": "BIGINT",
        "kind": "VARCHAR",  # medical | education
        "year": "INTEGER",
        "amount": "DECIMAL(14,2)",
    },
    "assets": {
        "household_id": "BIGINT",
        "kind": "VARCHAR",
        "value": "DECIMAL(14,2)",
    },
    "enrolments": {
        "household_id": "BIGINT",
        "person_id": "BIGINT",  # null = the whole household
        "category": "VARCHAR",
        "status": "VARCHAR",  # active | suspended | ended
        "start_date": "DATE",
        "end_date": "DATE",
    },
}

_ARROW_TYPES = {
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "BOOLEAN": pa.bool_(),
    "DECIMAL(14,2)": pa.decimal128(14, 2),
}


def registry_arrow_schema(table: str) -> pa.Schema:
    """The Parquet schema of one registry snapshot table (every writer uses this)."""
    return pa.schema([(n, _ARROW_TYPES[t]) for n, t in REGISTRY_TABLES[table].items()])


_FEED_TYPES = {
    "string": "VARCHAR",
    "enum": "VARCHAR",
    "icd10": "VARCHAR",
    "region_code": "VARCHAR",
    "id_number": "VARCHAR",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "decimal": "DECIMAL(18,2)",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
}


def feed_stored_columns(feed: Feed) -> dict[str, str]:
    """The columns of a feed as stored in Parquet (see jiuzhu.feeds.storage)."""
    columns = {"key_hash": "VARCHAR"}
    for column in feed.columns:
        if column.name == feed.person_column:
            columns["person_index"] = "VARCHAR"
            columns["person_id"] = "BIGINT"  # resolved by the importer
        elif column.type == "id_number":
            columns[f"{column.name}_index"] = "VARCHAR"
        else:
            columns[column.name] = _FEED_TYPES[column.type]
    columns["batch_id"] = "BIGINT"
    return columns


def feed_input_columns(feed: Feed) -> dict[str, str]:
    """The columns rules see for a feed: resolved person and household, then the rest."""
    stored = feed_stored_columns(feed)
    columns = {"person_id": "BIGINT", "household_id": "BIGINT"}
    for name, kind in stored.items():
        if name not in ("person_index", "person_id", "key_hash", "batch_id"):
            columns[name] = kind
    return columns


def input_tables(feeds: dict[str, Feed] | None = None) -> dict[str, dict[str, str]]:
    """Every table a rule may read, with its columns."""
    tables = dict(REGISTRY_TABLES)
    for feed_id, feed in sorted((feeds or catalogue()).items()):
        tables[feed_id] = feed_input_columns(feed)
    return tables


@dataclass(frozen=True)
class Sources:
    """Where a run reads its inputs.

    ``snapshot`` holds ``<table>.parquet`` for each registry table; ``feeds_root`` is the
    feed store (``<feed>/v<version>/period=…/batch-*.parquet``). ``feed_files`` may name
    explicit files per feed instead (the benchmark, tests).
    """

    snapshot: Path
    feeds_root: Path | None = None
    feed_files: dict[str, list[Path]] | None = None

    def registry_file(self, table: str) -> Path:
        return self.snapshot / f"{table}.parquet"

    def files_of(self, feed: Feed, window: Window = WHOLE) -> list[Path]:
        """The feed's stored files; in the store, only periods that overlap ``window``."""
        if self.feed_files is not None:
            return sorted(self.feed_files.get(feed.id, []))
        if self.feeds_root is None:
            return []
        base = self.feeds_root / feed.id / f"v{feed.version}"
        return sorted(
            path
            for path in base.glob("period=*/batch-*.parquet")
            if window.covers_period(*period_span(path.parent.name.removeprefix("period=")))
        )


def period_span(period: str) -> tuple[datetime.date, datetime.date]:
    """``YYYY-MM`` or ``YYYY`` as ``[first day, first day of the next period)``."""
    if len(period) == 7:
        year, month = int(period[:4]), int(period[5:])
        start = datetime.date(year, month, 1)
        return start, first_of_next_month(start)
    year = int(period)
    return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
