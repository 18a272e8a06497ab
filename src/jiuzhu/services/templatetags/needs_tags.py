"""``{% needs_panel household %}`` on the household file: the household's needs and
their claims (status, the claimant's kind, dates), and the way to record a new one."""

from __future__ import annotations

from typing import Any

from django import template

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import scoped, user_has_perm
from jiuzhu.registry.models import Household
from jiuzhu.services.need_selectors import household_needs

register = template.Library()


@register.inclusion_tag("services/needs/_panel.html", takes_context=True)
def needs_panel(context: template.Context, household: Household | None) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if household is None or not user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        return {"show": False}
    if not scoped(user, Household.objects.filter(pk=household.pk)).exists():
        return {"show": False}
    return {
        "show": True,
        "household": household,
        "rows": household_needs(household_id=household.pk),
        "can_manage": user_has_perm(user, Perm.MANAGE_NEEDS),
    }
