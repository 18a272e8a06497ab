"""Reads of the services app. The catalogue and entitlement rules are not personal data
(everyone signed in may read them); plans and the three lists go through accounts.scoping.
"""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from jiuzhu.accounts.scoping import get_scoped_or_404, scoped
from jiuzhu.regions.selectors import national_or_above
from jiuzhu.registry.models import Enrolment
from jiuzhu.registry.selectors import household_members
from jiuzhu.services.choices import PlanStatus, Tier
from jiuzhu.services.groups import fits, household_groups
from jiuzhu.services.indicators import indicator_labels
from jiuzhu.services.models import (
    ConfigRevision,
    EntitlementRule,
    PlanItem,
    ServiceItem,
    ServicePlan,
)


def available_in(region_code: str) -> Q:
    """Configuration offered in a region: the defaults and what a region above it added."""
    return national_or_above(region_code)


def visible_configuration(user: Any) -> Q:
    """What a user sees on the configuration pages: the defaults, what regions above them
    added, and what regions in their area added."""
    area = str(getattr(user, "region_id", "") or "")
    if not area:
        return Q(region__isnull=True)
    return available_in(area) | Q(region__code__startswith=area)


def catalogue_items(
    *,
    user: Any,
    category: str = "",
    tier: str = "",
    indicator: str = "",
    text: str = "",
    include_retired: bool = False,
) -> list[ServiceItem]:
    """The catalogue as a user sees it, filtered. Indicator filtering is done in Python
    (a JSON list; the catalogue has tens of rows, not thousands)."""
    queryset: QuerySet[ServiceItem] = ServiceItem.objects.filter(
        visible_configuration(user)
    ).select_related("region")
    if not include_retired:
        queryset = queryset.filter(is_active=True)
    if category:
        queryset = queryset.filter(category=category)
    if tier:
        queryset = queryset.filter(tier=tier)
    if text:
        queryset = queryset.filter(
            Q(name_zh__icontains=text)
            | Q(name_en__icontains=text)
            | Q(code__icontains=text)
            | Q(description__icontains=text)
        )
    items = list(queryset)
    if indicator:
        items = [i for i in items if indicator in i.indicators]
    return items


def item_get(*, user: Any, item_id: int) -> ServiceItem | None:
    return (
        ServiceItem.objects.filter(visible_configuration(user), pk=item_id)
        .select_related("region")
        .first()
    )


def items_for_region(region_code: str) -> list[ServiceItem]:
    """Items offered to households of a region (active, default or added above it)."""
    return list(ServiceItem.objects.filter(available_in(region_code), is_active=True))


def rules_visible(*, user: Any) -> list[EntitlementRule]:
    return list(
        EntitlementRule.objects.filter(visible_configuration(user)).select_related("region")
    )


def rule_get(*, user: Any, rule_id: int) -> EntitlementRule | None:
    return EntitlementRule.objects.filter(visible_configuration(user), pk=rule_id).first()


def revisions(kind: str, object_id: int) -> list[ConfigRevision]:
    return list(
        ConfigRevision.objects.filter(kind=kind, object_id=object_id)
        .select_related("changed_by")
        .order_by("-number")
    )


def indicator_catalogue() -> dict[str, tuple[str, str]]:
    """indicator code → (dimension label, indicator label): the contract's indicators and
    those of every instrument the assessment app holds (a county's own instrument may add
    indicators)."""
    labels = dict(indicator_labels())
    labels.update(_instrument_indicator_labels())
    return labels


def _instrument_indicator_labels() -> dict[str, tuple[str, str]]:
    from jiuzhu.assessment import selectors as assessment
    from jiuzhu.assessment.models import Instrument

    labels: dict[str, tuple[str, str]] = {}
    for instrument in Instrument.objects.filter(is_active=True):
        version = assessment.latest_version(instrument)
        if version is not None:
            labels.update(assessment.indicator_labels(version))
    return labels


# --- households and plans ----------------------------------------------------------------


def household_groups_of(household_id: int, *, day: datetime.date) -> set[str]:
    """The target groups of a household (no scope: for services that checked it)."""
    members = household_members(household_id=household_id)
    enrolments = Enrolment.objects.filter(household_id=household_id, status="active")
    return household_groups(members=members, enrolments=enrolments, day=day)


def plan_get(*, user: Any, plan_id: int) -> ServicePlan:
    """404 when missing or out of the user's area."""
    return get_scoped_or_404(
        user,
        ServicePlan.objects.select_related(
            "household__region",
            "region",
            "rule",
            "assessment__instrument_version__instrument",
            "assessment__person",
            "agreed_by",
            "created_by",
        ),
        pk=plan_id,
    )


def plans_visible(user: Any) -> QuerySet[ServicePlan]:
    return scoped(user, ServicePlan.objects.select_related("household", "region", "rule"))


def current_plan(*, household_id: int) -> ServicePlan | None:
    """The household's plan that is not closed (no scope: the caller checked it)."""
    return (
        ServicePlan.objects.filter(household_id=household_id)
        .exclude(status=PlanStatus.CLOSED)
        .select_related("rule")
        .first()
    )


def plan_items(plan: ServicePlan, *, with_removed: bool = False) -> list[PlanItem]:
    queryset = PlanItem.objects.filter(plan=plan).select_related("item", "added_by")
    if not with_removed:
        queryset = queryset.filter(removed_at__isnull=True)
    return list(queryset.order_by("stage", "added_at", "id"))


@dataclass(frozen=True)
class Proposal:
    """Catalogue items for one indicator the assessment found in need of help."""

    indicator: str
    dimension_label: str
    indicator_label: str
    items: list[ServiceItem]
    chosen: bool  # a current choice of the plan answers this indicator


def indicator_labels_for(assessment: Any) -> dict[str, tuple[str, str]]:
    from jiuzhu.assessment.selectors import indicator_labels as version_labels

    labels = dict(indicator_labels())
    # a definition that no longer validates: the contract's labels
    with contextlib.suppress(ValueError):
        labels.update(version_labels(assessment.instrument_version))
    return labels


def proposals(
    *, plan: ServicePlan, groups: set[str], chosen_indicators: set[str]
) -> list[Proposal]:
    """For each indicator that needs help (in the instrument's order): the active items
    offered in the household's region whose indicators contain it and whose target groups
    fit the household, the cheapest first within each tier."""
    assessment = plan.assessment
    labels = indicator_labels_for(assessment)
    offered = [i for i in items_for_region(plan.region_id) if fits(i.target_groups, groups)]
    tier_order = {value: n for n, value in enumerate(Tier.values)}
    result = []
    for code in assessment.needs:
        matching = sorted(
            (i for i in offered if code in i.indicators),
            key=lambda i: (tier_order.get(i.tier, 9), Decimal(i.price), i.code),
        )
        dimension, label = labels.get(code, ("", code))
        result.append(
            Proposal(
                indicator=code,
                dimension_label=dimension,
                indicator_label=label,
                items=matching,
                chosen=code in chosen_indicators,
            )
        )
    return result


def items_for_household(*, region_code: str, groups: set[str]) -> list[ServiceItem]:
    """Everything the household may choose (for a choice beyond the proposals)."""
    return [i for i in items_for_region(region_code) if fits(i.target_groups, groups)]


def newest_assessment_with_needs(*, user: Any, household_id: int) -> Any:
    """The household's newest assessment the user may see that found needs (a plan's
    starting point), or None."""
    from jiuzhu.assessment.selectors import assessments_of_household

    for assessment in assessments_of_household(user=user, household_id=household_id)[:20]:
        if assessment.needs:
            return assessment
    return None
