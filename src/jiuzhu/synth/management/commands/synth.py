"""``jiuzhu synth --households N --seed S --out DIR [--region CODE] [--load] [--no-feeds]``.

Generates a synthetic population as Parquet in ``DIR/population/``, then the department
feeds of the year before ``--as-of`` in ``DIR/feeds/`` with their planted ground truth in
``DIR/truth/`` (unless ``--no-feeds``), and, with ``--load``, bulk-loads the population
into the database. Progress shows as bars on a terminal and as plain lines otherwise; the
last lines are a summary with counts and seconds per stage.
"""

from __future__ import annotations

import datetime
import time
from argparse import ArgumentParser
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from jiuzhu.regions.models import Level, Region
from jiuzhu.regions.services import regions_load_demo_county
from jiuzhu.synth.feeds import (
    DEFAULT_RECORDS_PER_HOUSEHOLD,
    FEED_STAGES,
    feeds_manifest,
    generate_feeds,
    write_feeds,
)
from jiuzhu.synth.loader import PopulationLoadError, population_load
from jiuzhu.synth.population import (
    DEMO_COUNTY,
    GENERATION_STAGES,
    REFERENCE_DATE,
    RegionSpec,
    Town,
    Village,
    demo_region_spec,
    generate_population,
    population_manifest,
    write_population,
)


class _Progress:
    """A tqdm bar per stage on a terminal; otherwise a line per stage and every 25 %."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out
        self.tty = out.isatty()
        self.stage = ""
        self.bar: Any = None
        self.last_quarter = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.last_quarter = -1
            if self.tty:
                from tqdm import tqdm

                rows = stage not in ("generate", "feeds")  # generation counts stages
                self.bar = tqdm(
                    total=total,
                    desc=stage,
                    unit="row" if rows else "stage",
                    unit_scale=rows,
                    leave=False,
                    file=self.out._out,
                )
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            return
        quarter = 4 * done // total if total else 4
        if quarter != self.last_quarter:
            self.last_quarter = quarter
            self.out.write(f"  {stage}: {done}/{total}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _county_from_db(code: str) -> RegionSpec:
    county = Region.objects.filter(code=code, level=Level.COUNTY).first()
    if county is None:
        raise CommandError(
            f"县级区划 {code} 不在数据库中：先运行 jiuzhu regions import DIR "
            f"(county {code} is not in the database)"
        )
    towns = tuple(
        Town(r.code, r.name)
        for r in Region.objects.filter(parent_id=code, level=Level.TOWN).order_by("code")
    )
    if not towns:
        raise CommandError(f"县级区划 {code} 下没有乡镇 (no towns under {code})")
    villages = tuple(
        Village(r.code, r.name, r.parent_id or "", r.is_synthetic)
        for r in Region.objects.filter(code__startswith=code, level=Level.VILLAGE).order_by("code")
    )
    return RegionSpec(code, county.name, towns, villages)


def _with_real_villages(spec: RegionSpec) -> RegionSpec:
    """The spec plus the real villages the database knows in that county, whose codes
    the synthetic ones must keep clear of (only there after an NBS village import)."""
    real = tuple(
        Village(r.code, r.name, r.parent_id or "", False)
        for r in Region.objects.filter(
            code__startswith=spec.county_code, level=Level.VILLAGE, is_synthetic=False
        ).order_by("code")
    )
    return replace(spec, villages=spec.villages + real) if real else spec


def _demo_regions_present() -> bool:
    spec = demo_region_spec()
    wanted = {DEMO_COUNTY, *(t.code for t in spec.towns)}
    return Region.objects.filter(code__in=wanted).count() == len(wanted)


class Command(BaseCommand):
    help = (
        "Generate a synthetic county population as Parquet (DIR/population/*.parquet) and "
        "department feeds with planted ground truth (DIR/feeds/, DIR/truth/); --load also "
        "bulk-loads the population into the database."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--households", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, required=True, help="output directory")
        parser.add_argument(
            "--region",
            default=DEMO_COUNTY,
            help="6-digit county code; other than the demo county its towns must be in "
            "the database (jiuzhu regions import DIR)",
        )
        parser.add_argument(
            "--as-of",
            default=REFERENCE_DATE.isoformat(),
            help="reference date for ages, spells and the income year (default %(default)s)",
        )
        parser.add_argument("--load", action="store_true", help="load into the database")
        parser.add_argument(
            "--no-feeds",
            action="store_true",
            help="skip the department feeds and the truth file",
        )
        parser.add_argument(
            "--records-per-household",
            type=float,
            default=DEFAULT_RECORDS_PER_HOUSEHOLD,
            help="background feed records a household a year over all feeds (default %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        households: int = options["households"]
        seed: int = options["seed"]
        out = Path(options["out"])
        code = str(options["region"])
        if households < 1:
            raise CommandError("--households must be at least 1")
        if seed < 0:
            raise CommandError("--seed must not be negative")
        if len(code) != 6 or not code.isdigit():
            raise CommandError("--region must be a 6-digit county code")
        try:
            as_of = datetime.date.fromisoformat(str(options["as_of"]))
        except ValueError as exc:
            raise CommandError("--as-of must be a date, YYYY-MM-DD") from exc
        if as_of > datetime.date.today():
            raise CommandError("--as-of must not be in the future (birth dates would be)")
        per_household: float = options["records_per_household"]
        if not per_household >= 0:
            raise CommandError("--records-per-household must not be negative")

        seconds: dict[str, float] = {}
        started = time.perf_counter()
        if code == DEMO_COUNTY:
            # The demo county comes from the fixture, so generating needs no database.
            region = demo_region_spec()
            if options["load"]:
                if not _demo_regions_present():
                    regions_load_demo_county()
                    self.stdout.write("demo county regions loaded (峡江县)")
                region = _with_real_villages(region)
        else:
            region = _county_from_db(code)
        seconds["regions"] = time.perf_counter() - started

        self.stdout.write(
            f"generating {households} households, seed {seed}, "
            f"county {region.county_code} {region.county_name}, as of {as_of}"
        )
        clock = time.perf_counter()
        stage_clock = [clock]
        bar = _Progress(self.stdout)

        def generation_step(name: str) -> None:
            now = time.perf_counter()
            if bar.tty:
                done = GENERATION_STAGES.index(name) + 1 if name in GENERATION_STAGES else 0
                bar("generate", done, len(GENERATION_STAGES))
            else:
                self.stdout.write(f"  generate: {name} ({now - stage_clock[0]:.1f} s)")
            stage_clock[0] = now

        try:
            tables = generate_population(
                households=households,
                seed=seed,
                region=region,
                as_of=as_of,
                progress=generation_step,
            )
        finally:
            bar.close()
        seconds["generate"] = time.perf_counter() - clock

        clock = time.perf_counter()
        target = out / "population"
        write_population(
            tables,
            target,
            population_manifest(households=households, seed=seed, region=region, as_of=as_of),
        )
        seconds["write"] = time.perf_counter() - clock
        counts = {name: table.num_rows for name, table in tables.items()}
        self.stdout.write(f"written to {target}")

        feed_counts: dict[str, int] = {}
        if not options["no_feeds"]:
            feed_counts = self._feeds(tables, seed, as_of, per_household, out, seconds)

        load_line = ""
        if options["load"]:
            clock = time.perf_counter()
            progress = _Progress(self.stdout)
            try:
                result = population_load(
                    tables=tables,
                    progress=progress,
                    manifest=population_manifest(
                        households=households, seed=seed, region=region, as_of=as_of
                    ),
                )
            except PopulationLoadError as exc:
                raise CommandError(str(exc)) from exc
            finally:
                progress.close()
            seconds["load"] = time.perf_counter() - clock
            stages = ", ".join(f"{k} {v:.1f}" for k, v in result.seconds.items())
            load_line = (
                f"loaded into {result.backend}: "
                + ", ".join(f"{k} {v}" for k, v in result.counts.items())
                + f"; skipped households already present: {result.skipped_households}; "
                f"new villages: {result.regions_created}\n  load stages (s): {stages}"
            )
        seconds["total"] = time.perf_counter() - started

        self.stdout.write("")
        self.stdout.write("summary / 汇总")
        self.stdout.write("  rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        if feed_counts:
            self.stdout.write(
                "  feed rows: " + ", ".join(f"{k} {v}" for k, v in feed_counts.items())
            )
        if load_line:
            self.stdout.write("  " + load_line)
        self.stdout.write("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))

    def _feeds(
        self,
        tables: dict[str, pa.Table],
        seed: int,
        as_of: datetime.date,
        per_household: float,
        out: Path,
        seconds: dict[str, float],
    ) -> dict[str, int]:
        """Department feeds and truth from the population just made; returns the counts."""
        clock = time.perf_counter()
        stage_clock = [clock]
        bar = _Progress(self.stdout)

        def feeds_step(name: str) -> None:
            now = time.perf_counter()
            if bar.tty:
                bar("feeds", FEED_STAGES.index(name) + 1, len(FEED_STAGES))
            else:
                self.stdout.write(f"  feeds: {name} ({now - stage_clock[0]:.1f} s)")
            stage_clock[0] = now

        try:
            feeds, truth = generate_feeds(
                tables,
                seed=seed,
                as_of=as_of,
                records_per_household=per_household,
                progress=feeds_step,
            )
        finally:
            bar.close()
        seconds["feeds"] = time.perf_counter() - clock
        clock = time.perf_counter()
        write_feeds(
            feeds,
            truth,
            out,
            feeds_manifest(seed=seed, as_of=as_of, records_per_household=per_household),
        )
        seconds["feeds write"] = time.perf_counter() - clock
        self.stdout.write(f"feeds written to {out / 'feeds'}, truth to {out / 'truth'}")
        counts = {feed_id: table.num_rows for feed_id, table in feeds.items()}
        counts["truth"] = truth.num_rows
        return counts
