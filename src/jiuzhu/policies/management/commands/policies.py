"""`jiuzhu policies install-defaults --county C` and `jiuzhu policies match`."""

from __future__ import annotations

import datetime
import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from jiuzhu.engine.rules import RuleError


class Command(BaseCommand):
    help = "The policy library: install the defaults for a county, run a matching pass."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        install = sub.add_parser("install-defaults", help="the default library for a county")
        install.add_argument("--county", required=True, help="6-digit county code")
        run = sub.add_parser("match", help="find households for every policy with a rule")
        run.add_argument("--as-of", type=datetime.date.fromisoformat, default=None)
        run.add_argument(
            "--snapshot", type=Path, default=None, help="use this snapshot, do not write one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "install-defaults":
            from jiuzhu.policies.services.matching import policies_install_defaults

            try:
                added = policies_install_defaults(county_code=options["county"])
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from exc
            self.stdout.write(json.dumps({"county": options["county"], "added": added}))
            return
        from jiuzhu.policies.services.matching import policies_match_run

        def progress(step: str) -> None:
            if sys.stderr.isatty():
                self.stderr.write(f"  {step}", ending="\r")
            else:
                self.stderr.write(step)

        try:
            run = policies_match_run(
                as_of=options["as_of"], snapshot=options["snapshot"], progress=progress
            )
        except (RuleError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            json.dumps(
                {
                    "run": run.pk,
                    "as_of": run.as_of.isoformat(),
                    "households": run.households,
                    "policies": len(run.policies),
                    "counts": run.counts,
                    "seconds": run.seconds,
                    "errors": run.error or None,
                },
                ensure_ascii=False,
            )
        )
