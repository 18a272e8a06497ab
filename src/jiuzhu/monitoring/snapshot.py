"""Write the registry snapshot the engine reads (docs/engine.md, "Input tables").

One Parquet file per table in the engine's column layout. No ID number, clear or blind:
feed records arrive already resolved to ``person_id`` by the importer. Rows stream from
the database in chunks, so memory stays flat however large the county.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db.models import Count, Q, QuerySet

from jiuzhu.engine.inputs import registry_arrow_schema
from jiuzhu.registry.models import (
    Asset,
    Enrolment,
    Expenditure,
    Household,
    Illness,
    Income,
    Person,
)

CHUNK = 50_000


# The field that ties each table's rows to a household (for a scoped snapshot).
_HOUSEHOLD_FIELD = {
    "households": "id",
    "persons": "household_id",
    "illnesses": "person__household_id",
    "incomes": "household_id",
    "expenditures": "household_id",
    "assets": "household_id",
    "enrolments": "household_id",
}
SCOPE_CHUNK = 5_000


def _sources() -> dict[str, tuple[QuerySet[Any], tuple[str, ...]]]:
    """Per table: the queryset and the fields, in the order of REGISTRY_TABLES."""
    living = Count("members", filter=Q(members__is_deceased=False))
    return {
        "households": (
            Household.objects.filter(is_active=True).annotate(living=living).order_by("id"),
            ("id", "region_id", "area_type", "living"),
        ),
        "persons": (
            Person.objects.order_by("id"),
            (
                "id",
                "household_id",
                "sex",
                "birth_date",
                "relationship",
                "disability_type",
                "disability_grade",
                "labour_capacity",
                "employment",
                "is_deceased",
            ),
        ),
        "illnesses": (
            Illness.objects.order_by("id"),
            ("person_id", "person__household_id", "icd10", "is_serious", "diagnosed_on"),
        ),
        "incomes": (
            Income.objects.order_by("id"),
            ("household_id", "person_id", "kind", "year", "annual_amount"),
        ),
        "expenditures": (
            Expenditure.objects.order_by("id"),
            ("household_id", "kind", "year", "amount"),
        ),
        "assets": (Asset.objects.order_by("id"), ("household_id", "kind", "value")),
        "enrolments": (
            Enrolment.objects.order_by("id"),
            ("household_id", "person_id", "category", "status", "start_date", "end_date"),
        ),
    }


def _chunks(queryset: QuerySet[Any], fields: tuple[str, ...]) -> Iterator[list[tuple[Any, ...]]]:
    rows: list[tuple[Any, ...]] = []
    for row in queryset.values_list(*fields).iterator(chunk_size=CHUNK):
        rows.append(row)
        if len(rows) >= CHUNK:
            yield rows
            rows = []
    if rows:
        yield rows


def _scoped(
    table: str, queryset: QuerySet[Any], households: Sequence[int] | None
) -> Iterator[QuerySet[Any]]:
    """The whole table, or its rows of ``households`` a few thousand at a time."""
    if households is None:
        yield queryset
        return
    wanted = sorted(set(households))
    for start in range(0, len(wanted), SCOPE_CHUNK):
        chunk = wanted[start : start + SCOPE_CHUNK]
        yield queryset.filter(**{f"{_HOUSEHOLD_FIELD[table]}__in": chunk})


def snapshot_write(
    directory: Path | None = None, *, households: Sequence[int] | None = None
) -> Path:
    """Export the registry into ``directory`` (default ``var/monitoring/snapshot``);
    only the rows of ``households`` when given (an incremental run's scope).

    Written into a sibling temporary directory and swapped in at the end, so a reader
    never sees half a snapshot.
    """
    target = directory or Path(settings.VAR_DIR) / "monitoring" / "snapshot"
    building = target.with_name(target.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    for table, (queryset, fields) in _sources().items():
        schema = registry_arrow_schema(table)
        with pq.ParquetWriter(building / f"{table}.parquet", schema, compression="zstd") as out:
            wrote = False
            for part in _scoped(table, queryset, households):
                for rows in _chunks(part, fields):
                    columns = list(zip(*rows, strict=True))
                    arrays = [
                        pa.array(list(values), type=field.type)
                        for values, field in zip(columns, schema, strict=True)
                    ]
                    out.write_table(pa.Table.from_arrays(arrays, schema=schema))
                    wrote = True
            if not wrote:
                out.write_table(schema.empty_table())
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    building.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target
