"""``jiuzhu monitor run|escalate|schedule|rules``.

* ``run [--engine duckdb|spark] [--incremental] [--as-of DATE]`` — one pass.
* ``escalate`` — move overdue warnings up a tier (also done at the end of every run).
* ``schedule [--at HH:MM] [--every-minutes N]`` — a loop for a service manager: a full
  pass once a day at ``--at`` followed by a policy matching pass on its snapshot,
  escalation and an incremental pass every N minutes.
* ``rules`` — the rules of the pack with their versions and parameters.
"""

from __future__ import annotations

import argparse
import datetime
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from jiuzhu.engine.rules import RuleError
from jiuzhu.monitoring.models import MonitoringRun
from jiuzhu.monitoring.services import (
    monitoring_run,
    rule_pack,
    warnings_escalate,
)


class Command(BaseCommand):
    help = "Monitoring: run the rule pack, escalate overdue warnings, or loop on a schedule."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="one monitoring pass")
        run.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
        run.add_argument("--incremental", action="store_true", help="only touched households")
        run.add_argument("--as-of", default=None, help="run date, YYYY-MM-DD (default today)")
        sub.add_parser("escalate", help="escalate overdue warnings")
        schedule = sub.add_parser("schedule", help="run daily (and incrementally) forever")
        schedule.add_argument("--at", default="02:00", help="time of the daily full pass")
        schedule.add_argument("--every-minutes", type=int, default=15)
        schedule.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
        sub.add_parser("rules", help="list the rules of the pack")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "run":
                self._run(options)
            elif action == "escalate":
                self.stdout.write(f"escalated: {warnings_escalate()}")
            elif action == "schedule":
                self._schedule(options)
            else:
                self._rules()
        except RuleError as exc:
            raise CommandError(f"规则包有误：{exc}") from exc

    def _run(self, options: dict[str, Any]) -> None:
        as_of = None
        if options["as_of"]:
            try:
                as_of = datetime.date.fromisoformat(options["as_of"])
            except ValueError as exc:
                raise CommandError("--as-of must be a date, YYYY-MM-DD") from exc
        record = monitoring_run(
            engine=options["engine"], as_of=as_of, incremental=options["incremental"]
        )
        self._report(record)

    def _report(self, record: MonitoringRun) -> None:
        total = sum(record.candidate_counts.values())
        self.stdout.write(
            f"run {record.pk}: {record.mode} on {record.engine}, as of {record.as_of}; "
            f"{total} candidates, {record.new_warnings} new warnings"
        )
        if record.households_considered is not None:
            self.stdout.write(f"  households considered: {record.households_considered}")
        for rule_id, count in sorted(record.candidate_counts.items()):
            seconds = record.seconds.get(f"rule:{rule_id}", 0.0)
            self.stdout.write(f"  {rule_id:<26} {count:>8}  {seconds:6.2f} s")
        for stage in ("snapshot", "load", "raise"):
            if stage in record.seconds:
                self.stdout.write(f"  {stage:<26} {record.seconds[stage]:15.2f} s")
        for feed_id, window in sorted(record.feed_windows.items()):
            since = (window.get("since") or "…")[:10]
            until = (window.get("until") or "…")[:10]
            self.stdout.write(f"  read {feed_id:<21} {since} – {until}")

    def _schedule(self, options: dict[str, Any]) -> None:
        try:
            at = datetime.time.fromisoformat(options["at"])
        except ValueError as exc:
            raise CommandError("--at must be HH:MM") from exc
        every = max(1, int(options["every_minutes"]))
        self.stdout.write(f"monitoring schedule: full pass daily at {at}, every {every} min")
        while True:
            now = timezone.localtime()
            last_full = (
                MonitoringRun.objects.filter(
                    mode=MonitoringRun.Mode.FULL, status=MonitoringRun.Status.SUCCEEDED
                )
                .order_by("-started_at")
                .first()
            )
            due = now.time() >= at and (
                last_full is None or timezone.localtime(last_full.started_at).date() < now.date()
            )
            record = monitoring_run(incremental=not due, trigger="schedule")
            self._report(record)
            if due and record.status == MonitoringRun.Status.SUCCEEDED:
                self._policies(record.as_of)
            if options["once"]:
                return
            time.sleep(every * 60)

    def _policies(self, as_of: datetime.date) -> None:
        """Policies find people once a day, on the snapshot the full pass just wrote."""
        from django.conf import settings

        from jiuzhu.policies.services.matching import policies_match_run

        snapshot = Path(settings.VAR_DIR) / "monitoring" / "snapshot"
        try:
            run = policies_match_run(as_of=as_of, snapshot=snapshot)
        except (RuleError, OSError) as exc:
            self.stderr.write(f"policy matching failed: {exc}")
            return
        found = sum(sum(c.values()) for c in run.counts.values())
        self.stdout.write(f"policy matching: {found} matches over {run.households} households")

    def _rules(self) -> None:
        pack = rule_pack()
        for rule in pack.rules:
            self.stdout.write(f"{rule.id} v{rule.version}  {rule.name_zh} / {rule.name_en}")
            deadlines = ", ".join(f"{lv} {h} h" for lv, h in rule.deadline_hours.items())
            self.stdout.write(f"  levels: {deadlines}; scope: {rule.scope}")
            for p in rule.parameters:
                default = p.default if p.type != "text_list" else ",".join(p.default)
                self.stdout.write(f"  - {p.name} = {default} {p.unit}  ({p.label_zh})")
