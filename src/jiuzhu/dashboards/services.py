"""The statistics pages' one write: the audit record of an Excel export.

The workbook holds every table of the page, one sheet per table, numbers as numbers.
Only aggregates and organisations' names are in it (no person), so whoever may open the
page may export it; every export is audited (who, which page, which period)."""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.http import HttpRequest
from openpyxl import Workbook

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.services import audit_record

from .tables import Link, Page

SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def _cell(value: Any) -> Any:
    if isinstance(value, Link):
        value = value.text
    if value is None:
        return ""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    # No spreadsheet formula from data (CSV/Excel injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def workbook_bytes(page: Page, *, heading: str) -> bytes:
    """One sheet per table: the page's heading, the table's title, the header, the rows."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    used: set[str] = set()
    for index, table in enumerate(page.tables, start=1):
        name = table.title.translate(SHEET_FORBIDDEN)[:28] or str(index)
        if name in used:
            name = f"{name[:25]} {index}"
        used.add(name)
        sheet = workbook.create_sheet(title=name)
        sheet.append([_cell(heading)])
        sheet.append([_cell(table.title)])
        sheet.append([_cell(h) for h in table.header])
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
        if not table.rows and table.empty:
            sheet.append([_cell(table.empty)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def statistics_export(
    *,
    actor: User,
    page: Page,
    heading: str,
    object_type: str,
    object_id: int | None = None,
    region_code: str,
    request: HttpRequest | None = None,
    start: datetime.date,
    end: datetime.date,
) -> tuple[bytes, str]:
    """The page's tables as an Excel workbook and its file name; audited as an export."""
    content = workbook_bytes(page, heading=heading)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=object_type,
        object_id="" if object_id is None else object_id,
        request=request,
        region_code=region_code,
        detail={
            "start": start.isoformat(),
            "end": end.isoformat(),
            "tables": [t.key for t in page.tables],
            "rows": sum(len(t.rows) for t in page.tables),
        },
    )
    slug = object_type.split(".")[-1]
    where = region_code or (str(object_id) if object_id is not None else "all")
    return content, f"{slug}-{where}-{start}-{end}.xlsx"


__all__ = ["statistics_export", "workbook_bytes"]
