"""Demo service orders, after the plan demo (services.demo) and before the dispatch demo:
for each agreed plan of the county, the first choice with voucher left becomes a need on
the dispatch route and an order placed by the platform for a day in the coming week,
debiting the household's voucher. Dispatch, service and rating are left to the demo's
dispatch pass and to the story. Idempotent: a choice that already has a need is left
alone."""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from jiuzhu.services import choices as c
from jiuzhu.services.models import PlanItem, ServicePlan
from jiuzhu.services.services.needs import need_create
from jiuzhu.services.services.orders import order_create
from jiuzhu.services.services.vouchers import voucher_balance

MAX_HOUSEHOLDS = 20


def seed_orders(*, county_code: str, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    today = timezone.localdate()
    placed = skipped = 0
    plans = ServicePlan.objects.filter(
        region__code__startswith=county_code,
        status=c.PlanStatus.AGREED,
        period_start__lte=today,
        period_end__gte=today,
    ).order_by("id")[:MAX_HOUSEHOLDS]
    for plan in plans:
        balance = {row.plan_item_id: row for row in voucher_balance(plan, on=today).items}
        chosen = (
            PlanItem.objects.filter(plan=plan, removed_at__isnull=True, needs__isnull=True)
            .select_related("item")
            .order_by("stage", "id")
        )
        for plan_item in chosen:
            row = balance.get(plan_item.pk)
            if row is None or row.remaining < plan_item.charge / plan_item.quantity:
                continue
            need = need_create(
                actor=None,
                household=plan.household,
                source=c.NeedSource.PLAN,
                source_ref=str(plan_item.pk),
                route=c.Route.DISPATCH,
                funding=c.Funding.VOUCHER,
                title="",
                person=plan.agreed_by,
                item=plan_item.item,
                plan_item=plan_item,
            )
            try:
                order_create(
                    actor=None,
                    need=need,
                    service_date=today + datetime.timedelta(days=rng.randint(1, 7)),
                )
            except ValidationError:
                skipped += 1  # a stage not open on the day: the need waits for staff
            else:
                placed += 1
            break
    return {"orders": placed, "refused": skipped}
