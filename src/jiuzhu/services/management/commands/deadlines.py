"""``jiuzhu deadlines``: one escalation pass over overdue needs and orders.

Run it from the scheduler (every 15 minutes is plenty: a row rises at most once a day).
Prints one JSON object: how many needs and orders were escalated, to which levels, and
how many people were told. See docs/channels.md (Deadlines).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from jiuzhu.services.services.deadlines import deadlines_escalate


class Command(BaseCommand):
    help = "Escalate overdue needs and orders (one pass)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(deadlines_escalate(), sort_keys=True))
