"""The three lists (Xiajiang's 服务对象清单、服务需求清单、服务项目清单), read for a user's area.

- **objects**: every current assessment (the newest of each instrument, per household
  and person) with its tier and colour and the household's plan status;
- **needs**: each indicator that needs help in those assessments, and whether a choice
  in the household's current plan answers it;
- **projects**: every choice (plan item) of the plans in the area.

Everything is scoped by ``accounts.scoping`` (a village assistant sees their village);
names are masked and no ID or phone number is read.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from jiuzhu.accounts.scoping import scoped
from jiuzhu.assessment.models import Assessment
from jiuzhu.assessment.selectors import assessments_visible, tier_of
from jiuzhu.services import choices as c
from jiuzhu.services.models import PlanItem, ServicePlan
from jiuzhu.services.selectors import indicator_labels_for

NO_PLAN = "none"
ROW_LIMIT = 50_000  # a page shows 50 rows; an export at most this many


@dataclass(frozen=True)
class ListFilters:
    region: str = ""  # town or village code (within the user's area)
    colour: str = ""
    status: str = ""  # plan status, or "none"
    dimension: str = ""
    answered: str = ""  # "yes" / "no"
    category: str = ""  # catalogue category
    tier: str = ""  # catalogue tier
    stage: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            k: (v.isoformat() if isinstance(v, datetime.date) else v)
            for k, v in self.__dict__.items()
            if v not in ("", None)
        }


def current_assessments(user: Any, filters: ListFilters) -> QuerySet[Assessment]:
    """The newest assessment of each instrument (by code: a county's copy supersedes the
    national one) for each household and person, in the user's area."""
    who = Coalesce("person_id", Value(0), output_field=BigIntegerField())
    newer = (
        Assessment.objects.filter(
            household_id=OuterRef("household_id"),
            instrument_version__instrument__code=OuterRef("instrument_version__instrument__code"),
        )
        .annotate(who=who)
        .filter(who=OuterRef("who"))
        .filter(
            Q(assessed_at__gt=OuterRef("assessed_at"))
            | Q(assessed_at=OuterRef("assessed_at"), pk__gt=OuterRef("pk"))
        )
    )
    queryset = (
        assessments_visible(user)
        .select_related("region__parent")
        .annotate(who=who)
        .filter(~Exists(newer))
    )
    if filters.region:
        queryset = queryset.filter(region__code__startswith=filters.region)
    if filters.colour:
        queryset = queryset.filter(colour=filters.colour)
    if filters.date_from:
        queryset = queryset.filter(assessed_at__date__gte=filters.date_from)
    if filters.date_to:
        queryset = queryset.filter(assessed_at__date__lte=filters.date_to)
    if filters.status:
        plans = ServicePlan.objects.filter(household_id=OuterRef("household_id"))
        open_plans = plans.exclude(status=c.PlanStatus.CLOSED)
        if filters.status == NO_PLAN:
            queryset = queryset.filter(~Exists(plans))
        elif filters.status == c.PlanStatus.CLOSED:
            queryset = queryset.filter(Exists(plans), ~Exists(open_plans))
        elif filters.status in c.PlanStatus.values:
            queryset = queryset.filter(Exists(plans.filter(status=filters.status)))
    return queryset.order_by("region_id", "household__number", "-assessed_at", "-id")


def _plans_by_household(household_ids: Iterable[int]) -> dict[int, ServicePlan]:
    """Each household's current plan, or its latest closed one."""
    chosen: dict[int, ServicePlan] = {}
    plans = (
        ServicePlan.objects.filter(household_id__in=list(household_ids))
        .annotate(chosen=Sum("items__charge", filter=Q(items__removed_at__isnull=True)))
        .order_by("created_at", "id")
    )
    for plan in plans:
        current = chosen.get(plan.household_id)
        if current is None or current.status == c.PlanStatus.CLOSED:
            chosen[plan.household_id] = plan
    return chosen


def _tier_label(assessment: Assessment, cache: dict[tuple[int, str], str]) -> str:
    key = (assessment.instrument_version_id, assessment.tier)
    if key not in cache:
        try:
            tier = tier_of(assessment.instrument_version, assessment.tier)
        except ValueError:
            tier = None
        cache[key] = tier.label if tier is not None else assessment.tier
    return cache[key]


@dataclass(frozen=True)
class ObjectRow:
    assessment: Assessment
    tier_label: str
    plan: ServicePlan | None

    @property
    def plan_status(self) -> str:
        return self.plan.status if self.plan is not None else NO_PLAN


def objects_list(user: Any, filters: ListFilters) -> list[ObjectRow]:
    assessments = list(current_assessments(user, filters)[:ROW_LIMIT])
    plans = _plans_by_household({a.household_id for a in assessments})
    cache: dict[tuple[int, str], str] = {}
    return [ObjectRow(a, _tier_label(a, cache), plans.get(a.household_id)) for a in assessments]


@dataclass(frozen=True)
class NeedRow:
    assessment: Assessment
    tier_label: str
    indicator: str
    dimension_label: str
    indicator_label: str
    answered_by: list[str]  # names of the current plan's choices that answer it

    @property
    def answered(self) -> bool:
        return bool(self.answered_by)


def _version_indicators(assessment: Assessment) -> dict[str, tuple[str, str, str]]:
    """indicator → (dimension code, dimension label, indicator label) for the assessment's
    instrument version (the contract's codes when the definition cannot be read)."""
    from jiuzhu.assessment.selectors import parsed
    from jiuzhu.services.indicators import indicator_dimensions

    labels = indicator_labels_for(assessment)
    dimensions = indicator_dimensions()
    try:
        definition = parsed(assessment.instrument_version)
        dimensions.update({i.code: i.dimension for i in definition.indicators})
    except ValueError:
        pass
    return {
        code: (dimensions.get(code, ""), dimension, label)
        for code, (dimension, label) in labels.items()
    }


def needs_list(user: Any, filters: ListFilters) -> list[NeedRow]:
    assessments = list(current_assessments(user, filters)[:ROW_LIMIT])
    answers: dict[tuple[int, str], list[str]] = {}
    for household_id, indicator, name in (
        PlanItem.objects.filter(
            plan__household_id__in={a.household_id for a in assessments},
            removed_at__isnull=True,
        )
        .exclude(plan__status=c.PlanStatus.CLOSED)
        .values_list("plan__household_id", "indicator", "item__name_zh")
    ):
        answers.setdefault((household_id, indicator), []).append(name)
    versions: dict[int, dict[str, tuple[str, str, str]]] = {}
    tiers: dict[tuple[int, str], str] = {}
    rows: list[NeedRow] = []
    for assessment in assessments:
        if assessment.instrument_version_id not in versions:
            versions[assessment.instrument_version_id] = _version_indicators(assessment)
        indicators = versions[assessment.instrument_version_id]
        for code in assessment.needs:
            dimension_code, dimension, label = indicators.get(code, ("", "", code))
            if filters.dimension and dimension_code != filters.dimension:
                continue
            answered_by = answers.get((assessment.household_id, code), [])
            if filters.answered == "yes" and not answered_by:
                continue
            if filters.answered == "no" and answered_by:
                continue
            rows.append(
                NeedRow(
                    assessment=assessment,
                    tier_label=_tier_label(assessment, tiers),
                    indicator=code,
                    dimension_label=dimension,
                    indicator_label=label,
                    answered_by=answered_by,
                )
            )
            if len(rows) >= ROW_LIMIT:
                return rows
    return rows


def projects_list(user: Any, filters: ListFilters) -> QuerySet[PlanItem]:
    queryset = scoped(
        user,
        PlanItem.objects.filter(removed_at__isnull=True).select_related(
            "item", "plan__household", "plan__region__parent"
        ),
    )
    if filters.region:
        queryset = queryset.filter(plan__region__code__startswith=filters.region)
    if filters.colour:
        queryset = queryset.filter(plan__colour=filters.colour)
    if filters.status in c.PlanStatus.values:
        queryset = queryset.filter(plan__status=filters.status)
    if filters.category:
        queryset = queryset.filter(item__category=filters.category)
    if filters.tier:
        queryset = queryset.filter(item__tier=filters.tier)
    if filters.stage:
        queryset = queryset.filter(stage=filters.stage)
    if filters.date_from:
        queryset = queryset.filter(added_at__date__gte=filters.date_from)
    if filters.date_to:
        queryset = queryset.filter(added_at__date__lte=filters.date_to)
    return queryset.order_by("plan__region_id", "plan__household__number", "stage", "id")


def totals(items: Iterable[PlanItem]) -> dict[str, Decimal]:
    rows = list(items)
    return {
        "amount": sum((Decimal(i.amount) for i in rows), Decimal(0)),
        "count": Decimal(len(rows)),
    }
