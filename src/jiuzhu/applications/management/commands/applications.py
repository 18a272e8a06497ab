from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from jiuzhu.applications.services import applications_escalate_overdue, disclosures_end_due
from jiuzhu.applications.services.reviews import reviews_tick


class Command(BaseCommand):
    help = (
        "Applications: `applications escalate` moves decisions past their legal time "
        "limit to the county and reports 先行救助 files not completed in time; "
        "`applications tick` also takes down ended disclosures."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("escalate", help="escalate overdue steps")
        sub.add_parser(
            "reviews",
            help="daily: schedule reviews, open re-checks, certify silently, end graded exits",
        )
        sub.add_parser(
            "tick",
            help="escalate overdue steps and take down ended disclosures (every few minutes)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "reviews":
            done = reviews_tick()
            self.stdout.write(
                f"{done['scheduled']} reviews scheduled, {done['rechecks']} re-checks opened, "
                f"{done['silent']} certified silently, {done['exits_ended']} graded exits ended"
            )
            return
        counts = applications_escalate_overdue()
        self.stdout.write(
            f"{counts['escalated']} applications escalated to the county, "
            f"{counts['urgent_overdue']} 先行救助 files overdue"
        )
        if options["action"] == "tick":
            done = disclosures_end_due()
            self.stdout.write(
                f"{done['taken_down']} disclosures taken down, {done['confirmed']} cases confirmed"
            )
