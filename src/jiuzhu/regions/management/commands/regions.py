from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jiuzhu.regions.services import (
    RegionImportError,
    regions_import_nbs,
    regions_load_demo_county,
)


class Command(BaseCommand):
    help = "Region tree chores: `regions import DIR` (NBS-format CSVs), `regions demo`."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="load provinces/cities/areas/streets[/villages].csv")
        imp.add_argument("directory", type=Path)
        sub.add_parser("demo", help="load the demo county (峡江县, synthetic villages)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "demo":
            count = regions_load_demo_county()
            self.stdout.write(f"demo county loaded: {count} regions")
            return
        directory: Path = options["directory"]
        if not directory.is_dir():
            raise CommandError(f"not a directory: {directory}")
        try:
            result = regions_import_nbs(
                directory=directory,
                progress=lambda name, n: self.stdout.write(f"{name}: {n} rows"),
            )
        except RegionImportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"regions imported: {result.total} rows, {result.created} new, "
            f"{result.updated} refreshed"
        )
