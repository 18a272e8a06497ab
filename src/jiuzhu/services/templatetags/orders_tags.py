"""``{% orders_panel household %}`` for the household file: the household's service
orders (state, provider, rating) and its service voucher by stage."""

from __future__ import annotations

from typing import Any

from django import template

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.services import order_selectors as sel
from jiuzhu.services import selectors
from jiuzhu.services.services.vouchers import voucher_balance

register = template.Library()


@register.inclusion_tag("services/orders/_panel.html", takes_context=True)
def orders_panel(context: template.Context, household: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if household is None or not user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        return {"show": False}
    orders = sel.household_orders(user, household.pk)
    plans = selectors.plans_visible(user).filter(household_id=household.pk)
    plan = plans.exclude(status="closed").first()
    balance = voucher_balance(plan) if plan is not None and plan.status == "agreed" else None
    if not orders and balance is None:
        return {"show": False}
    return {
        "show": True,
        "household": household,
        "orders": orders,
        "plan": plan,
        "balance": balance,
    }
