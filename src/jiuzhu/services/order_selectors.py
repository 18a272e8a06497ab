"""Reads of service orders, as each kind of user may see them.

- Staff with ``VIEW_PERSONAL_DATA`` see the orders of households in their area
  (``accounts.scoping``), like every other personal record.
- Provider staff never have that right: they see their own provider's orders only — a
  manager all of them, a care worker those assigned to them and the accepted ones nobody
  has taken yet. Anything else answers 404, exactly like an order that does not exist.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import scoped, user_has_perm
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services import choices as c
from jiuzhu.services.directory_selectors import member_of_user
from jiuzhu.services.models import ProviderMember, ServiceOrder

ORDER_RELATED = ("item", "provider", "household", "person", "region", "worker", "plan_item")


def membership_of(user: Any) -> ProviderMember | None:
    """The user's active membership of an active provider (provider staff only)."""
    return member_of_user(user) if user_has_perm(user, Perm.SERVE_ORDERS) else None


def orders_for_staff(user: Any) -> QuerySet[ServiceOrder]:
    """Orders of households in the user's area (none without VIEW_PERSONAL_DATA)."""
    return scoped(user, ServiceOrder.objects.select_related(*ORDER_RELATED))


def orders_for_provider(user: Any) -> QuerySet[ServiceOrder]:
    """A provider's orders as its staff member may see them."""
    member = membership_of(user)
    if member is None:
        return ServiceOrder.objects.none()
    orders = ServiceOrder.objects.select_related(*ORDER_RELATED).filter(
        provider_id=member.provider_id
    )
    if member.is_manager:
        return orders
    return orders.filter(Q(worker=user) | Q(worker__isnull=True, status=c.OrderStatus.ACCEPTED))


def order_for_staff(*, user: Any, order_id: int) -> ServiceOrder:
    order = orders_for_staff(user).filter(pk=order_id).first()
    if order is None:
        raise Http404("Not found")
    return order


def order_for_provider(*, user: Any, order_id: int) -> ServiceOrder:
    order = orders_for_provider(user).filter(pk=order_id).first()
    if order is None:
        raise Http404("Not found")
    return order


def order_visible(*, user: Any, order_id: int) -> ServiceOrder:
    """Staff in area or the order's provider; 404 otherwise."""
    if user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        return order_for_staff(user=user, order_id=order_id)
    return order_for_provider(user=user, order_id=order_id)


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    provider: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    region: str = ""
    household: int | None = None


def orders_filtered(user: Any, filters: OrderFilters) -> QuerySet[ServiceOrder]:
    orders = orders_for_staff(user)
    if filters.status in c.OrderStatus.values:
        orders = orders.filter(status=filters.status)
    if filters.provider:
        orders = orders.filter(provider_id=filters.provider)
    if filters.date_from:
        orders = orders.filter(service_date__gte=filters.date_from)
    if filters.date_to:
        orders = orders.filter(service_date__lte=filters.date_to)
    if filters.region.isdigit():
        orders = orders.filter(region__code__startswith=filters.region)
    if filters.household:
        orders = orders.filter(household_id=filters.household)
    return orders.order_by("-service_date", "-id")


def worker_orders(
    user: Any, *, today: datetime.date
) -> tuple[list[ServiceOrder], list[ServiceOrder]]:
    """A care worker's (or manager's) open orders: (today and overdue, upcoming)."""
    orders = list(
        orders_for_provider(user)
        .filter(status__in=(c.OrderStatus.ACCEPTED, c.OrderStatus.IN_SERVICE))
        .order_by("service_date", "window_start", "id")
    )
    return (
        [o for o in orders if o.service_date <= today],
        [o for o in orders if o.service_date > today],
    )


def household_orders(user: Any, household_id: int) -> list[ServiceOrder]:
    return list(
        orders_for_staff(user)
        .filter(household_id=household_id)
        .order_by("-service_date", "-id")[:50]
    )


def order_history(order: ServiceOrder) -> list[TimelineEvent]:
    """The order's own steps, from the household timeline."""
    return list(
        TimelineEvent.objects.filter(object_type="services.order", object_id=str(order.pk))
        .select_related("actor")
        .order_by("occurred_at", "id")
    )


def distance_km(
    lat1: Decimal | float | None,
    lon1: Decimal | float | None,
    lat2: Decimal | float | None,
    lon2: Decimal | float | None,
) -> float | None:
    """Great-circle distance (haversine), None when a point is missing."""
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return None
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp = p2 - p1
    dl = math.radians(float(lon2) - float(lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def check_in_distance(order: ServiceOrder) -> float | None:
    return distance_km(order.lat, order.lon, order.check_in_lat, order.check_in_lon)


def steps_done(order: ServiceOrder) -> tuple[int, int]:
    steps = order.checklist or []
    return sum(1 for step in steps if step.get("done")), len(steps)
