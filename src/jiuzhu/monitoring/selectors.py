"""Monitoring reads, always scoped to the user who asks (accounts.scoping)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from jiuzhu.accounts.scoping import get_scoped_or_404, scoped
from jiuzhu.monitoring.models import ParameterOverride, Warning

_URGENCY = Case(
    When(level="red", then=Value(0)),
    When(level="yellow", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


# Open warnings by age: (name, newer than … days, older than … days)
AGE_BANDS = (
    ("under_1_day", 0, 1),
    ("1_to_3_days", 1, 3),
    ("3_to_7_days", 3, 7),
    ("over_7_days", 7, None),
)


@dataclass(frozen=True)
class WorklistFilter:
    status: str = "active"  # active | closed | all
    level: str = ""
    rule_id: str = ""
    region_code: str = ""
    mine: bool = False


def worklist(*, user: Any, filters: WorklistFilter) -> QuerySet[Warning]:
    """Warnings the user may see, most urgent first: overdue, then by level and deadline."""
    qs = scoped(user, Warning.objects.select_related("household", "assigned_to"))
    if filters.status == "active":
        qs = qs.exclude(status=Warning.Status.CLOSED)
    elif filters.status == "closed":
        qs = qs.filter(status=Warning.Status.CLOSED)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.rule_id:
        qs = qs.filter(rule_id=filters.rule_id)
    if filters.region_code.isdigit():
        qs = qs.filter(region__code__startswith=filters.region_code)
    if filters.mine:
        qs = qs.filter(assigned_to=user)
    now = timezone.now()
    overdue = Case(
        When(due_at__lt=now, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return qs.annotate(overdue_first=overdue, urgency=_URGENCY).order_by(
        "overdue_first", "urgency", "due_at", "id"
    )


def warning_get(*, user: Any, warning_id: int) -> Warning:
    return get_scoped_or_404(
        user,
        Warning.objects.select_related("household", "assigned_to", "run", "region"),
        pk=warning_id,
    )


def dashboard(*, user: Any, now: datetime.datetime | None = None) -> dict[str, Any]:
    """Counts of the warnings the user may see: by level, rule, town and age."""
    now = now or timezone.now()
    qs = scoped(user, Warning.objects.all())
    active = qs.exclude(status=Warning.Status.CLOSED)
    by_level = dict(active.values_list("level").annotate(n=Count("id")).order_by())
    by_rule = list(
        qs.values("rule_id")
        .annotate(
            total=Count("id"),
            active=Count("id", filter=~Q(status=Warning.Status.CLOSED)),
            overdue=Count("id", filter=~Q(status=Warning.Status.CLOSED) & Q(due_at__lt=now)),
        )
        .order_by("-active", "rule_id")
    )
    towns: dict[str, dict[str, int]] = {}
    for region_id, level, n in (
        active.values_list("region_id", "level").annotate(n=Count("id")).order_by()
    ):
        town = towns.setdefault(region_id[:9], {"red": 0, "yellow": 0, "blue": 0, "total": 0})
        town[level] += n
        town["total"] += n

    def raised_between(newest_days: int, oldest_days: int | None) -> Q:
        condition = Q()
        if newest_days:
            condition &= Q(raised_at__lt=now - datetime.timedelta(days=newest_days))
        if oldest_days is not None:
            condition &= Q(raised_at__gte=now - datetime.timedelta(days=oldest_days))
        return condition

    # One query for all four bands.
    ages = active.aggregate(
        **{
            name: Count("id", filter=raised_between(newest, oldest))
            for name, newest, oldest in AGE_BANDS
        }
    )
    outcomes = dict(
        qs.filter(status=Warning.Status.CLOSED)
        .values_list("outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "by_level": by_level,
        "by_rule": by_rule,
        "by_town": dict(sorted(towns.items())),
        "by_age": ages,
        "outcomes": outcomes,
        "active": active.count(),
        "overdue": active.filter(due_at__lt=now).count(),
        "escalated": active.filter(tier__gt=Warning.Tier.VILLAGE).count(),
    }


def overrides_history(*, rule_id: str | None = None) -> QuerySet[ParameterOverride]:
    qs = ParameterOverride.objects.select_related("created_by", "retired_by", "region")
    if rule_id:
        qs = qs.filter(rule_id=rule_id)
    return qs.order_by("rule_id", "parameter", "region_id", "-created_at")


def warnings_of_rules(
    *, rule_ids: Sequence[str], household_ids: Sequence[int]
) -> QuerySet[Warning]:
    """Warnings of these rules on these households (for other apps' background work, such
    as opening a re-check of an enrolment when an exit-review rule fires)."""
    return Warning.objects.filter(rule_id__in=list(rule_ids), household_id__in=list(household_ids))
