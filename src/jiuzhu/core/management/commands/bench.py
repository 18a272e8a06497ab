"""Benchmarks: `jiuzhu bench web`, `bench monitoring`, `bench policies`, `bench dispatch`.

Prints one JSON object, so figures can go into docs/benchmarks.md as measured.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.registry.models import Household, Person


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(q[94] * 1000 if len(ordered) > 1 else ordered[0] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


class Command(BaseCommand):
    help = "Measure pages in-process against the configured database; prints JSON."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        web = sub.add_parser("web", help="household file, search and home page latency")
        web.add_argument("--requests", type=int, default=200)
        web.add_argument("--region", default="360823", help="the officer's region")
        web.add_argument("--seed", type=int, default=1)
        mon = sub.add_parser("monitoring", help="a full and an incremental monitoring pass")
        mon.add_argument("--households", type=int, required=True)
        mon.add_argument("--seed", type=int, default=1)
        mon.add_argument("--dir", type=Path, default=None, help="data (default var/bench/…)")
        mon.add_argument(
            "--postgres",
            default="postgres://postgres@127.0.0.1:5432/test",
            help="server for the comparison ('' to skip; null in the output)",
        )
        mon.add_argument("--no-pandas", action="store_true")
        mon.add_argument("--incremental-share", type=float, default=0.01)
        mon.add_argument(
            "--incremental-runs", type=int, default=3, help="repeats (the median is reported)"
        )

        pol = sub.add_parser("policies", help="every policy's rule over every household")
        pol.add_argument("--households", type=int, required=True)
        pol.add_argument("--policies", type=int, default=50)
        pol.add_argument("--seed", type=int, default=1)
        pol.add_argument("--runs", type=int, default=3, help="passes (the median is reported)")
        pol.add_argument("--dir", type=Path, default=None, help="data (default var/bench/…)")
        from jiuzhu.services.bench import add_dispatch_parser

        add_dispatch_parser(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "dispatch":
            from jiuzhu.services.bench import run_dispatch_command

            run_dispatch_command(self, options)
            return
        if options["what"] == "monitoring":
            self._monitoring(options)
            return
        if options["what"] == "policies":
            self._policies(options)
            return
        self._web(options)

    def _policies(self, options: dict[str, Any]) -> None:
        from jiuzhu.policies.bench import bench_policies

        households = int(options["households"])
        if households < 100 or int(options["policies"]) < 1 or int(options["runs"]) < 1:
            raise CommandError("--households ≥ 100, --policies ≥ 1 and --runs ≥ 1")
        directory = options["dir"] or (
            Path(settings.VAR_DIR) / "bench" / f"policies-{households}-{options['seed']}"
        )
        result = bench_policies(
            households=households,
            seed=int(options["seed"]),
            policies=int(options["policies"]),
            directory=directory,
            runs=int(options["runs"]),
            log=lambda line: self.stderr.write(line),
        )
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    def _monitoring(self, options: dict[str, Any]) -> None:
        from jiuzhu.core.crypto import field_cipher
        from jiuzhu.monitoring.bench import bench_monitoring

        households = int(options["households"])
        if households < 100:
            raise CommandError("--households must be at least 100")
        directory = options["dir"] or (
            Path(settings.VAR_DIR) / "bench" / f"monitoring-{households}-{options['seed']}"
        )
        result = bench_monitoring(
            households=households,
            seed=int(options["seed"]),
            directory=directory,
            cipher=field_cipher(),
            postgres_url=options["postgres"] or None,
            with_pandas=not options["no_pandas"],
            incremental_share=float(options["incremental_share"]),
            incremental_runs=int(options["incremental_runs"]),
            log=lambda line: self.stderr.write(line),
        )
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    def _web(self, options: dict[str, Any]) -> None:
        region = options["region"]
        households = Household.objects.filter(region__code__startswith=region)
        total = Household.objects.count()
        if not households.exists():
            raise CommandError(f"no households under {region}: run jiuzhu synth --load first")
        # A county officer: the widest scope a page serves, hence the slowest filters.
        user, _ = User.objects.update_or_create(
            username="bench_officer",
            defaults={"role": Role.COUNTY_ADMIN, "region_id": region, "is_active": True},
        )
        client = Client()
        client.force_login(user)
        rng = random.Random(options["seed"])
        ids = households.order_by("id").values_list("id", flat=True)
        first, last = ids[0], households.order_by("-id").values_list("id", flat=True)[0]
        # A fixed sample (first 2 000 persons by id) so runs are comparable.
        names = list(
            Person.objects.filter(region__code__startswith=region)
            .order_by("id")
            .values_list("name", flat=True)[:2000]
        )
        n = options["requests"]

        def measure(url_for: Any) -> dict[str, float]:
            samples = []
            for _ in range(n):
                url, params = url_for()
                start = time.perf_counter()
                response = client.get(url, params)
                samples.append(time.perf_counter() - start)
                if response.status_code not in (200, 404):
                    raise CommandError(f"{url} answered {response.status_code}")
            return _percentiles(samples)

        def file_url() -> tuple[str, dict[str, str]]:
            return f"/households/{rng.randint(first, last)}/", {}

        def search_url() -> tuple[str, dict[str, str]]:
            return "/households/", {"q": rng.choice(names)[:2]}

        def api_url() -> tuple[str, dict[str, str]]:
            return f"/api/v1/registry/households/{rng.randint(first, last)}", {}

        measure(file_url)  # warm caches and connections once
        result = {
            "database": connection.vendor,
            "households_total": total,
            "households_in_scope": households.count(),
            "household_file_page": measure(file_url),
            "household_file_api": measure(api_url),
            "search_by_name_prefix": measure(search_url),
            "home_page": measure(lambda: ("/", {})),
            "debug": settings.DEBUG,
        }
        self.stdout.write(json.dumps(result, ensure_ascii=False))
