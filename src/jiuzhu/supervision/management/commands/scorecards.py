"""``jiuzhu scorecards --county 360823 --month 2026-10``: compute and store the month's
scorecards of every provider of the county and apply the lights they earn (the policy is
in ``supervision.services.light_decisions``). Without ``--month``: last month. Running it
again for the same month recomputes the same rows and decides nothing twice.

Run it from the scheduler on the first days of each month (after the revisits of the
month are done), e.g. ``jiuzhu scorecards --county 360823`` on the 5th. Prints one JSON
object: providers judged, lights earned, decisions made, better lights held back.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jiuzhu.regions.models import Level, Region
from jiuzhu.supervision import light_selectors as sel
from jiuzhu.supervision.services.scorecards import scorecards_run_detailed


class Command(BaseCommand):
    help = "Compute a month's provider scorecards for a county and apply the traffic lights."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--county", required=True, help="county code, e.g. 360823")
        parser.add_argument("--month", default="", help="YYYY-MM (default: last month)")

    def handle(self, *args: Any, **options: Any) -> None:
        county = Region.objects.filter(code=options["county"], level=Level.COUNTY).first()
        if county is None:
            raise CommandError(f"no county {options['county']!r}")
        today = timezone.localdate()
        month = options["month"]
        start, end = sel.month_of(month, default=sel.previous_month(today))
        if month and f"{start:%Y-%m}" != month.strip():
            raise CommandError(f"not a month: {month!r} (YYYY-MM)")
        result = scorecards_run_detailed(
            county=county, period_start=start, period_end=end, actor=None, today=today
        )
        lights = Counter(s.light or "none" for s in result.scores)
        summary = {
            "county": county.code,
            "period": [start.isoformat(), end.isoformat()],
            "providers": len(result.scores),
            "lights": dict(sorted(lights.items())),
            "decisions": [
                {
                    "provider": d.provider_id,
                    "from": d.from_light,
                    "to": d.to_light,
                }
                for d in result.decisions
            ],
            "held": [p.pk for p, _why in result.held],
        }
        self.stdout.write(json.dumps(summary, ensure_ascii=False, sort_keys=True))
