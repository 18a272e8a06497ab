from __future__ import annotations

import datetime
import json
import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from jiuzhu.accounts.demo import demo_accounts_ensure
from jiuzhu.applications.demo import demo_applications_seed
from jiuzhu.assessment.demo import seed_demo as assessment_seed_demo
from jiuzhu.core.demo_month import seed_month
from jiuzhu.feeds.services import feed_import
from jiuzhu.monitoring.services import monitoring_run
from jiuzhu.policies.demo import demo_policies_seed
from jiuzhu.regions.services import regions_load_demo_county
from jiuzhu.registry.models import Household
from jiuzhu.services.demo import seed_demo as services_seed_demo
from jiuzhu.services.demo_delivery import seed_delivery


class Command(BaseCommand):
    help = (
        "Set up and serve the demo: migrate, demo accounts (one per role), the demo county "
        "with a synthetic population, then serve on 127.0.0.1:${PORT:-8000}."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--households", type=int, default=10000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-serve", action="store_true", help="set up only")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("数据库已就绪 / database ready")
        regions_load_demo_county()
        logins = demo_accounts_ensure()
        out = Path(settings.VAR_DIR) / "demo" / f"synth-{options['seed']}"
        if not Household.objects.filter(region__code__startswith="360823").exists():
            # As of today, so the feeds cover the last twelve months and warnings are fresh.
            call_command(
                "synth",
                households=options["households"],
                seed=options["seed"],
                out=str(out),
                region="360823",
                load=True,
                as_of=timezone.localdate().isoformat(),
                stdout=self.stdout,
            )
        self._import_feeds(out / "feeds")
        record = monitoring_run(trigger="demo", as_of=self._as_of(out))
        self.stdout.write(
            f"动态监测已运行 / monitoring ran: {sum(record.candidate_counts.values())} "
            f"candidates, {record.new_warnings} new warnings"
        )
        seeded = demo_applications_seed()
        if seeded:
            self.stdout.write(f"救助申请示例 / demo applications: {seeded}")
        assessment_seed_demo(county_code="360823")
        services_seed_demo(county_code="360823")
        delivery = seed_delivery(county_code="360823")
        self.stdout.write(
            "服务递送 / service delivery: "
            + ", ".join(f"{key} {value}" for key, value in delivery["summary"].items())
        )
        month = seed_month(county_code="360823")
        lights = month["lights"].get("lights", {})
        self.stdout.write(
            f"监管与资金 / supervision and funds: {month['orders']} orders of history, "
            f"{month['revisits']} revisits, {month['projects']} projects, "
            f"{sum(1 for v in lights.values() if v == 'yellow')} yellow and "
            f"{sum(1 for v in lights.values() if v == 'red')} red providers, "
            f"{month['funds'].get('orders_posted', 0)} order costs posted"
        )
        added, policy_run = demo_policies_seed(as_of=self._as_of(out))
        found = sum(sum(c.values()) for c in policy_run.counts.values())
        self.stdout.write(
            f"政策找人 / policy matching: {added} policies added, {found} matches over "
            f"{policy_run.households} households"
        )
        port = os.environ.get("PORT", "8000")
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write("")
        self.stdout.write(f"演示账号 / demo logins  ({url})")
        width = max(len(login.username) for login in logins)
        for login in logins:
            self.stdout.write(
                f"  {login.username.ljust(width)}  {login.password}  "
                f"{login.role.label} · {login.region}"
            )
        for login in delivery["logins"]:
            self.stdout.write(
                f"  {login['username']}  {login['password']}  {login['role']}"
                + (f" · {login['provider']}" if login.get("provider") else "")
            )
        self.stdout.write("")
        if options["no_serve"]:
            return
        call_command("serve", port=int(port))

    def _import_feeds(self, directory: Path) -> None:
        """The synthetic department files go through the real importer (quarantine,
        history); files already imported answer "duplicate" and change nothing."""
        if not directory.is_dir():
            return
        for path in sorted(directory.glob("*.parquet")):
            batch = feed_import(
                feed_id=path.stem,
                file_name=path.name,
                content=path.read_bytes(),
                actor=None,
                today=self._as_of(directory.parent),
            )
            self.stdout.write(
                f"  {path.stem}: {batch.status}, {batch.rows_accepted} accepted, "
                f"{batch.rows_quarantined} quarantined"
            )

    @staticmethod
    def _as_of(out: Path) -> datetime.date:
        manifest = out / "feeds" / "manifest.json"
        if manifest.exists():
            return datetime.date.fromisoformat(json.loads(manifest.read_text())["as_of"])
        return timezone.localdate()
