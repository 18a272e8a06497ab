"""``jiuzhu revisits draw --county 360823 --month 2026-10 [--seed N]``: draw one county's
monthly revisits (supervision/services/revisits.py) and print a JSON summary: the batch,
the seed, the completed orders, and per provider the orders and the home and phone
revisits drawn. A second draw of the same month is refused (exit status 1)."""

from __future__ import annotations

import datetime
import json
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from jiuzhu.core.form_input import error_messages
from jiuzhu.supervision.revisit_selectors import batch_figures
from jiuzhu.supervision.services.revisits import revisit_batch_draw


def _month(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(f"{text}-01")
    except ValueError as exc:
        raise CommandError("--month must look like 2026-10") from exc


class Command(BaseCommand):
    help = "Revisits (回访): draw a county's monthly sample."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["draw"])
        parser.add_argument("--county", required=True, help="the county's 6-digit code")
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            batch = revisit_batch_draw(
                actor=None,
                county=options["county"],
                period=_month(options["month"]),
                seed=options["seed"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(error_messages(exc))) from exc
        figures = batch_figures(batch)
        summary = {
            "batch": batch.pk,
            "county": batch.region_id,
            "month": f"{batch.period:%Y-%m}",
            "seed": batch.seed,
            "rate": str(batch.rate),
            "minimum": batch.minimum,
            "phone_minimum": batch.phone_minimum,
            "completed_orders": batch.completed_orders,
            "home": sum(f.home for f in figures),
            "phone": sum(f.phone for f in figures),
            "providers": [
                {
                    "provider": f.provider_id,
                    "name": f.provider.name if f.provider else "",
                    "completed": f.completed,
                    "home": f.home,
                    "phone": f.phone,
                }
                for f in figures
            ],
        }
        self.stdout.write(json.dumps(summary, ensure_ascii=False, sort_keys=True))
