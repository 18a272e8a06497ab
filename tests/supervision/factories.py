"""Served orders for the supervision, funds and dashboard tests: real orders moved
through the real delivery services (order → accept → check in → check out → rating),
then dated into the past, because a month of activity cannot wait a month.

    provider, manager, worker = provider_with_staff()
    order = served_order(personas, family, provider, worker, rating=2, day=date(2026, 10, 5))
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from jiuzhu.services.models import Provider, ServiceOrder
from jiuzhu.services.services.orders import (
    order_check_in,
    order_check_out,
    order_create,
    order_no_show,
    order_rate,
    order_tick_step,
)
from tests.conftest import Family, Personas
from tests.services.order_factories import HOME, accept, project_need, provider_with_staff

__all__ = ["HOME", "provider_with_staff", "served_order"]


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def served_order(
    personas: Personas,
    family: Family,
    provider: Provider,
    worker: Any,
    *,
    day: datetime.date,
    rating: int | None = 5,
    late: bool = False,
    item_code: str = "hair_cut",
    no_show: bool = False,
) -> ServiceOrder:
    """An order of ``family`` served by ``provider``'s ``worker`` on ``day``: closed with
    ``rating`` (None: served, awaiting a rating), finished after its clock when ``late``,
    or a provider no-show when ``no_show``."""
    need = project_need(personas, family, item_code)
    order = order_create(
        actor=personas.village_assistant, need=need, service_date=timezone.localdate()
    )
    accept(order, provider, worker)
    if no_show:
        order = order_no_show(
            actor=personas.village_assistant, order=order, absent="provider", reason="没有上门"
        )
        ServiceOrder.objects.filter(pk=order.pk).update(service_date=day)
        order.refresh_from_db()
        return order
    order = order_check_in(actor=worker, order=order, lat=HOME[0], lon=HOME[1])
    for index, _step in enumerate(order.checklist):
        order = order_tick_step(actor=worker, order=order, index=index)
    order = order_check_out(actor=worker, order=order, lat=HOME[0], lon=HOME[1])
    if rating is not None:
        order = order_rate(
            actor=personas.village_assistant, order=order, rating=rating, how="phone"
        )
    # Date it into the past: in at 09:00, out at 10:00; the finish clock at 12:00, or
    # 08:00 when the order must count as late.
    ServiceOrder.objects.filter(pk=order.pk).update(
        service_date=day,
        accepted_at=_at(day - datetime.timedelta(days=1), 16),
        check_in_at=_at(day, 9),
        check_out_at=_at(day, 10),
        start_due_at=_at(day, 10),
        finish_due_at=_at(day, 8) if late else _at(day, 12),
        closed_at=_at(day, 11) if rating is not None else None,
        rated_at=_at(day, 11) if rating is not None else None,
        amount=order.amount or Decimal("30.00"),
    )
    order.refresh_from_db()
    return order
