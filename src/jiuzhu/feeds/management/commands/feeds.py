from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jiuzhu.feeds.schema import catalogue
from jiuzhu.feeds.services import FeedImportError, feed_import, feed_store_resolve_persons


class Command(BaseCommand):
    help = (
        "Department feeds: `feeds list`, `feeds import FEED FILE` (CSV, XLSX or Parquet), "
        "`feeds resolve-persons`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="the feed catalogue")
        imp = sub.add_parser("import", help="import one department file")
        imp.add_argument("feed")
        imp.add_argument("file", type=Path)
        imp.add_argument("--show", type=int, default=20, help="quarantined rows to print")
        sub.add_parser(
            "resolve-persons",
            help="add the registry person id to files stored before records carried it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for feed in catalogue().values():
                self.stdout.write(
                    f"{feed.id:32} v{feed.version}  {feed.name_zh}  ({feed.department_zh})"
                )
            return
        if options["action"] == "resolve-persons":
            done = feed_store_resolve_persons()
            for feed_id, files in sorted(done.items()):
                self.stdout.write(f"{feed_id}: {files} files rewritten")
            self.stdout.write(f"{sum(done.values())} files rewritten")
            return
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        try:
            batch = feed_import(
                feed_id=options["feed"],
                file_name=path.name,
                content=path.read_bytes(),
                actor=None,
                source="cli",
            )
        except FeedImportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"batch {batch.pk} {batch.status}: rows {batch.rows_total}, accepted "
            f"{batch.rows_accepted}, quarantined {batch.rows_quarantined}, already stored "
            f"{batch.rows_already_stored}{' — ' + batch.message if batch.message else ''}"
        )
        for row in batch.quarantine.all()[: options["show"]]:
            reasons = "；".join(f"{k or '行'}：{v}" for k, v in row.errors.items())
            self.stdout.write(f"  第{row.row_number}行  {reasons}")
