"""The one place where personal data is scoped to the user who asks.

Every view and API endpoint that returns personal data builds its queryset with
:func:`scoped`, and fetches single objects with :func:`get_scoped_or_404`. A model that
holds personal data declares how to reach its region and its assignees:

    class Household(models.Model):
        scope_region_lookup = "region_id"

        @classmethod
        def scope_assigned(cls, user) -> Q | None: ...

An object outside the user's scope is indistinguishable from one that does not exist:
both raise ``Http404`` with the same message.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from jiuzhu.accounts.roles import ROLE_PERMS, Perm


class ScopedModel(Protocol):
    scope_region_lookup: str

    @classmethod
    def scope_assigned(cls, user: Any) -> Q | None: ...


M = TypeVar("M", bound=Model)


def user_has_perm(user: Any, perm: Perm) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return perm in ROLE_PERMS.get(user.role, frozenset())


def scope_q(user: Any, model: type[Model]) -> Q | None:
    """The filter that limits ``model`` to what ``user`` may see; None means nothing."""
    if not user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        return None
    region_lookup: str = model.scope_region_lookup  # type: ignore[attr-defined]
    parts: list[Q] = []
    if user.region_id:
        parts.append(Q(**{f"{region_lookup}__startswith": user.region_id}))
    assigned = model.scope_assigned(user)  # type: ignore[attr-defined]
    if assigned is not None:
        parts.append(assigned)
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def scoped(user: Any, queryset: QuerySet[M]) -> QuerySet[M]:
    condition = scope_q(user, queryset.model)
    if condition is None:
        return queryset.none()
    return queryset.filter(condition)


def get_scoped_or_404(user: Any, queryset: QuerySet[M], **lookup: Any) -> M:
    try:
        return scoped(user, queryset).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found") from exc


def region_in_scope(user: Any, region_code: str) -> bool:
    """Whether ``user`` may write data for ``region_code`` (imports, new households)."""
    return bool(
        user_has_perm(user, Perm.VIEW_PERSONAL_DATA)
        and user.region_id
        and region_code.startswith(user.region_id)
    )
