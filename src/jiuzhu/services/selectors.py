"""Reads of the services app. The catalogue and entitlement rules are not personal data
(everyone signed in may read them); plans and the three lists go through accounts.scoping.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from jiuzhu.services.indicators import indicator_labels
from jiuzhu.services.models import ConfigRevision, EntitlementRule, ServiceItem


def region_prefixes(code: str) -> list[str]:
    """The codes of a region and every region above it (3608231002 → 36, 3608, 360823 …)."""
    return [code[:n] for n in (2, 4, 6, 9, 12) if len(code) >= n]


def available_in(region_code: str) -> Q:
    """Configuration offered in a region: the defaults and what a region above it added."""
    return Q(region__isnull=True) | Q(region_id__in=region_prefixes(region_code))


def visible_configuration(user: Any) -> Q:
    """What a user sees on the configuration pages: the defaults, what regions above them
    added, and what regions in their area added."""
    area = str(getattr(user, "region_id", "") or "")
    if not area:
        return Q(region__isnull=True)
    return available_in(area) | Q(region_id__startswith=area)


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
    return {}
