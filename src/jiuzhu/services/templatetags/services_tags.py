"""Template tags of the services app for other apps' pages:

- ``{% plan_panel %}`` on the household file: the current service plan (一户一策) with a
  bar per stage (chosen / cap), or the link that makes one from the newest assessment.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.services import selectors
from jiuzhu.services.services.plans import plan_stage_states, unit_label

register = template.Library()


@register.inclusion_tag("services/_plan_panel.html", takes_context=True)
def plan_panel(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    household = context.get("household")
    if household is None or not user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        return {"show": False}
    # The page showed the household file, so the user may see it; plans are read scoped.
    plans = selectors.plans_visible(user).filter(household_id=household.pk)
    plan = plans.exclude(status="closed").first() or plans.first()
    today = timezone.localdate()
    latest = None
    can_plan = user_has_perm(user, Perm.ASSESS_NEEDS)
    if can_plan and (plan is None or plan.status == "closed"):
        latest = selectors.newest_assessment_with_needs(user=user, household_id=household.pk)
    return {
        "show": True,
        "household": household,
        "plan": plan,
        "states": plan_stage_states(plan, today) if plan is not None else [],
        "unit_label": unit_label(plan.unit) if plan is not None else "",
        "latest": latest,
        "can_plan": can_plan,
    }


@register.filter
def may(user: Any, perm: str) -> bool:
    """``{% if user|may:"export" %}``: whether the user has a permission."""
    try:
        return user_has_perm(user, Perm(perm))
    except ValueError:
        return False


@register.filter
def figure(value: Any) -> str:
    """400.00 → 400, 12.50 → 12.5."""
    from jiuzhu.services.services.plans import figure as as_figure

    try:
        return as_figure(value)
    except (ArithmeticError, TypeError, ValueError):
        return str(value)


@register.filter
def get_label(labels: Any, code: str) -> str:
    """An indicator's label from ``{code: (dimension label, indicator label)}``."""
    try:
        return str(labels.get(code, ("", code))[1])
    except (AttributeError, IndexError, TypeError):
        return code


@register.filter
def group_label(code: str) -> str:
    from jiuzhu.services.choices import TargetGroup

    try:
        return str(TargetGroup(code).label)
    except ValueError:
        return code
