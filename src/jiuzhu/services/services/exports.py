"""Excel and CSV of the three lists (服务对象、服务需求、服务项目清单), audited as exports.
Names are masked; no ID or phone number is ever read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.tabular import write_csv, write_xlsx
from jiuzhu.services import choices as c
from jiuzhu.services.lists import (
    NO_PLAN,
    ROW_LIMIT,
    ListFilters,
    needs_list,
    objects_list,
    projects_list,
)

LISTS = ("objects", "needs", "projects")


def _number(value: Any) -> float | int:
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def _town(region: Any) -> str:
    parent = getattr(region, "parent", None)
    return parent.name if parent is not None else ""


def plan_status_label(status: str) -> str:
    if status == NO_PLAN:
        return _("no plan")
    return str(c.PlanStatus(status).label)


def list_rows(*, user: User, kind: str, filters: ListFilters) -> list[list[Any]]:
    """The list as spreadsheet rows, header first."""
    if kind == "objects":
        header = [
            _("No."), _("Town"), _("Village"), _("Household"), _("Head of household"),
            _("Person assessed"), _("Instrument"), _("Score"), _("Tier"), _("Colour"),
            _("Assessed on"), _("Needs"), _("Plan status"), _("Entitlement"), _("Chosen"),
            _("Unit"),
        ]  # fmt: skip
        rows: list[list[Any]] = [header]
        for n, row in enumerate(objects_list(user, filters), start=1):
            a = row.assessment
            plan = row.plan
            rows.append(
                [
                    n,
                    _town(a.region),
                    a.region.name,
                    a.household.number,
                    a.household.head_name_masked,
                    a.person.name_masked if a.person else "",
                    a.instrument_version.instrument.name,
                    _number(a.score),
                    row.tier_label,
                    a.colour,
                    a.assessed_at.date().isoformat(),
                    len(a.needs),
                    plan_status_label(row.plan_status),
                    _number(plan.total) if plan else "",
                    _number(getattr(plan, "chosen", 0) or 0) if plan else "",
                    str(c.EntitlementUnit(plan.unit).label) if plan else "",
                ]
            )
        return rows
    if kind == "needs":
        header = [
            _("No."), _("Town"), _("Village"), _("Household"), _("Head of household"),
            _("Person assessed"), _("Dimension"), _("Indicator"), _("Tier"), _("Colour"),
            _("Assessed on"), _("Answered by the plan"), _("Services chosen"),
        ]  # fmt: skip
        rows = [header]
        for n, need in enumerate(needs_list(user, filters), start=1):
            a = need.assessment
            rows.append(
                [
                    n,
                    _town(a.region),
                    a.region.name,
                    a.household.number,
                    a.household.head_name_masked,
                    a.person.name_masked if a.person else "",
                    need.dimension_label,
                    need.indicator_label,
                    need.tier_label,
                    a.colour,
                    a.assessed_at.date().isoformat(),
                    _("yes") if need.answered else _("no"),
                    "、".join(need.answered_by),
                ]
            )
        return rows
    if kind == "projects":
        header = [
            _("No."), _("Town"), _("Village"), _("Household"), _("Head of household"),
            _("Service"), _("Category"), _("Catalogue tier"), _("Quantity"), _("Unit"),
            _("Unit price"), _("Amount (yuan)"), _("Stage"), _("Plan status"), _("Chosen by"),
            _("Chosen on"),
        ]  # fmt: skip
        rows = [header]
        items = projects_list(user, filters)[:ROW_LIMIT]
        for n, chosen in enumerate(items, start=1):
            plan = chosen.plan
            rows.append(
                [
                    n,
                    _town(plan.region),
                    plan.region.name,
                    plan.household.number,
                    plan.household.head_name_masked,
                    chosen.item.name_zh,
                    str(c.Category(chosen.item.category).label),
                    str(c.Tier(chosen.item.tier).label),
                    _number(chosen.quantity),
                    str(c.Unit(chosen.item.unit).label),
                    _number(chosen.unit_price),
                    _number(chosen.amount),
                    chosen.stage,
                    plan_status_label(plan.status),
                    str(c.ChosenBy(chosen.chosen_by).label),
                    timezone.localtime(chosen.added_at).date().isoformat(),
                ]
            )
        return rows
    raise ValueError(kind)


LIST_TITLES = {
    "objects": "服务对象清单",
    "needs": "服务需求清单",
    "projects": "服务项目清单",
}


def list_export(
    *, actor: User, kind: str, filters: ListFilters, file_format: str = "xlsx"
) -> tuple[bytes, str]:
    """One of the three lists as a file for the user's area; audited (who, which list,
    which filters, how many rows)."""
    if not user_has_perm(actor, Perm.EXPORT) or kind not in LISTS:
        raise PermissionDenied(_("You may not export this list."))
    rows = list_rows(user=actor, kind=kind, filters=filters)
    title = LIST_TITLES[kind]
    content = write_csv(rows) if file_format == "csv" else write_xlsx(rows, title=title)
    stamp = timezone.localdate().strftime("%Y%m%d")
    name = f"{kind}-{actor.region_id or 'all'}-{stamp}.{'csv' if file_format == 'csv' else 'xlsx'}"
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=f"services.list_{kind}",
        region_code=actor.region_id or "",
        detail={
            "list": kind,
            "filters": filters.as_dict(),
            "rows": len(rows) - 1,
            "format": file_format,
        },
    )
    return content, name
