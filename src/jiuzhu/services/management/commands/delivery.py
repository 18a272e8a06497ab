"""``jiuzhu delivery tick|schedule``: the service-delivery clock, for a service manager.

One pass (``tick``) does, in order:

1. ``dispatch_tick`` — offers nobody answered in time expire and go to the next provider;
   pending orders are dispatched by the optimiser;
2. ``claims_expire`` — claims held past their time give their need back to the market;
3. ``deadlines_escalate`` — overdue needs and orders move up a level (village → town →
   county);
4. ``notifications_retry`` — SMS that failed are sent again after their back-off.

``schedule --every-seconds N`` repeats the pass (default every 60 s: a critical order's
offer waits 10 minutes). Each pass prints one JSON object. A failing step is reported
and the others still run, so one bad row does not stop dispatch for the county.
"""

from __future__ import annotations

import json
import time
from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand

from jiuzhu.channels.notifications import notifications_retry
from jiuzhu.services.services.claims import claims_expire
from jiuzhu.services.services.deadlines import deadlines_escalate
from jiuzhu.services.services.dispatch import dispatch_tick

STEPS: list[tuple[str, Callable[[], Any]]] = [
    ("dispatch", dispatch_tick),
    ("claims_expired", claims_expire),
    ("deadlines", deadlines_escalate),
    ("notifications", notifications_retry),
]


def delivery_tick() -> dict[str, Any]:
    report: dict[str, Any] = {}
    for name, step in STEPS:
        try:
            report[name] = step()
        except Exception as exc:  # reported; the other steps must still run
            report[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return report


class Command(BaseCommand):
    help = "Service delivery clock: dispatch, claim expiry, deadlines, SMS retries."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("mode", choices=["tick", "schedule"])
        parser.add_argument("--every-seconds", type=int, default=60)

    def handle(self, *args: Any, **options: Any) -> None:
        every = max(5, int(options["every_seconds"]))
        while True:
            self.stdout.write(json.dumps(delivery_tick(), sort_keys=True, default=str))
            if options["mode"] == "tick":
                return
            time.sleep(every)
