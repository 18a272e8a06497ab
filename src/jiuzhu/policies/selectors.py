"""Reads of the policy library: what a member of staff sees, one policy's history, and
what the public guide of a county lists.

Policies hold no personal data; a county's library is still scoped like everything
else: staff see the national rows and those of the counties (or cities, provinces) their
area lies in, and another county's policy answers 404.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.policies.guide import tag_labels
from jiuzhu.policies.models import Policy, PolicyRevision, Theme
from jiuzhu.policies.services.library import EDITABLE
from jiuzhu.regions.models import Level, Region
from jiuzhu.regions.selectors import national_or_above, region_prefixes
from jiuzhu.registry.choices import Category


def user_area(user: Any) -> str:
    return str(getattr(user, "region_id", "") or "")


def user_county(user: Any) -> str | None:
    """The county whose library (and public guide) the user works with, if any."""
    area = user_area(user)
    return area[:6] if len(area) >= 6 else None


def policies_visible(user: Any) -> QuerySet[Policy]:
    """The library as this member of staff sees it."""
    if not user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        return Policy.objects.none()
    area = user_area(user)
    condition = Q(region__isnull=True)
    if area:
        condition |= Q(region_id__in=region_prefixes(area)) | Q(region__code__startswith=area)
    return Policy.objects.filter(condition).select_related("region", "updated_by")


def policy_get(*, user: Any, policy_id: int) -> Policy:
    """One policy of the user's library; 404 when missing or another county's."""
    policy = policies_visible(user).filter(pk=policy_id).first()
    if policy is None:
        raise Http404("Not found")
    return policy


def may_edit(user: Any, policy: Policy | None = None) -> bool:
    """Whether the pages offer editing: a county admin, their own county's policies."""
    if not user_has_perm(user, Perm.MANAGE_POLICIES) or user_county(user) is None:
        return False
    if policy is None:
        return True
    return policy.region_id is not None and policy.region_id.startswith(user_area(user))


def departments(queryset: QuerySet[Policy]) -> list[str]:
    return sorted(set(queryset.values_list("department", flat=True)))


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    old: str
    new: str

    @property
    def long(self) -> bool:
        return len(self.old) + len(self.new) > 80 or "\n" in self.old + self.new


@dataclass(frozen=True)
class HistoryEntry:
    revision: PolicyRevision
    changes: list[Change]  # empty for the first revision


FIELDS_SHOWN = (*EDITABLE, "is_active")


def _shown(name: str, value: Any) -> str:
    """A stored value as the history shows it."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if name == "guide_tags":
        return "、".join(tag_labels(list(value)))
    choices = {
        "theme": dict(Theme.choices),
        "enrolment_category": dict(Category.choices),
    }.get(name)
    if choices is not None:
        return str(choices.get(value, value))
    return str(value)


def policy_history(policy: Policy) -> list[HistoryEntry]:
    """Every revision, newest first, each with what changed since the one before."""
    revisions = list(policy.revisions.select_related("changed_by").order_by("number"))
    entries: list[HistoryEntry] = []
    previous: dict[str, Any] | None = None
    for revision in revisions:
        changes = []
        if previous is not None:
            for name in FIELDS_SHOWN:
                old, new = previous.get(name), revision.data.get(name)
                if old != new:
                    label = str(getattr(Policy._meta.get_field(name), "verbose_name", name))
                    changes.append(Change(name, label, _shown(name, old), _shown(name, new)))
        entries.append(HistoryEntry(revision, changes))
        previous = revision.data
    return entries[::-1]


# --- the public guide --------------------------------------------------------------------


def guide_county(county_code: str) -> Region:
    """The county of a guide; anything else (a town, a made-up code) is 404."""
    county = Region.objects.filter(code=county_code, level=Level.COUNTY).first()
    if county is None:
        raise Http404("no such county")
    return county


def guide_policies(county: Region, today: datetime.date) -> QuerySet[Policy]:
    """What the public guide lists: active, public and valid today, of this county (or a
    city or province above it) and the national ones."""
    return (
        Policy.objects.filter(
            national_or_above(county.code),
            is_active=True,
            is_public=True,
        )
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("theme", "name")
    )
