"""Feed records as Parquet under ``var/feeds/<feed>/v<version>/period=<YYYY-MM|YYYY>/``.

One file per batch and period. ID numbers never reach these files: the person column is
stored as its blind index (``person_index``, the same HMAC the registry uses), and next to
it the registry's ``person_id`` that the importer found through that index, so the
engine joins records to persons on an integer (ADR 13). ``key_hash`` — a keyed hash of the natural
key — makes re-imports idempotent. Files are written under a temporary name and renamed,
so a reader never sees half a file.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from jiuzhu.feeds.schema import Column, Feed

MONEY = pa.decimal128(18, 2)
_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "enum": pa.string(),
    "icd10": pa.string(),
    "region_code": pa.string(),
    "date": pa.date32(),
    "datetime": pa.timestamp("s"),
    "decimal": MONEY,
    "integer": pa.int64(),
    "boolean": pa.bool_(),
}


def feeds_root() -> Path:
    return Path(settings.VAR_DIR) / "feeds"


def feed_directory(feed: Feed) -> Path:
    return feeds_root() / feed.id / f"v{feed.version}"


def stored_name(column: Column, feed: Feed) -> str:
    if column.name == feed.person_column:
        return "person_index"
    return f"{column.name}_index" if column.type == "id_number" else column.name


def arrow_schema(feed: Feed) -> pa.Schema:
    fields = [pa.field("key_hash", pa.string(), nullable=False)]
    for column in feed.columns:
        kind = pa.string() if column.type == "id_number" else _ARROW_TYPES[column.type]
        fields.append(pa.field(stored_name(column, feed), kind, nullable=not column.required))
        if column.name == feed.person_column:
            # Null only in files rewritten by resolve_persons for a person since removed.
            fields.append(pa.field("person_id", pa.int64(), nullable=True))
    fields.append(pa.field("batch_id", pa.int64(), nullable=False))
    return pa.schema(fields)


def period_of(feed: Feed, value: datetime.date) -> str:
    return f"{value:%Y-%m}" if feed.partition == "month" else f"{value:%Y}"


def _period_files(feed: Feed, periods: Iterable[str]) -> list[Path]:
    base = feed_directory(feed)
    files: list[Path] = []
    for period in sorted(set(periods)):
        files.extend(sorted((base / f"period={period}").glob("batch-*.parquet")))
    return files


def batch_files_after(root: Path, since_batch: int) -> list[Path]:
    """Stored files of every feed from batches with an id above ``since_batch``."""
    from jiuzhu.feeds.schema import catalogue

    files = []
    for feed in catalogue().values():
        for path in (root / feed.id / f"v{feed.version}").glob("period=*/batch-*.parquet"):
            if int(path.stem.removeprefix("batch-")) > since_batch:
                files.append(path)
    return sorted(files)


def natural_key_hasher(index_key: bytes, feed: Feed) -> Callable[[Sequence[str]], str]:
    """The keyed hash of a record's natural key (its values as text, in key order) that
    makes re-imports idempotent. Keyed, because a natural key may hold an ID number.
    The importer and the bulk writer of synthetic data share it."""
    base = hmac.new(index_key, feed.id.encode() + b"\x1f", hashlib.sha256)

    def key_hash(values: Sequence[str]) -> str:
        mac = base.copy()
        mac.update("\x1f".join(values).encode())
        return mac.hexdigest()

    return key_hash


def stored_key_hashes(feed: Feed, periods: Iterable[str]) -> set[str]:
    """Natural-key hashes already stored in the given periods (a row's period follows from
    its event date, so a repeated row can only be in the same period)."""
    hashes: set[str] = set()
    for path in _period_files(feed, periods):
        hashes.update(pq.read_table(path, columns=["key_hash"])["key_hash"].to_pylist())
    return hashes


def _cell(value: Any, column: Column) -> Any:
    if value is None:
        return None
    if column.type == "decimal":
        return Decimal(value).quantize(Decimal("0.01"))
    if column.type == "datetime" and isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)
    return value


def write_batch(
    feed: Feed, batch_id: int, rows: Sequence[dict[str, Any]]
) -> list[tuple[Path, Path]]:
    """Write accepted rows (stored names → values) grouped by period into temporary files.
    Returns (temporary, final) paths; :func:`publish` renames them once the database has
    committed the batch."""
    schema = arrow_schema(feed)
    by_period: dict[str, list[dict[str, Any]]] = {}
    event = stored_name(feed.column(feed.event_date_column), feed)
    for row in rows:
        by_period.setdefault(period_of(feed, row[event]), []).append(row)
    columns_by_stored = {stored_name(c, feed): c for c in feed.columns}
    written: list[tuple[Path, Path]] = []
    try:
        for period, part in sorted(by_period.items()):
            arrays = {}
            for name in schema.names:
                column = columns_by_stored.get(name)
                values = [r.get(name) for r in part]
                if column is not None:
                    values = [_cell(v, column) for v in values]
                arrays[name] = pa.array(values, type=schema.field(name).type)
            table = pa.table(arrays, schema=schema)
            final = feed_directory(feed) / f"period={period}" / f"batch-{batch_id:08d}.parquet"
            final.parent.mkdir(parents=True, exist_ok=True)
            temporary = final.with_suffix(".parquet.tmp")
            written.append((temporary, final))  # before writing: a failed write is discarded
            pq.write_table(table, temporary, compression="zstd")
    except BaseException:
        # Nothing half-written stays behind when a write fails (disk full, bad value).
        discard(written)
        raise
    return written


def publish(files: Sequence[tuple[Path, Path]]) -> None:
    for temporary, final in files:
        os.replace(temporary, final)


def discard(files: Sequence[tuple[Path, Path]]) -> None:
    for temporary, _ in files:
        temporary.unlink(missing_ok=True)


def read_feed(feed: Feed) -> pa.Table:
    """Every stored record of a feed (tests and small tools; the engine scans with DuckDB)."""
    files = sorted(feed_directory(feed).glob("period=*/batch-*.parquet"))
    if not files:
        return arrow_schema(feed).empty_table()
    return pa.concat_tables([pq.read_table(f, schema=arrow_schema(feed)) for f in files])
