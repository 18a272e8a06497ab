"""`jiuzhu bench monitoring` prints the one JSON object the architecture asks for, with
figures that come from real runs (small here; the real figures are in docs/benchmarks.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.db import connection

REQUIRED = {
    "households",
    "feed_records",
    "warnings",
    "seconds",
    "peak_rss_mb",
    "pandas_seconds",
    "postgres_seconds",
    "scan_floor_seconds",
    "recall",
    "precision",
}


def test_bench_monitoring_reports_every_field(tmp_path: Path, capsys: Any, db: None) -> None:
    postgres = ""
    if connection.vendor == "postgresql":
        # the test database Django is using (the bench makes and drops its own schema there)
        d = connection.settings_dict
        postgres = f"postgresql://{d['USER']}@{d['HOST']}:{d['PORT'] or 5432}/{d['NAME']}"
    call_command(
        "bench",
        "monitoring",
        "--households",
        "400",
        "--dir",
        str(tmp_path),
        "--postgres",
        postgres,
        "--incremental-runs",
        "2",
    )
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= REQUIRED
    assert result["households"] == 400
    assert result["feed_records"] > 3000
    assert result["warnings"] > 0
    assert result["seconds"]["total"] > 0 and "load" in result["seconds"]
    assert result["recall"] >= 0.95 and result["precision"] >= 0.6
    assert result["pandas_seconds"] > 0
    assert result["incremental"]["households"] > 0
    assert len(result["incremental"]["runs"]) == 2
    assert result["incremental"]["seconds"] in result["incremental"]["runs"]
    if postgres:
        # the same SQL on PostgreSQL finds the same number of warnings
        assert result["postgres_warnings"] == result["warnings"]
    else:
        assert result["postgres_seconds"] is None
