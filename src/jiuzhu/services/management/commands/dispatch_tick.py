"""``jiuzhu dispatch_tick``: one dispatch pass for the scheduler.

Offers nobody answered in time expire and their orders are offered to the next best
provider; then every pending order is dispatched by the optimiser. Run it every minute
or two (a critical order's offer waits 10 minutes by default). Prints one JSON object:
how many offers expired, how many orders were offered, how many still wait for a
provider. See docs/dispatch.md.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from jiuzhu.services.services.dispatch import dispatch_tick


class Command(BaseCommand):
    help = "Expire unanswered offers and dispatch pending orders (one pass)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(dispatch_tick(), sort_keys=True))
