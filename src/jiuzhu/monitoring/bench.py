"""``jiuzhu bench monitoring``: the monitoring pass at county or Dezhou scale, measured.

Stages run in child processes where memory matters, so each peak RSS is its own: the
DuckDB pass, the DuckDB scan floor (only reading the columns the rules read), the same
rules in plain pandas, and the same SQL on PostgreSQL (transpiled by sqlglot) when a
server answers. Synthetic data is generated once per (households, seed) and reused.
"""

from __future__ import annotations

import datetime
import json
import multiprocessing
import resource
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from jiuzhu.core.crypto import FieldCipher
from jiuzhu.engine.dialects import to_sql
from jiuzhu.engine.duck import FEED_READ_OPTIONS, households_with_records
from jiuzhu.engine.inputs import REGISTRY_TABLES, Sources, feed_input_columns
from jiuzhu.engine.rules import load_pack
from jiuzhu.engine.runner import feed_select, prepare, registry_select, run, window_condition
from jiuzhu.feeds.schema import catalogue
from jiuzhu.feeds.storage import batch_files_after

AS_OF = datetime.date(2026, 1, 1)
Log = Callable[[str], None]


def _peak_mb() -> float:
    """Peak RSS of this process's own address space (VmHWM). ``ru_maxrss`` would not do:
    Linux keeps it across exec, so a spawned child reports its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(target: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``target(*args)`` in a fresh process; its result carries its own peak RSS."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(target, args)


# ----------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------


def prepare_data(
    directory: Path, *, households: int, seed: int, cipher: FieldCipher, log: Log
) -> dict[str, Any]:
    """Population, feeds and truth (generated), then the engine's inputs (stored) with the
    deployment's own blind-index key, as the registry and the importer would write them."""
    from jiuzhu.registry.protected import ID_COLUMN
    from jiuzhu.synth.feeds import generate_feeds
    from jiuzhu.synth.population import generate_population
    from jiuzhu.synth.stored import person_indexes, registry_snapshot, store_feeds

    marker = directory / "bench.json"
    wanted = {"households": households, "seed": seed, "as_of": AS_OF.isoformat(), "version": 2}
    if marker.exists() and json.loads(marker.read_text())["wanted"] == wanted:
        log(f"reusing {directory}")
        return dict(json.loads(marker.read_text()))
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    population = generate_population(households=households, seed=seed, as_of=AS_OF)
    feeds, truth = generate_feeds(population, seed=seed, as_of=AS_OF)
    seconds["generate"] = time.perf_counter() - clock
    log(f"generated in {seconds['generate']:.1f} s")
    pq.write_table(truth, directory / "truth.parquet")
    clock = time.perf_counter()
    person_index = person_indexes(
        population, lambda ids: cipher.blind_index_many(ids, column=ID_COLUMN)
    )
    registry_snapshot(population, directory / "snapshot")
    store_feeds(
        feeds,
        directory / "feeds",
        population=population,
        person_index=person_index,
        index_key=cipher.index_key,
    )
    seconds["store"] = time.perf_counter() - clock
    log(f"stored in {seconds['store']:.1f} s")
    info = {
        "wanted": wanted,
        "feed_records": int(sum(t.num_rows for t in feeds.values())),
        "seconds": seconds,
    }
    marker.write_text(json.dumps(info))
    return info


# ----------------------------------------------------------------------------------------
# Measured stages (each in its own process)
# ----------------------------------------------------------------------------------------


def _sources(directory: Path) -> Sources:
    return Sources(snapshot=directory / "snapshot", feeds_root=directory / "feeds")


def _windowed_sources(directory: Path) -> Sources:
    """The feed files the SQL engines read (periods inside the rules' windows), so that
    pandas is not made to read more than they do."""
    sources = _sources(directory)
    plan = prepare(load_pack(), as_of=AS_OF)
    return Sources(
        snapshot=sources.snapshot,
        feed_files={feed.id: sources.files_of(feed, plan.window(feed)) for feed in plan.feeds},
    )


def stage_duckdb(directory: str, households: list[int] | None = None) -> dict[str, Any]:
    clock = time.perf_counter()
    result = run(load_pack(), _sources(Path(directory)), as_of=AS_OF, households=households)
    total = time.perf_counter() - clock
    path = Path(directory) / (
        "candidates-incremental.parquet" if households else "candidates.parquet"
    )
    pq.write_table(result.candidates, path)
    return {
        "total": total,
        "stages": result.seconds,
        "warnings": result.candidates.num_rows,
        "peak_rss_mb": _peak_mb(),
    }


def stage_scan_floor(directory: str) -> dict[str, Any]:
    """Only read the columns the rules read, in the feed windows they read (what no
    engine can avoid). Every value is hashed, so each column is really decoded (a bare
    ``count`` would be answered from the Parquet metadata)."""
    base = Path(directory)
    sources = _sources(base)
    plan = prepare(load_pack(), as_of=AS_OF)
    con = duckdb.connect(config={"autoinstall_known_extensions": False})

    def decode_all(columns: list[str], source: str, where: str = "") -> None:
        hashed = ", ".join(f'bit_xor(hash("{c}"))' for c in columns)
        con.execute(f"SELECT {hashed} FROM {source} AS f{where}").fetchall()  # noqa: S608

    clock = time.perf_counter()
    for table in plan.registry_tables:
        columns = list(plan.columns[table])
        decode_all(columns, f"read_parquet('{sources.registry_file(table)}')")
    for feed in plan.feeds:
        window = plan.window(feed)
        files = [str(p) for p in sources.files_of(feed, window)]
        names = [c for c in plan.columns[feed.id] if c != "household_id"]  # person_id stored
        where = "" if window.unbounded else " WHERE " + window_condition(feed, window)
        decode_all(names, f"read_parquet({files!r}, {FEED_READ_OPTIONS})", where)
    return {"total": time.perf_counter() - clock, "peak_rss_mb": _peak_mb()}


def stage_pandas(directory: str) -> dict[str, Any]:
    from jiuzhu.engine.pandas_rules import run_pandas_timed

    clock = time.perf_counter()
    table, seconds = run_pandas_timed(_windowed_sources(Path(directory)), as_of=AS_OF)
    return {
        "total": time.perf_counter() - clock,
        "stages": seconds,
        "warnings": table.num_rows,
        "peak_rss_mb": _peak_mb(),
    }


def stage_postgres(directory: str, url: str) -> dict[str, Any]:
    """Load the inputs into a PostgreSQL schema (timed apart), then run the same SQL."""
    import psycopg

    base = Path(directory)
    sources = _sources(base)
    plan = prepare(load_pack(), as_of=AS_OF)
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    clock = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("DROP SCHEMA IF EXISTS jiuzhu_bench CASCADE")
        pg.execute("CREATE SCHEMA jiuzhu_bench")
        pg.execute("SET search_path TO jiuzhu_bench")
        tables: dict[str, tuple[dict[str, str], str]] = {}
        # The same tables, columns and feed windows as the DuckDB pass reads.
        for table, documented in REGISTRY_TABLES.items():
            source = f"read_parquet('{sources.registry_file(table)}')"
            kept = plan.columns[table]
            tables[table] = (
                {c: t for c, t in documented.items() if c in kept},
                registry_select(table, source, columns=kept),
            )
        con.execute(f"CREATE TABLE persons AS {tables['persons'][1]}")
        for feed in plan.feeds:
            window, kept = plan.window(feed), plan.columns[feed.id]
            files = [str(p) for p in sources.files_of(feed, window)]
            tables[feed.id] = (
                {c: t for c, t in feed_input_columns(feed).items() if c in kept},
                feed_select(feed, f"read_parquet({files!r}, {FEED_READ_OPTIONS})", window, kept),
            )
        for name, (columns, select) in tables.items():
            ddl = ", ".join(
                f'"{c}" {t.replace("VARCHAR", "TEXT").replace("DOUBLE", "DOUBLE PRECISION")}'
                for c, t in columns.items()
            )
            pg.execute(f'CREATE TABLE "{name}" ({ddl})')
            csv_path = base / f"pg-{name}.csv"
            con.execute(f"COPY ({select}) TO '{csv_path}' (HEADER false)")
            with (
                pg.cursor() as cur,
                cur.copy(f'COPY "{name}" FROM STDIN (FORMAT csv)') as copy,
                csv_path.open("rb") as handle,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            csv_path.unlink()
        pg.execute("ANALYZE")
        load = time.perf_counter() - clock
        clock = time.perf_counter()
        counts = {}
        for rule in plan.rules:
            sql = to_sql(plan.trees[rule.id], "postgres")
            counts[rule.id] = len(pg.execute(sql).fetchall())
        total = time.perf_counter() - clock
        pg.execute("DROP SCHEMA jiuzhu_bench CASCADE")
    return {"total": total, "load": load, "warnings": sum(counts.values()), "counts": counts}


def add_new_records(directory: Path, share: float, seed: int) -> int:
    """A new batch per feed: ``share`` of each feed's records again, as new events
    (new natural keys, the same persons), like a day's arrivals."""
    rng = np.random.default_rng(seed)
    added = 0
    for feed in catalogue().values():
        files = sorted(
            (directory / "feeds" / feed.id / f"v{feed.version}").glob(
                "period=*/batch-00000001.parquet"
            )
        )
        for path in files:
            table = pq.read_table(path)
            take = rng.random(table.num_rows) < share
            if not take.any():
                continue
            part = table.filter(pa.array(take))
            part = part.set_column(
                0, "key_hash", pa.array([f"new-{h}" for h in part["key_hash"].to_pylist()])
            )
            part = part.set_column(
                part.schema.get_field_index("batch_id"),
                "batch_id",
                pa.array(np.full(part.num_rows, 2, dtype=np.int64)),
            )
            pq.write_table(part, path.with_name("batch-00000002.parquet"))
            added += part.num_rows
    return added


def remove_new_records(directory: Path) -> None:
    for path in (directory / "feeds").glob("*/v*/period=*/batch-00000002.parquet"):
        path.unlink()


def stage_incremental(directory: str) -> dict[str, Any]:
    """Touched households from the new batch files, then the incremental pass."""
    base = Path(directory)
    clock = time.perf_counter()
    touched = households_with_records(
        batch_files_after(base / "feeds", since_batch=1), base / "snapshot"
    )
    found = time.perf_counter() - clock
    result = stage_duckdb(directory, touched)
    return {
        "total": time.perf_counter() - clock,
        "touched_seconds": found,
        "households": len(touched),
        "warnings": result["warnings"],
        "peak_rss_mb": _peak_mb(),
    }


def bench_monitoring(
    *,
    households: int,
    seed: int,
    directory: Path,
    cipher: FieldCipher,
    postgres_url: str | None,
    with_pandas: bool = True,
    incremental_share: float = 0.01,
    incremental_runs: int = 3,
    log: Log = lambda _: None,
) -> dict[str, Any]:
    """Every stage, and the one JSON object the architecture asks for."""
    from jiuzhu.synth.evaluate import evaluate

    info = prepare_data(directory, households=households, seed=seed, cipher=cipher, log=log)
    remove_new_records(directory)
    where = str(directory)
    log("duckdb full pass")
    duck = _child(stage_duckdb, where)
    log(f"  {duck['total']:.1f} s, {duck['warnings']} warnings")
    # The incremental pass right after the full one: later, PostgreSQL's own clean-up of
    # the comparison (checkpoint, autovacuum) would compete for the same two cores.
    added = add_new_records(directory, incremental_share, seed)
    log(f"incremental: {added} new records")
    try:
        repeats = [_child(stage_incremental, where) for _ in range(max(1, incremental_runs))]
    finally:
        remove_new_records(directory)
    incremental = sorted(repeats, key=lambda r: r["total"])[len(repeats) // 2]
    runs = ", ".join(f"{r['total']:.2f}" for r in repeats)
    log(
        f"  {incremental['total']:.2f} s (median of {runs}) "
        f"for {incremental['households']} households"
    )
    log("scan floor")
    floor = _child(stage_scan_floor, where)
    pandas = None
    if with_pandas:
        log("pandas")
        pandas = _child(stage_pandas, where)
        log(f"  {pandas['total']:.1f} s")
    postgres = None
    if postgres_url:
        log("postgres (load, then the same SQL)")
        try:
            postgres = _child(stage_postgres, where, postgres_url)
            log(f"  load {postgres['load']:.1f} s, rules {postgres['total']:.1f} s")
        except Exception as exc:  # no server, or no rights: reported as null
            log(f"  postgres skipped: {exc}")
    scores = evaluate(
        pq.read_table(directory / "candidates.parquet"), pq.read_table(directory / "truth.parquet")
    )
    return {
        "households": households,
        "feed_records": info["feed_records"],
        "warnings": duck["warnings"],
        "seconds": {
            **{k: round(v, 3) for k, v in info["seconds"].items()},
            **{k: round(v, 3) for k, v in duck["stages"].items()},
            "total": round(duck["total"], 3),
        },
        "peak_rss_mb": round(duck["peak_rss_mb"], 1),
        "pandas_seconds": None if pandas is None else round(pandas["total"], 3),
        "pandas_peak_rss_mb": None if pandas is None else round(pandas["peak_rss_mb"], 1),
        "postgres_seconds": None if postgres is None else round(postgres["total"], 3),
        "postgres_load_seconds": None if postgres is None else round(postgres["load"], 3),
        "postgres_warnings": None if postgres is None else postgres["warnings"],
        "scan_floor_seconds": round(floor["total"], 3),
        "incremental": {
            "new_records": added,
            "households": incremental["households"],
            "seconds": round(incremental["total"], 3),
            "runs": [round(r["total"], 3) for r in repeats],
            "touched_seconds": round(incremental["touched_seconds"], 3),
            "warnings": incremental["warnings"],
        },
        "recall": scores["recall"],
        "precision": scores["precision"],
        "near_misses_warned": scores["near_misses_warned"],
        "engine": "duckdb " + duckdb.__version__,
    }
