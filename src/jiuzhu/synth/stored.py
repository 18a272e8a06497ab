"""A synthetic county in the form the monitoring engine reads, without the database.

The benchmark and the engine tests need millions of rows in the engine's input layout:
the registry snapshot (:data:`jiuzhu.engine.inputs.REGISTRY_TABLES`) and feed records in
the feed store's layout (``<feed>/v<n>/period=…/batch-<id>.parquet``, persons by blind
index, never clear ID numbers). Going through the database and the row-by-row importer
would measure those instead, so this module converts the generator's Parquet directly,
with the same blind-index function the registry and the importer use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jiuzhu.engine.inputs import registry_arrow_schema
from jiuzhu.feeds.schema import Feed, catalogue

IndexFn = Callable[[Sequence[str]], list[str]]


def person_indexes(population: dict[str, pa.Table], index: IndexFn) -> pa.Array:
    return pa.array(index(population["persons"]["id_number"].to_pylist()), pa.string())


def registry_snapshot(population: dict[str, pa.Table], out_dir: Path) -> dict[str, Path]:
    """Write the registry snapshot tables of a generated population into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    persons = population["persons"]
    households = population["households"]
    alive = pc.invert(persons["is_deceased"])
    living = np.bincount(
        persons["household_key"].to_numpy(),
        weights=alive.to_numpy(zero_copy_only=False).astype(np.float64),
        minlength=households.num_rows + 1,
    )[1:].astype(np.int32)
    illnesses = population["illnesses"]
    incomes = population["incomes"]
    expenditures = population["expenditures"]
    assets = population["assets"]
    enrolments = population["enrolments"]
    tables = {
        "households": {
            "household_id": households["household_key"],
            "region_code": households["region_code"],
            "area_type": households["area_type"],
            "member_count": pa.array(living),
        },
        "persons": {
            "person_id": persons["person_key"],
            "household_id": persons["household_key"],
            "sex": persons["sex"],
            "birth_date": persons["birth_date"],
            "relationship": persons["relationship"],
            "disability_type": persons["disability_type"],
            "disability_grade": pc.cast(persons["disability_grade"], pa.int32()),
            "labour_capacity": persons["labour_capacity"],
            "employment": persons["employment"],
            "is_deceased": persons["is_deceased"],
        },
        "illnesses": {
            "person_id": illnesses["person_key"],
            "household_id": illnesses["household_key"],
            "icd10": illnesses["icd10"],
            "is_serious": illnesses["is_serious"],
            "diagnosed_on": illnesses["diagnosed_on"],
        },
        "incomes": {
            "household_id": incomes["household_key"],
            "person_id": incomes["person_key"],
            "kind": incomes["kind"],
            "year": pc.cast(incomes["year"], pa.int32()),
            "annual_amount": incomes["annual_amount"],
        },
        "expenditures": {
            "household_id": expenditures["household_key"],
            "kind": expenditures["kind"],
            "year": pc.cast(expenditures["year"], pa.int32()),
            "amount": expenditures["amount"],
        },
        "assets": {
            "household_id": assets["household_key"],
            "kind": assets["kind"],
            "value": assets["value"],
        },
        "enrolments": {
            "household_id": enrolments["household_key"],
            "person_id": enrolments["person_key"],
            "category": enrolments["category"],
            "status": enrolments["status"],
            "start_date": enrolments["start_date"],
            "end_date": enrolments["end_date"],
        },
    }
    paths = {}
    for name, columns in tables.items():
        schema = registry_arrow_schema(name)
        table = pa.table(
            {n: pc.cast(columns[n], schema.field(n).type) for n in schema.names}, schema=schema
        )
        path = out_dir / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd", row_group_size=1 << 20)
        paths[name] = path
    return paths


def _key_hashes(feed: Feed, table: pa.Table, index_key: bytes) -> pa.Array:
    """The importer's natural-key hash of every record."""
    from jiuzhu.feeds.storage import natural_key_hasher

    parts = []
    for name in feed.natural_key:
        column = table[name]
        if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
            column = pc.cast(column, pa.string())
        parts.append(pc.cast(column, pa.string()).to_pylist())
    key_hash = natural_key_hasher(index_key, feed)
    out = [key_hash(values) for values in zip(*parts, strict=True)]
    return pa.array(out, pa.string())


def store_feed(
    feed: Feed,
    table: pa.Table,
    root: Path,
    *,
    person_lookup: dict[str, tuple[str, int]],
    index_key: bytes,
    batch_id: int = 1,
) -> list[Path]:
    """Write department-form records of one feed into the store layout under ``root``.

    ``person_lookup`` maps clear ID numbers to (blind index, person id), as the importer
    resolves them (built once per population).
    """
    from jiuzhu.feeds.storage import arrow_schema, stored_name

    if table.num_rows == 0:
        return []
    schema = arrow_schema(feed)
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {
        "key_hash": _key_hashes(feed, table, index_key)
    }
    for column in feed.columns:
        name = stored_name(column, feed)
        values = table[column.name]
        if column.type == "id_number":
            found = [person_lookup[v] for v in values.to_pylist()]
            values = pa.array([index for index, _ in found], pa.string())
            if column.name == feed.person_column:
                arrays[name] = values
                arrays["person_id"] = pa.array([pid for _, pid in found], pa.int64())
                continue
        arrays[name] = pc.cast(values, schema.field(name).type)
    arrays["batch_id"] = pa.array(np.full(table.num_rows, batch_id, dtype=np.int64))
    stored = pa.table(arrays, schema=schema)
    event = table[feed.event_date_column]
    if pa.types.is_timestamp(event.type):
        event = pc.cast(event, pa.date32())
    fmt = "%Y-%m" if feed.partition == "month" else "%Y"
    periods = pc.strftime(pc.cast(event, pa.timestamp("s")), format=fmt)
    paths = []
    for period in sorted(set(periods.to_pylist())):
        part = stored.filter(pc.equal(periods, period))
        directory = root / feed.id / f"v{feed.version}" / f"period={period}"
        path = directory / f"batch-{batch_id:08d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, path, compression="zstd", row_group_size=1 << 20)
        paths.append(path)
    return paths


def store_feeds(
    feeds: dict[str, pa.Table],
    root: Path,
    *,
    population: dict[str, pa.Table],
    person_index: pa.Array,
    index_key: bytes,
    batch_id: int = 1,
) -> dict[str, list[Path]]:
    persons = population["persons"]
    lookup = dict(
        zip(
            persons["id_number"].to_pylist(),
            zip(person_index.to_pylist(), persons["person_key"].to_pylist(), strict=True),
            strict=True,
        )
    )
    definitions = catalogue()
    return {
        feed_id: store_feed(
            definitions[feed_id],
            table,
            root,
            person_lookup=lookup,
            index_key=index_key,
            batch_id=batch_id,
        )
        for feed_id, table in sorted(feeds.items())
    }
