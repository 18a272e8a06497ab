"""``jiuzhu bench policies``: the policy matcher over a synthetic county, measured.

The county is generated once per (households, seed) into the engine's snapshot layout
and reused. The pass runs in a child process so its peak RSS is its own. Policies are the
default library's rule-bearing ones; when more are asked for than the library has, the
rest are the same rules again as county copies (a county that adopts a national policy
with its own text runs the same SQL again), so every one does the full work. In the same
run, the scan floor — DuckDB only reading the snapshot columns the facts need — shows how
much of the pass is reading.
"""

from __future__ import annotations

import datetime
import json
import shutil
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from jiuzhu.engine.eligibility import EligibilityRule, match
from jiuzhu.monitoring.bench import _child, _peak_mb
from jiuzhu.policies.defaults import default_library

AS_OF = datetime.date(2026, 1, 1)
Log = Callable[[str], None]
# National averages (end of September 2025) and the national definitions' factors.
BENCH_STANDARDS = {
    "urban": {
        "dibao_monthly": "828",
        "marginal_factor": "1.5",
        "disposable_income": "54188",
        "rigid_share": "0.3",
    },
    "rural": {
        "dibao_monthly": "616",
        "marginal_factor": "1.5",
        "disposable_income": "23119",
        "rigid_share": "0.3",
    },
}


def prepare_snapshot(directory: Path, *, households: int, seed: int, log: Log) -> Path:
    from jiuzhu.synth.population import generate_population
    from jiuzhu.synth.stored import registry_snapshot

    marker = directory / "bench.json"
    wanted = {"households": households, "seed": seed, "version": 1}
    snapshot = directory / "snapshot"
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        log(f"reusing {snapshot}")
        return snapshot
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    clock = time.perf_counter()
    population = generate_population(households=households, seed=seed, progress=None)
    log(f"generated {households} households in {time.perf_counter() - clock:.1f} s")
    registry_snapshot(population, snapshot)
    del population
    marker.write_text(json.dumps(wanted))
    return snapshot


def standards_for(snapshot: Path) -> pa.Table:
    """The bench's standards for every village and urban/rural type of the snapshot."""
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        pairs = con.sql(
            "SELECT DISTINCT region_code, area_type FROM read_parquet(?) ORDER BY 1, 2",
            params=[str(snapshot / "households.parquet")],
        ).fetchall()
    finally:
        con.close()
    rows = [
        (village, area, name, Decimal(value))
        for village, area in pairs
        for name, value in BENCH_STANDARDS.get(area, BENCH_STANDARDS["rural"]).items()
    ]
    return pa.table(
        {
            "region_code": [r[0] for r in rows],
            "area_type": [r[1] for r in rows],
            "name": [r[2] for r in rows],
            "value": pa.array([r[3] for r in rows], pa.decimal128(14, 4)),
        }
    )


def bench_rules(count: int, county: str) -> list[EligibilityRule]:
    """``count`` rules: the library's, then the same again as copies of ``county``."""
    library = [p for p in default_library() if p.rule.strip()]
    rules: list[EligibilityRule] = []
    copy = 0
    while len(rules) < count:
        for policy in library:
            if len(rules) == count:
                break
            if copy == 0:
                rules.append(policy.eligibility_rule())
            else:
                rules.append(
                    EligibilityRule(
                        policy=f"{policy.code}__{county}_{copy}",
                        version=1,
                        sql=policy.rule,
                        enrolment_category=policy.enrolment_category,
                        region_prefix=county,
                    )
                )
        copy += 1
    return rules


def _pass(snapshot: str, count: int, county: str) -> dict[str, Any]:
    """One matching pass (in a child process)."""
    clock = time.perf_counter()
    path = Path(snapshot)
    standards = standards_for(path)
    rules = bench_rules(count, county)
    standards_seconds = time.perf_counter() - clock
    result = match(rules, path, as_of=AS_OF, standards=standards)
    total = time.perf_counter() - clock
    kinds: dict[str, int] = {}
    for counts in result.counts.values():
        for kind, n in counts.items():
            kinds[kind] = kinds.get(kind, 0) + n
    policy_seconds = sum(v for k, v in result.seconds.items() if k.startswith("policy:"))
    slowest = sorted(
        ((k.removeprefix("policy:"), v) for k, v in result.seconds.items() if "policy:" in k),
        key=lambda kv: -kv[1],
    )[:3]
    return {
        "households": result.households,
        "policies": len(rules),
        "matches": result.matches.num_rows,
        "matches_by_kind": kinds,
        "errors": result.errors,
        "seconds": {
            "standards": round(standards_seconds, 3),
            "facts": round(result.seconds.get("facts", 0.0), 3),
            "policies": round(policy_seconds, 3),
            "collect": round(result.seconds.get("collect", 0.0), 3),
            "total": round(total, 3),
        },
        "slowest_policies": {k: round(v, 3) for k, v in slowest},
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def _scan_floor(snapshot: str) -> dict[str, Any]:
    """Only reading the columns the facts read (in a child process)."""
    import duckdb

    path = Path(snapshot)
    clock = time.perf_counter()
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        for table, columns in {
            "households": "household_id, region_code, area_type, member_count",
            "persons": "household_id, person_id, birth_date, employment, labour_capacity, "
            "disability_type, disability_grade, is_deceased, relationship, sex",
            "illnesses": "household_id, person_id, is_serious, icd10",
            "incomes": "household_id, year, annual_amount",
            "expenditures": "household_id, kind, year, amount",
            "assets": "household_id, kind, value",
            "enrolments": "household_id, category, status",
        }.items():
            con.sql(
                f"SELECT COUNT(*), {', '.join(f'MIN({c})' for c in columns.split(', '))} "  # noqa: S608
                f"FROM read_parquet('{path / (table + '.parquet')}')"
            ).fetchall()
    finally:
        con.close()
    return {"seconds": round(time.perf_counter() - clock, 3), "peak_rss_mb": round(_peak_mb(), 1)}


def bench_policies(
    *,
    households: int,
    seed: int,
    policies: int,
    directory: Path,
    runs: int,
    log: Log,
    county: str = "360823",
) -> dict[str, Any]:
    snapshot = prepare_snapshot(directory, households=households, seed=seed, log=log)
    passes = []
    for i in range(runs):
        passes.append(_child(_pass, str(snapshot), policies, county))
        log(f"pass {i + 1}: {passes[-1]['seconds']['total']} s")
    floor = _child(_scan_floor, str(snapshot))
    median = sorted(passes, key=lambda p: p["seconds"]["total"])[len(passes) // 2]
    return {
        **median,
        "runs": runs,
        "total_seconds_each_run": [p["seconds"]["total"] for p in passes],
        "median_total_seconds": round(statistics.median(p["seconds"]["total"] for p in passes), 3),
        "scan_floor_seconds": floor["seconds"],
        "as_of": AS_OF.isoformat(),
        "seed": seed,
    }
