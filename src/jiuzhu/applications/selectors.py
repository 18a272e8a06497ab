"""Reads of the applications app: standards in force, kinds on offer, applications in
scope."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from jiuzhu.accounts.scoping import get_scoped_or_404, region_in_scope, scoped
from jiuzhu.applications.models import Application, AssistanceKind, Standard
from jiuzhu.core.dates import first_of_next_month
from jiuzhu.regions.models import Region
from jiuzhu.registry.choices import Category
from jiuzhu.registry.selectors import enrolments_in_area


class StandardMissing(LookupError):
    pass


@dataclass(frozen=True)
class StandardInForce:
    name: str
    value: Decimal
    region: str  # "" = national default
    area_type: str  # "" = both
    valid_from: datetime.date
    row_id: int

    def as_json(self) -> dict[str, Any]:
        return {
            "value": format(self.value.normalize(), "f"),
            "region": self.region,
            "area_type": self.area_type,
            "valid_from": self.valid_from.isoformat(),
            "id": self.row_id,
        }


def region_prefixes(region_code: str) -> list[str]:
    """The codes of a region and all above it (2/4/6/9/12 digits)."""
    return [region_code[:n] for n in (2, 4, 6, 9, 12) if len(region_code) >= n]


def standard_in_force(
    name: str, *, region_code: str, area_type: str, on: datetime.date
) -> StandardInForce:
    """The value of a standard for a household of ``region_code`` and ``area_type`` on
    day ``on``: longest region prefix first, then the household's own urban/rural row
    before one for both, then the latest ``valid_from``."""
    rows = Standard.objects.filter(
        Q(region__isnull=True) | Q(region_id__in=region_prefixes(region_code)),
        name=name,
        area_type__in=[area_type, ""],
        valid_from__lte=on,
    )
    best = max(
        rows,
        key=lambda r: (len(r.region_id or ""), r.area_type == area_type, r.valid_from, r.pk),
        default=None,
    )
    if best is None:
        raise StandardMissing(f"no {name} standard for {region_code} ({area_type}) on {on}")
    return StandardInForce(
        name=name,
        value=best.value,
        region=best.region_id or "",
        area_type=best.area_type,
        valid_from=best.valid_from,
        row_id=best.pk,
    )


def kinds_available(region_code: str) -> QuerySet[AssistanceKind]:
    """Built-in kinds and those a county (or town) above this region added."""
    return AssistanceKind.objects.filter(
        Q(region__isnull=True) | Q(region_id__in=region_prefixes(region_code)),
        is_active=True,
    )


def applications_visible(user: Any) -> QuerySet[Application]:
    return scoped(user, Application.objects.select_related("household", "applicant"))


def application_get(*, user: Any, application_id: int) -> Application:
    """404 when missing or out of the user's area."""
    return get_scoped_or_404(
        user,
        Application.objects.select_related("household", "applicant", "region"),
        pk=application_id,
    )


@dataclass(frozen=True)
class LedgerRow:
    category: str  # the national category's label
    area: str  # the town or village (or the area itself)
    households: int  # enrolled during the month
    monthly_amount: Decimal  # the month's amounts of those enrolments
    added: int  # enrolments that started in the month
    exited: int  # enrolments that ended in the month


def ledger(*, user: Any, region_code: str, month: datetime.date) -> list[LedgerRow]:
    """The month's ledger (台账) of an area: per national category and per area one level
    down, households enrolled, the month's amount, additions and exits. Counts only: no
    person appears in it."""
    if not region_in_scope(user, region_code):
        raise PermissionDenied(_("This area is outside yours."))
    month = month.replace(day=1)
    end = first_of_next_month(month)
    down = {6: 9, 9: 12}.get(len(region_code), len(region_code))
    enrolments = enrolments_in_area(region_code=region_code).filter(start_date__lt=end)
    running = enrolments.filter(Q(end_date__isnull=True) | Q(end_date__gte=month))
    labels = dict(Category.choices)
    names = dict(Region.objects.filter(code__startswith=region_code).values_list("code", "name"))
    cells: dict[tuple[str, str], dict[str, Any]] = {}

    def cell(category: str, region: str) -> dict[str, Any]:
        key = (category, region[:down])
        return cells.setdefault(
            key, {"households": set(), "amount": Decimal(0), "added": 0, "exited": 0}
        )

    for category, region, household, amount, start, stop in running.values_list(
        "category",
        "household__region_id",
        "household_id",
        "monthly_amount",
        "start_date",
        "end_date",
    ):
        entry = cell(category, region)
        entry["households"].add(household)
        entry["amount"] += amount or Decimal(0)
        if start >= month:
            entry["added"] += 1
        if stop is not None and month <= stop < end:
            entry["exited"] += 1
    return [
        LedgerRow(
            category=str(labels.get(category, category)),
            area=names.get(area, area),
            households=len(entry["households"]),
            monthly_amount=entry["amount"],
            added=entry["added"],
            exited=entry["exited"],
        )
        for (category, area), entry in sorted(cells.items())
    ]


def ledger_rows(rows: list[LedgerRow]) -> list[list[Any]]:
    """The ledger as a sheet: header, rows, total."""
    sheet: list[list[Any]] = [
        ["救助类别", "地区", "在保户数", "月发放金额（元）", "本月新增", "本月退出"]
    ]
    for row in rows:
        sheet.append(
            [row.category, row.area, row.households, row.monthly_amount, row.added, row.exited]
        )
    sheet.append(
        [
            "合计",
            "",
            sum(r.households for r in rows),
            sum((r.monthly_amount for r in rows), Decimal(0)),
            sum(r.added for r in rows),
            sum(r.exited for r in rows),
        ]
    )
    return sheet
