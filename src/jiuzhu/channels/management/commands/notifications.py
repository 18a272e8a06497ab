"""``jiuzhu notifications retry [--force]``: send again the SMS that failed.

Run it from the scheduler every few minutes. Each failed message waits 1, 2, 4 … minutes
(at most an hour) after its last attempt, up to ``JIUZHU_SMS_MAX_ATTEMPTS`` attempts;
``--force`` ignores the waiting. Prints one JSON object with the counts.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from jiuzhu.channels.notifications import notifications_retry


class Command(BaseCommand):
    help = "Notifications: retry SMS that failed."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        retry = sub.add_parser("retry", help="send failed SMS again")
        retry.add_argument("--force", action="store_true", help="ignore the back-off")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = notifications_retry(force=options["force"])
        self.stdout.write(json.dumps(counts, sort_keys=True))
