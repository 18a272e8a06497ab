"""Bulk-loading a synthetic population (the Parquet of ``jiuzhu synth``) into the registry.

The registry services create one household at a time, with validation, audit rows and
timeline events; at two million households that would take hours. This loader writes the
same rows directly, in bulk, inside one transaction:

* PostgreSQL: ``COPY … FROM STDIN (FORMAT csv)`` through psycopg 3. The CSV text is made
  by Arrow's C++ writer, batch by batch, so Python never formats a row.
* SQLite: ``executemany`` in the same single transaction.

Ids are allocated by the loader (next free id per table, then the sequence is moved past
them on PostgreSQL), which is what lets households, persons and enrolments reference each
other without reading anything back. On PostgreSQL the registry tables are locked against
other writers (reads go on) for the duration, so no one else can take those ids.

ID and phone numbers are encrypted with the field cipher, indexed with the blind index
and masked exactly as ``jiuzhu.registry.protected`` does for a single person; the clear
numbers are never written to any column.

Idempotency: a household is loaded whole or not at all. It is skipped when its number
(village code + running number) is already in the registry, or when any of its members'
ID numbers is (by blind index). Loading the same directory twice therefore inserts
nothing the second time; loading another seed into the same county skips the households
whose numbers are taken. The result reports how many were skipped.
"""

from __future__ import annotations

import datetime
import io
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

from jiuzhu.accounts.models import AuditAction
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.crypto import field_cipher
from jiuzhu.core.masking import mask_id_number, mask_phone
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry.models import (
    Asset,
    Enrolment,
    Expenditure,
    Household,
    Illness,
    Income,
    Person,
    TimelineEvent,
)
from jiuzhu.registry.protected import ID_COLUMN, PHONE_COLUMN
from jiuzhu.synth.population import read_manifest, read_population

LoadProgress = Callable[[str, int, int], None]

SOURCE = "synth"
# Short Chinese names for timeline summaries (the category labels are English+Chinese).
CATEGORY_NAMES = {
    "dibao": "低保",
    "tekun_centralised": "特困人员集中供养",
    "tekun_dispersed": "特困人员分散供养",
    "dibao_marginal": "低保边缘家庭",
    "rigid_expenditure": "刚性支出困难家庭",
    "relapse_monitoring": "防止返贫监测",
    "temporary": "临时救助",
    "unsupported_child": "事实无人抚养儿童保障",
    "orphan": "孤儿保障",
    "other": "其他困难人员救助",
}
_MODELS: tuple[type[models.Model], ...] = (
    Household,
    Person,
    Illness,
    Income,
    Asset,
    Expenditure,
    Enrolment,
    TimelineEvent,
)


class PopulationLoadError(Exception):
    pass


@dataclass
class LoadResult:
    counts: dict[str, int] = field(default_factory=dict)
    skipped_households: int = 0
    regions_created: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    backend: str = ""


# --------------------------------------------------------------------------------------
# Writing batches: COPY on PostgreSQL, executemany on SQLite
# --------------------------------------------------------------------------------------


class _Sink(Protocol):
    def write(self, batch: pa.Table) -> None: ...


def _columns(model: type[models.Model]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _complete(model: type[models.Model], data: dict[str, Any], rows: int) -> pa.Table:
    """The batch in the model's column order; columns the synth does not know (added to a
    model later) get the field's default, so a new optional field does not break loads."""
    arrays = []
    for f in model._meta.concrete_fields:
        if f.column in data:
            value = data[f.column]
            arrays.append(
                value if isinstance(value, pa.Array | pa.ChunkedArray) else pa.array(value)
            )
        elif f.has_default() and not callable(f.default):
            arrays.append(pa.array([f.get_default()] * rows))
        elif f.null:
            arrays.append(pa.nulls(rows))
        elif isinstance(f, models.CharField | models.TextField):
            arrays.append(pa.array([""] * rows, pa.string()))
        else:
            raise PopulationLoadError(
                f"{model._meta.db_table}.{f.column} has no value in the synthetic data"
            )
    return pa.Table.from_arrays(arrays, names=_columns(model))


_CSV_OPTIONS = pcsv.WriteOptions(include_header=False, quoting_style="needed")


class _CopySink:
    def __init__(self, copy: Any) -> None:
        self.copy = copy

    def write(self, batch: pa.Table) -> None:
        # "needed" quotes every string, so "" stays an empty string and only a missing
        # value (unquoted, empty) becomes NULL, which is what COPY's CSV format expects.
        buffer = io.BytesIO()
        pcsv.write_csv(batch, buffer, _CSV_OPTIONS)
        self.copy.write(buffer.getbuffer())


class _InsertSink:
    def __init__(self, cursor: Any, model: type[models.Model]) -> None:
        columns = _columns(model)
        self.cursor = cursor
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        # Table and column names come from the models, never from the data.
        self.sql = f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES ({marks})'  # noqa: S608

    def write(self, batch: pa.Table) -> None:
        columns = []
        for column in batch.columns:
            kind = column.type
            if pa.types.is_timestamp(kind):
                # Django keeps SQLite datetimes as naive UTC text, "YYYY-MM-DD HH:MM:SS…"
                column = pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
            elif pa.types.is_date(kind) or pa.types.is_decimal(kind):
                column = pc.cast(column, pa.string())
            columns.append(column.to_pylist())
        self.cursor.executemany(self.sql, list(zip(*columns, strict=True)))


@contextmanager
def _sink(cursor: Any, model: type[models.Model]) -> Iterator[_Sink]:
    if connection.vendor == "postgresql":
        names = ", ".join(f'"{c}"' for c in _columns(model))
        sql = f'COPY "{model._meta.db_table}" ({names}) FROM STDIN (FORMAT csv)'
        raw = cursor.cursor
        # The queued writer sends from a thread, so the next batch is encrypted and
        # formatted here while the server is still taking in the previous one.
        with raw.copy(sql, writer=QueuedLibpqWriter(raw)) as copy:
            yield _CopySink(copy)
    else:
        yield _InsertSink(cursor, model)


# --------------------------------------------------------------------------------------
# Ids and existing rows
# --------------------------------------------------------------------------------------


def _next_id(cursor: Any, model: type[models.Model]) -> int:
    table = model._meta.db_table
    cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # noqa: S608 (own name)
    highest = int(cursor.fetchone()[0])
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        if sequence:
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
            last_value, is_called = cursor.fetchone()
            if is_called:
                highest = max(highest, int(last_value))
    elif connection.vendor == "sqlite":
        # AUTOINCREMENT never reuses an id, even of a deleted row; neither do we.
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        if row:
            highest = max(highest, int(row[0]))
    return highest + 1


def _move_sequence(cursor: Any, model: type[models.Model], last_id: int) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite's AUTOINCREMENT follows the largest id by itself
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, true)", [model._meta.db_table, last_id]
    )


def _existing(
    cursor: Any, model: type[models.Model], column: str, values: Sequence[str]
) -> set[str]:
    """Which of ``values`` are already in ``model.column`` (chunked look-ups)."""
    table = model._meta.db_table
    found: set[str] = set()
    if connection.vendor == "postgresql":
        for start in range(0, len(values), 50_000):
            cursor.execute(
                f'SELECT "{column}" FROM "{table}" WHERE "{column}" = ANY(%s)',  # noqa: S608
                [list(values[start : start + 50_000])],
            )
            found.update(row[0] for row in cursor.fetchall())
    else:
        step = 900  # below SQLite's historical limit on bound parameters
        for start in range(0, len(values), step):
            chunk = values[start : start + step]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f'SELECT "{column}" FROM "{table}" WHERE "{column}" IN ({marks})',  # noqa: S608
                list(chunk),
            )
            found.update(row[0] for row in cursor.fetchall())
    return found


# --------------------------------------------------------------------------------------
# Helpers on Arrow columns
# --------------------------------------------------------------------------------------


def _np(column: pa.ChunkedArray | pa.Array) -> np.ndarray[Any, Any]:
    return column.to_numpy(zero_copy_only=False)


def _keys_to_ids(
    keys: np.ndarray[Any, Any], id_by_key: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    return id_by_key[np.asarray(keys, dtype=np.int64)]


def _nullable_ids(column: pa.ChunkedArray, id_by_key: np.ndarray[Any, Any]) -> pa.Array:
    valid = _np(pc.is_valid(column))
    keys = _np(pc.fill_null(column, 0))
    ids = id_by_key[keys.astype(np.int64)]
    return pa.array(ids, pa.int64(), mask=~valid)


def _local_midnight_utc(days: np.ndarray[Any, Any]) -> pa.Array:
    """Start of each day in the site's time zone, as UTC timestamps (like the registry's
    own ``_start_of_day``)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    unique, inverse = np.unique(np.asarray(days, dtype=np.int64), return_inverse=True)
    epoch = datetime.date(1970, 1, 1)
    micros = np.array(
        [
            int(
                datetime.datetime.combine(
                    epoch + datetime.timedelta(days=int(d)), datetime.time.min, tzinfo=zone
                ).timestamp()
            )
            * 1_000_000
            for d in unique
        ],
        dtype=np.int64,
    )
    return pa.array(micros[inverse], pa.timestamp("us", tz="UTC"))


def _constant_time(moment: datetime.datetime, rows: int) -> pa.Array:
    micros = int(moment.timestamp() * 1_000_000)
    return pa.array(np.full(rows, micros, dtype=np.int64), pa.timestamp("us", tz="UTC"))


def _strings(values: Sequence[str]) -> pa.Array:
    return pa.array(values, pa.string())


def _batches(rows: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, rows, size):
        yield start, min(size, rows - start)


# --------------------------------------------------------------------------------------
# The load
# --------------------------------------------------------------------------------------


def population_load(
    *,
    directory: Path | None = None,
    tables: Mapping[str, pa.Table] | None = None,
    manifest: Mapping[str, Any] | None = None,
    progress: LoadProgress | None = None,
    batch_rows: int = 50_000,
) -> LoadResult:
    """Insert a generated population; see the module docstring for the rules.

    ``directory`` is what ``jiuzhu synth --out`` wrote (or its ``population/``);
    alternatively pass the ``tables`` themselves and the ``manifest`` (seed, county) that
    goes into the audit row. ``progress(stage, done, total)`` is called as rows go in.
    """
    if (directory is None) == (tables is None):
        raise ValueError("give either directory or tables")
    manifest = dict(manifest or {})
    if directory is not None:
        tables = read_population(directory)
        manifest = read_manifest(directory) | manifest
    assert tables is not None
    result = LoadResult(backend=connection.vendor)
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[stage] = result.seconds.get(stage, 0.0) + now - clock
        clock = now

    def report(stage: str, done: int, total: int) -> None:
        if progress:
            progress(stage, done, total)

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(f'"{m._meta.db_table}"' for m in _MODELS)
            cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
        result.regions_created = _load_regions(tables["regions"])
        lap("regions")
        report("regions", result.regions_created, result.regions_created)

        kept_hh, kept_p, person_index = _select_new(cursor, tables, report)
        hh = tables["households"].filter(pa.array(kept_hh))
        persons = tables["persons"].filter(pa.array(kept_p))
        result.skipped_households = int((~kept_hh).sum())
        lap("check")

        now = timezone.now()
        writer = _Loader(cursor, now, batch_rows, report)
        hh_ids = writer.households(hh)
        lap("households")
        person_ids = writer.persons(persons, person_index, hh, hh_ids)
        lap("persons")
        writer.children(
            Illness,
            "illnesses",
            tables["illnesses"],
            person_ids=person_ids,
            columns=("icd10", "name", "is_serious", "diagnosed_on"),
        )
        writer.children(
            Income,
            "incomes",
            tables["incomes"],
            hh_ids=hh_ids,
            person_ids=person_ids,
            columns=("kind", "year", "annual_amount"),
        )
        writer.children(
            Asset,
            "assets",
            tables["assets"],
            hh_ids=hh_ids,
            columns=("kind", "description", "value", "quantity"),
        )
        writer.children(
            Expenditure,
            "expenditures",
            tables["expenditures"],
            hh_ids=hh_ids,
            columns=("kind", "year", "amount"),
        )
        lap("economics")
        enrolments = writer.enrolments(tables["enrolments"], hh_ids, person_ids)
        lap("enrolments")
        writer.timeline(hh, hh_ids, enrolments)
        lap("timeline")
        for model, last in writer.last_ids.items():
            _move_sequence(cursor, model, last)
        result.counts = dict(writer.counts)
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            actor_username="synth",
            object_type="synth.population",
            region_code=str(manifest.get("county_code", "")),
            detail={
                "source": SOURCE,
                "seed": manifest.get("seed"),
                "generated_households": manifest.get("households"),
                "skipped_households": result.skipped_households,
                "regions_created": result.regions_created,
                "counts": result.counts,
            },
        )
    lap("commit")
    if connection.vendor == "postgresql" and any(result.counts.values()):
        # Fresh statistics, so the first queries on two million new rows plan well.
        with connection.cursor() as cursor:
            for model in _MODELS:
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')
        lap("analyze")
    return result


def _load_regions(regions: pa.Table) -> int:
    """Insert the synthetic villages the database does not have yet."""
    codes = regions["code"].to_pylist()
    parents = sorted(set(regions["parent_code"].to_pylist()))
    known_parents = set(Region.objects.filter(code__in=parents).values_list("code", flat=True))
    missing = [p for p in parents if p not in known_parents]
    if missing:
        more = "…" if len(missing) > 5 else ""
        raise PopulationLoadError(
            f"towns not in the database: {', '.join(missing[:5])}{more} — load the region "
            "tree first (jiuzhu regions demo, or jiuzhu regions import DIR)"
        )
    existing_rows = Region.objects.filter(code__in=codes).values_list("code", "is_synthetic")
    real = sorted(code for code, synthetic in existing_rows if not synthetic)
    if real:
        # Synthetic people never move into a real village.
        raise PopulationLoadError(
            f"village codes {', '.join(real[:5])} belong to real villages in the database; "
            "generate again so that they are avoided (the command does this with --load)"
        )
    existing = {code for code, _synthetic in existing_rows}
    new = [
        Region(code=code, name=name, level=Level.VILLAGE, parent_id=parent, is_synthetic=True)
        for code, name, parent in zip(
            codes, regions["name"].to_pylist(), regions["parent_code"].to_pylist(), strict=True
        )
        if code not in existing
    ]
    Region.objects.bulk_create(new, batch_size=2000)
    return len(new)


def _select_new(
    cursor: Any, tables: Mapping[str, pa.Table], report: LoadProgress
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], list[str]]:
    """Which households and persons to load, and the blind index of each such person.

    Household numbers are checked first, so a repeated load does not even compute the
    indexes of the people it is going to skip.
    """
    households = tables["households"]
    persons = tables["persons"]
    hh_keys = _np(households["household_key"]).astype(np.int64)
    person_hh = _np(persons["household_key"]).astype(np.int64)
    skip_key = np.zeros(int(hh_keys.max(initial=0)) + 1, dtype=bool)
    if Household.objects.exists():
        numbers = households["number"].to_pylist()
        taken = _existing(cursor, Household, "number", numbers)
        skip_key[hh_keys[[n in taken for n in numbers]]] = True
    candidates = np.flatnonzero(~skip_key[person_hh])
    id_numbers = persons["id_number"].take(pa.array(candidates)).to_pylist()
    cipher = field_cipher()
    indexes: list[str] = []
    for start, size in _batches(len(id_numbers), 200_000):
        indexes.extend(cipher.blind_index_many(id_numbers[start : start + size], column=ID_COLUMN))
        report("index", start + size, len(id_numbers))
    del id_numbers
    if indexes and Person.objects.exists():
        taken = _existing(cursor, Person, "id_number_index", indexes)
        if taken:
            clash = np.fromiter((i in taken for i in indexes), dtype=bool, count=len(indexes))
            skip_key[person_hh[candidates[clash]]] = True
            keep = ~skip_key[person_hh[candidates]]
            indexes = [index for index, k in zip(indexes, keep, strict=True) if k]
    kept_persons = ~skip_key[person_hh]
    return ~skip_key[hh_keys], kept_persons, indexes


class _Loader:
    """Writes one table after another, remembering the ids it gave out."""

    def __init__(
        self, cursor: Any, now: datetime.datetime, batch_rows: int, report: LoadProgress
    ) -> None:
        self.cursor = cursor
        self.now = now
        self.batch_rows = batch_rows
        self.report = report
        self.counts: dict[str, int] = {}
        self.last_ids: dict[type[models.Model], int] = {}

    def _ids(self, model: type[models.Model], rows: int) -> np.ndarray[Any, Any]:
        start = _next_id(self.cursor, model)
        if rows:
            self.last_ids[model] = start + rows - 1
        return np.arange(start, start + rows, dtype=np.int64)

    def _write(
        self,
        model: type[models.Model],
        stage: str,
        rows: int,
        build: Callable[[int, int], dict[str, Any]],
    ) -> None:
        with _sink(self.cursor, model) as sink:
            for start, size in _batches(rows, self.batch_rows):
                sink.write(_complete(model, build(start, size), size))
                self.report(stage, start + size, rows)
        self.counts[stage] = rows

    @staticmethod
    def _id_map(keys: np.ndarray[Any, Any], ids: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        id_by_key = np.full(int(keys.max(initial=0)) + 1, -1, dtype=np.int64)
        id_by_key[keys] = ids
        return id_by_key

    def households(self, hh: pa.Table) -> np.ndarray[Any, Any]:
        ids = self._ids(Household, hh.num_rows)

        def build(start: int, size: int) -> dict[str, Any]:
            part = hh.slice(start, size)
            stamp = _constant_time(self.now, size)
            return {
                "id": ids[start : start + size],
                "number": part["number"],
                "region_id": part["region_code"],
                "address": part["address"],
                "area_type": part["area_type"],
                "head_name": part["head_name"],
                "member_count": part["member_count"],
                "is_active": pa.array([True] * size),
                "created_at": stamp,
                "updated_at": stamp,
            }

        self._write(Household, "households", hh.num_rows, build)
        return self._id_map(_np(hh["household_key"]).astype(np.int64), ids)

    def persons(
        self, persons: pa.Table, indexes: list[str], hh: pa.Table, hh_ids: np.ndarray[Any, Any]
    ) -> np.ndarray[Any, Any]:
        ids = self._ids(Person, persons.num_rows)
        cipher = field_cipher()
        # Row of each person's household in ``hh``, for the hukou address.
        hh_row = self._id_map(
            _np(hh["household_key"]).astype(np.int64), np.arange(hh.num_rows, dtype=np.int64)
        )
        person_hh_keys = _np(persons["household_key"]).astype(np.int64)

        def build(start: int, size: int) -> dict[str, Any]:
            part = persons.slice(start, size)
            numbers = part["id_number"].to_pylist()
            phones = part["phone"].to_pylist()
            with_phone = [i for i, p in enumerate(phones) if p]
            phone_clear = [phones[i] for i in with_phone]
            phone_enc = [""] * size
            phone_idx = [""] * size
            phone_mask = [""] * size
            for i, enc, idx, clear in zip(
                with_phone,
                cipher.encrypt_many(phone_clear, column=PHONE_COLUMN),
                cipher.blind_index_many(phone_clear, column=PHONE_COLUMN),
                phone_clear,
                strict=True,
            ):
                phone_enc[i], phone_idx[i], phone_mask[i] = enc, idx, mask_phone(clear)
            keys = person_hh_keys[start : start + size]
            stamp = _constant_time(self.now, size)
            # hukou_address is not in the Parquet: it is the household's address below.
            columns = ("sex", "birth_date", *Person.ATTRIBUTE_FIELDS)
            data = {name: part[name] for name in columns if name != "hukou_address"}
            data.update(
                {
                    "id": ids[start : start + size],
                    "household_id": hh_ids[keys],
                    "region_id": pc.take(hh["region_code"], pa.array(hh_row[keys])),
                    "id_number_encrypted": _strings(cipher.encrypt_many(numbers, column=ID_COLUMN)),
                    "id_number_index": _strings(indexes[start : start + size]),
                    "id_number_masked": _strings([mask_id_number(n) for n in numbers]),
                    "phone_encrypted": _strings(phone_enc),
                    "phone_index": _strings(phone_idx),
                    "phone_masked": _strings(phone_mask),
                    "hukou_address": pc.take(hh["address"], pa.array(hh_row[keys])),
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
            return data

        self._write(Person, "persons", persons.num_rows, build)
        return self._id_map(_np(persons["person_key"]).astype(np.int64), ids)

    @staticmethod
    def _kept(table: pa.Table, column: str, id_by_key: np.ndarray[Any, Any]) -> pa.Table:
        keys = _np(table[column]).astype(np.int64)
        inside = keys < len(id_by_key)
        keep = np.zeros(len(keys), dtype=bool)
        keep[inside] = id_by_key[keys[inside]] >= 0
        return table.filter(pa.array(keep))

    def children(
        self,
        model: type[models.Model],
        label: str,
        table: pa.Table,
        *,
        columns: tuple[str, ...],
        hh_ids: np.ndarray[Any, Any] | None = None,
        person_ids: np.ndarray[Any, Any] | None = None,
        constant: Callable[[int], dict[str, Any]] | None = None,
    ) -> tuple[pa.Table, np.ndarray[Any, Any]]:
        """Rows that hang off a household (or, without ``hh_ids``, off a person): keys
        become database ids, ``columns`` are copied, ``constant`` adds per-chunk values.
        Rows whose owner was skipped (already loaded) are dropped. Returns the rows
        written and their ids."""
        by_household = hh_ids is not None
        owner_ids = hh_ids if hh_ids is not None else person_ids
        if owner_ids is None:
            raise TypeError("children() needs hh_ids or person_ids")
        table = self._kept(table, "household_key" if by_household else "person_key", owner_ids)
        ids = self._ids(model, table.num_rows)

        def build(start: int, size: int) -> dict[str, Any]:
            part = table.slice(start, size)
            data: dict[str, Any] = {"id": ids[start : start + size]}
            if hh_ids is not None:
                data["household_id"] = _keys_to_ids(_np(part["household_key"]), hh_ids)
                if person_ids is not None:  # an optional member of that household
                    data["person_id"] = _nullable_ids(part["person_key"], person_ids)
            elif person_ids is not None:
                data["person_id"] = _keys_to_ids(_np(part["person_key"]), person_ids)
            data.update({name: part[name] for name in columns})
            if constant is not None:
                data.update(constant(size))
            return data

        self._write(model, label, table.num_rows, build)
        return table, ids

    def enrolments(
        self, table: pa.Table, hh_ids: np.ndarray[Any, Any], person_ids: np.ndarray[Any, Any]
    ) -> pa.Table:
        table, ids = self.children(
            Enrolment,
            "enrolments",
            table,
            hh_ids=hh_ids,
            person_ids=person_ids,
            columns=(
                "category",
                "status",
                "start_date",
                "end_date",
                "monthly_amount",
                "end_reason",
            ),
            constant=lambda size: {
                "source": _strings([SOURCE] * size),
                "created_at": _constant_time(self.now, size),
            },
        )
        return table.append_column("db_id", pa.array(ids)).append_column(
            "household_id", pa.array(_keys_to_ids(_np(table["household_key"]), hh_ids))
        )

    def timeline(self, hh: pa.Table, hh_ids: np.ndarray[Any, Any], enrolments: pa.Table) -> None:
        """One event a household (its file opened by the import), one a spell started,
        one a spell ended — the same kinds the registry services write."""
        n_hh = hh.num_rows
        # Active spells may carry a planned end date (临时救助); only ended ones get an event.
        ended = enrolments.filter(pc.equal(enrolments["status"], "ended"))
        n_enr, n_end = enrolments.num_rows, ended.num_rows
        total = n_hh + n_enr + n_end
        ids = self._ids(TimelineEvent, total)
        names = pa.array([CATEGORY_NAMES.get(k, k) for k in CATEGORY_NAMES], pa.string())
        codes = pa.array(list(CATEGORY_NAMES), pa.string())

        def label(categories: pa.ChunkedArray) -> pa.Array:
            return pc.take(names, pc.index_in(categories, value_set=codes))

        def category_detail(categories: pa.ChunkedArray) -> pa.Array:
            return pc.binary_join_element_wise(
                '{"category": "', categories, f'", "source": "{SOURCE}"}}', ""
            )

        def build(start: int, size: int) -> dict[str, Any]:
            parts: list[dict[str, Any]] = []
            lo, hi = start, start + size
            # Households: rows [0, n_hh)
            a, b = max(lo, 0), min(hi, n_hh)
            if a < b:
                part = hh.slice(a, b - a)
                keys = _np(part["household_key"]).astype(np.int64)
                parts.append(
                    {
                        "household_id": hh_ids[keys],
                        "occurred_at": _constant_time(self.now, b - a),
                        "kind": _strings(["registry.household_created"] * (b - a)),
                        "summary": _strings(["合成人口导入"] * (b - a)),
                        "detail": pc.binary_join_element_wise(
                            '{"members": ',
                            pc.cast(part["member_count"], pa.string()),
                            f', "source": "{SOURCE}"}}',
                            "",
                        ),
                        "object_type": _strings(["registry.household"] * (b - a)),
                        "object_id": pc.cast(pa.array(hh_ids[keys]), pa.string()),
                    }
                )
            # Enrolments started: rows [n_hh, n_hh + n_enr)
            a, b = max(lo, n_hh), min(hi, n_hh + n_enr)
            if a < b:
                part = enrolments.slice(a - n_hh, b - a)
                parts.append(
                    {
                        "household_id": _np(part["household_id"]),
                        "occurred_at": _local_midnight_utc(
                            _np(part["start_date"].cast(pa.int32()))
                        ),
                        "kind": _strings(["registry.enrolled"] * (b - a)),
                        "summary": pc.binary_join_element_wise(
                            "纳入",
                            label(part["category"]),
                            "，每月",
                            pc.cast(part["monthly_amount"], pa.string()),
                            "元",
                            "",
                        ),
                        "detail": category_detail(part["category"]),
                        "object_type": _strings(["registry.enrolment"] * (b - a)),
                        "object_id": pc.cast(part["db_id"], pa.string()),
                    }
                )
            # Enrolments ended: rows [n_hh + n_enr, total)
            a, b = max(lo, n_hh + n_enr), min(hi, total)
            if a < b:
                part = ended.slice(a - n_hh - n_enr, b - a)
                parts.append(
                    {
                        "household_id": _np(part["household_id"]),
                        "occurred_at": _local_midnight_utc(_np(part["end_date"].cast(pa.int32()))),
                        "kind": _strings(["registry.enrolment_ended"] * (b - a)),
                        "summary": pc.binary_join_element_wise(
                            label(part["category"]), "结束：", part["end_reason"], ""
                        ),
                        "detail": category_detail(part["category"]),
                        "object_type": _strings(["registry.enrolment"] * (b - a)),
                        "object_id": pc.cast(part["db_id"], pa.string()),
                    }
                )
            data: dict[str, Any] = {
                key: pa.concat_arrays([_as_array(p[key]) for p in parts]) for key in parts[0]
            }
            data["id"] = ids[lo:hi]
            data["source"] = _strings(["registry"] * size)
            data["actor_id"] = pa.nulls(size, pa.int64())
            data["created_at"] = _constant_time(self.now, size)
            return data

        self._write(TimelineEvent, "timeline", total, build)


def _as_array(value: Any) -> pa.Array:
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    if isinstance(value, pa.Array):
        return value
    return cast(pa.Array, pa.array(value))
