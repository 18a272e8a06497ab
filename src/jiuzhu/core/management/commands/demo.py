from __future__ import annotations

import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from jiuzhu.accounts.demo import demo_accounts_ensure
from jiuzhu.regions.services import regions_load_demo_county
from jiuzhu.registry.models import Household


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
        if not Household.objects.filter(region__code__startswith="360823").exists():
            out = Path(settings.VAR_DIR) / "demo" / f"synth-{options['seed']}"
            call_command(
                "synth",
                households=options["households"],
                seed=options["seed"],
                out=str(out),
                region="360823",
                load=True,
                stdout=self.stdout,
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
        self.stdout.write("")
        if options["no_serve"]:
            return
        call_command("serve", port=int(port))
