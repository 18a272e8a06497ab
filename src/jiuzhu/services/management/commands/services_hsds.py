"""`jiuzhu services_hsds --county 360823 --out directory.json`: the county's provider
directory as Open Referral HSDS 3.0 JSON (an array of organisations with their services);
``--out -`` writes to standard output."""

from __future__ import annotations

import datetime
import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jiuzhu.regions.models import Level, Region
from jiuzhu.services.hsds import hsds_organizations


class Command(BaseCommand):
    help = "Export the provider directory of a county as Open Referral HSDS 3.0 JSON."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--county", required=True, help="county code, e.g. 360823")
        parser.add_argument("--out", required=True, help="file to write, or - for stdout")
        parser.add_argument(
            "--date", default="", help="the day the export describes (YYYY-MM-DD; default today)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        county = options["county"]
        if not Region.objects.filter(code=county, level=Level.COUNTY).exists():
            raise CommandError(f"no county {county}")
        day = None
        if options["date"]:
            try:
                day = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"not a date: {options['date']}") from exc
        organizations = hsds_organizations(county_code=county, day=day)
        text = json.dumps(organizations, ensure_ascii=False, indent=1)
        if options["out"] == "-":
            self.stdout.write(text)
            return
        path = Path(options["out"])
        path.write_text(text + "\n", encoding="utf-8")
        services = sum(len(org["services"]) for org in organizations)
        self.stderr.write(f"{path}: {len(organizations)} organisations, {services} services")
