"""``jiuzhu funds post [--county 360823] [--until YYYY-MM-DD]``: post the cost of every
served order that has none yet (idempotent), and print one JSON object:
``{"posted": n, "skipped": [{"order": id, "reason": "…"}], "total": "yuan"}``.

Without ``--county`` every county that has a fund is posted. Run it from the delivery
clock (after ``delivery tick``) or by hand after a month's orders are closed."""

from __future__ import annotations

import datetime
import json
from argparse import ArgumentParser
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jiuzhu.funds.models import Fund
from jiuzhu.funds.services import orders_post_costs


def funds_post(*, county: str | None = None, until: datetime.date | None = None) -> dict[str, Any]:
    counties = (
        [county]
        if county
        else sorted({code[:6] for code in Fund.objects.values_list("region_id", flat=True)})
    )
    posted = 0
    total = Decimal("0.00")
    skipped: list[dict[str, Any]] = []
    for code in counties:
        result = orders_post_costs(county_code=code, until=until, actor=None)
        posted += result.posted
        total += result.total
        skipped.extend({"order": o, "reason": r} for o, r in result.skipped_unfunded)
    return {"posted": posted, "skipped": skipped, "total": str(total)}


class Command(BaseCommand):
    help = "Funds ledger: post served orders' costs (posted, skipped, total as JSON)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["post"])
        parser.add_argument("--county", default=None, help="county code, e.g. 360823")
        parser.add_argument("--until", default=None, help="last service date, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        until = None
        if options["until"]:
            try:
                until = datetime.date.fromisoformat(options["until"])
            except ValueError as exc:
                raise CommandError("--until must be YYYY-MM-DD") from exc
        report = funds_post(county=options["county"], until=until)
        self.stdout.write(json.dumps(report, ensure_ascii=False, sort_keys=True))
