"""``{% policy_panel %}``: the "may qualify for" panel of the household file."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.applications.selectors import adult_members
from jiuzhu.policies.match_selectors import matches_of_household
from jiuzhu.registry.selectors import household_members

register = template.Library()


@register.inclusion_tag("policies/matches/_household_panel.html", takes_context=True)
def policy_panel(context: Any) -> dict[str, Any]:
    request = context["request"]
    household = context["household"]
    matches = matches_of_household(user=request.user, household_id=household.pk)
    can_act = user_has_perm(request.user, Perm.ENTER_APPLICATIONS)
    return {
        "household": household,
        "matches": matches,
        "can_act": can_act,
        "members": (
            adult_members(household_members(household_id=household.pk), timezone.localdate())
            if can_act and matches
            else []
        ),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
