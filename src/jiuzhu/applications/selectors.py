"""Reads of the applications app: standards in force, kinds on offer, applications in
scope."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from jiuzhu.accounts.scoping import get_scoped_or_404, scoped
from jiuzhu.applications.models import Application, AssistanceKind, Standard


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
