"""Reads of what matching passes found (the outreach lists and the household panel).

Matches are personal data about a household: always through ``accounts.scoping``, so a
worker sees those of their area and of households assigned to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from jiuzhu.accounts.scoping import get_scoped_or_404, scoped
from jiuzhu.policies.models import PolicyMatch, PolicyRun

OPEN_STATUSES = (PolicyMatch.Status.OPEN, PolicyMatch.Status.CONTACTED)


def matches_visible(user: Any) -> QuerySet[PolicyMatch]:
    return scoped(user, PolicyMatch.objects.all()).select_related(
        "policy", "household", "household__region", "assigned_to", "application"
    )


@dataclass(frozen=True)
class MatchFilter:
    status: str = "open"  # open (to contact or contacted) | a Status value | all
    kind: str = ""
    policy: str = ""  # policy code
    region: str = ""  # region code prefix
    mine: bool = False


def matches_filtered(user: Any, wanted: MatchFilter) -> QuerySet[PolicyMatch]:
    rows = matches_visible(user)
    if wanted.status == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif wanted.status in PolicyMatch.Status.values:
        rows = rows.filter(status=wanted.status)
    if wanted.kind in PolicyMatch.Kind.values:
        rows = rows.filter(kind=wanted.kind)
    if wanted.policy:
        rows = rows.filter(policy__code=wanted.policy)
    if wanted.region.isdigit():
        rows = rows.filter(household__region_id__startswith=wanted.region)
    if wanted.mine:
        rows = rows.filter(assigned_to=user)
    return rows.order_by("due_on", "household__region_id", "household_id", "policy__name")


def match_get(*, user: Any, match_id: int) -> PolicyMatch:
    """One match in the user's scope, else 404."""
    return get_scoped_or_404(
        user,
        PolicyMatch.objects.select_related("policy", "household", "household__region"),
        pk=match_id,
    )


def matches_of_household(*, user: Any, household_id: int) -> list[PolicyMatch]:
    """Open matches of one household, new entitlements first, then re-checks."""
    return list(
        matches_visible(user)
        .filter(household_id=household_id, status__in=OPEN_STATUSES)
        .order_by("-kind", "policy__theme", "policy__name")
    )


def latest_run() -> PolicyRun | None:
    return PolicyRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
