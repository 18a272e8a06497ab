"""The supervision console's reads: every service order of the user's area (live and
past), filtered, overdue ones first, then the newest; one order's supervision record;
a household's service records; the export rows.

An order is **overdue** when one of its clocks (dispatch, start, finish) has passed and
what it measures has not happened (``services.deadline_selectors``); **flagged** when a
revisit of it failed (``Revisit.passed`` is False). Orders are scoped like every personal
record (``accounts.scoping``: the region code prefix, and assigned households).
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import BooleanField, Case, Exists, OuterRef, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.scoping import get_scoped_or_404, scoped
from jiuzhu.regions.models import Region
from jiuzhu.registry.models import Household
from jiuzhu.services import choices as sc
from jiuzhu.services import order_selectors as osel
from jiuzhu.services.deadline_selectors import (
    Overdue,
    order_clocks_overdue,
    order_overdue_q,
)
from jiuzhu.services.models import Provider, ServiceItem, ServiceOrder
from jiuzhu.services.services.orders import FAR_KM
from jiuzhu.supervision.models import Complaint, Revisit

ROW_LIMIT = 50_000
RELATED = ("item", "provider", "household", "person", "region__parent", "worker")


@dataclass(frozen=True)
class ConsoleFilters:
    provider: int | None = None
    item: int | None = None
    town: str = ""  # a town (or village) code within the user's area
    state: str = ""  # an order status
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    flagged: bool = False
    overdue: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            k: (v.isoformat() if isinstance(v, datetime.date) else v)
            for k, v in asdict(self).items()
            if v not in ("", None, False)
        }


def annotate_flags(
    orders: QuerySet[ServiceOrder], now: datetime.datetime
) -> QuerySet[ServiceOrder]:
    return orders.annotate(
        is_overdue=Case(
            When(order_overdue_q(now), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        is_flagged=Exists(Revisit.objects.filter(order=OuterRef("pk"), passed=False)),
    )


def console_orders(
    user: Any, filters: ConsoleFilters, *, now: datetime.datetime | None = None
) -> QuerySet[ServiceOrder]:
    now = now or timezone.now()
    orders = annotate_flags(scoped(user, ServiceOrder.objects.select_related(*RELATED)), now)
    if filters.provider:
        orders = orders.filter(provider_id=filters.provider)
    if filters.item:
        orders = orders.filter(item_id=filters.item)
    if filters.town.isdigit():
        orders = orders.filter(region__code__startswith=filters.town)
    if filters.state in sc.OrderStatus.values:
        orders = orders.filter(status=filters.state)
    if filters.date_from:
        orders = orders.filter(service_date__gte=filters.date_from)
    if filters.date_to:
        orders = orders.filter(service_date__lte=filters.date_to)
    if filters.flagged:
        orders = orders.filter(Exists(Revisit.objects.filter(order=OuterRef("pk"), passed=False)))
    if filters.overdue:
        orders = orders.filter(order_overdue_q(now))
    return orders.order_by("-is_overdue", "-service_date", "-id")


def console_choices(user: Any) -> dict[str, Any]:
    """The filters' choices: providers and items that occur in the area, its towns."""
    area = scoped(user, ServiceOrder.objects.all())
    code = str(getattr(user, "region_id", "") or "")
    # The regions just below the user's: a county's towns, a town's villages.
    towns = (
        Region.objects.filter(parent_id=code).order_by("code") if code else Region.objects.none()
    )
    return {
        "providers": Provider.objects.filter(pk__in=area.values("provider_id")).order_by("name"),
        "items": ServiceItem.objects.filter(pk__in=area.values("item_id")).order_by("code"),
        "towns": towns,
        "states": sc.OrderStatus.choices,
    }


def who(order: ServiceOrder) -> str:
    """The beneficiary, masked (the person, else the head of household)."""
    if order.person is not None:
        return order.person.name_masked
    return order.household.head_name_masked


@dataclass
class OrderRecord:
    """What supervision checks of one order."""

    order: ServiceOrder
    who: str
    distance_in: float | None
    distance_out: float | None
    far_in: bool
    far_out: bool
    steps_done: int
    steps_total: int
    overdue: list[Overdue]
    flagged: bool
    revisits: list[Revisit] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)


def order_record(order: ServiceOrder, *, now: datetime.datetime | None = None) -> OrderRecord:
    now = now or timezone.now()
    distance_in = osel.check_in_distance(order)
    distance_out = osel.distance_km(order.lat, order.lon, order.check_out_lat, order.check_out_lon)
    done, total = osel.steps_done(order)
    revisits = list(
        Revisit.objects.filter(order=order)
        .select_related("done_by", "assigned_to", "batch")
        .order_by("created_at", "id")
    )
    complaints = list(Complaint.objects.filter(order=order).order_by("received_at", "id"))
    return OrderRecord(
        order=order,
        who=who(order),
        distance_in=distance_in,
        distance_out=distance_out,
        far_in=distance_in is not None and distance_in > FAR_KM,
        far_out=distance_out is not None and distance_out > FAR_KM,
        steps_done=done,
        steps_total=total,
        overdue=order_clocks_overdue(order, now),
        flagged=any(r.passed is False for r in revisits),
        revisits=revisits,
        complaints=complaints,
    )


def order_record_for_user(user: Any, order_id: int) -> OrderRecord:
    order = scoped(user, ServiceOrder.objects.select_related(*RELATED)).filter(pk=order_id).first()
    if order is None:
        raise Http404("Not found")
    return order_record(order)


def household_records(user: Any, household_id: int) -> tuple[Household, list[OrderRecord]]:
    """A household (404 outside the area) and every order of it, newest first."""
    household = get_scoped_or_404(user, Household.objects.select_related("region"), pk=household_id)
    orders = (
        scoped(user, ServiceOrder.objects.select_related(*RELATED))
        .filter(household=household)
        .order_by("-service_date", "-id")
    )
    now = timezone.now()
    return household, [order_record(order, now=now) for order in orders]


def _town(order: ServiceOrder) -> str:
    parent = order.region.parent
    return parent.name if parent is not None else ""


def _local(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def export_rows(user: Any, filters: ConsoleFilters) -> list[list[Any]]:
    """The filtered list as spreadsheet rows, header first: masked names, no ID or phone
    number, no address, no coordinates (the check-in's distance is enough)."""
    header = [
        _("No."), _("Order"), _("Town"), _("Village"), _("Household"), _("Beneficiary"),
        _("Service"), _("Service date"), _("Provider"), _("Status"), _("Ordered at"),
        _("Accepted at"), _("Checked in at"), _("Checked out at"), _("Check-in distance (km)"),
        _("Steps done"), _("Rating"), _("Overdue"), _("Flagged by a revisit"),
    ]  # fmt: skip
    rows: list[list[Any]] = [header]
    for n, order in enumerate(console_orders(user, filters)[:ROW_LIMIT], start=1):
        distance = osel.check_in_distance(order)
        done, total = osel.steps_done(order)
        rows.append(
            [
                n,
                order.pk,
                _town(order),
                order.region.name,
                order.household.number,
                who(order),
                order.item.name_zh,
                order.service_date.isoformat(),
                order.provider.name if order.provider else "",
                str(order.get_status_display()),
                _local(order.created_at),
                _local(order.accepted_at),
                _local(order.check_in_at),
                _local(order.check_out_at),
                round(distance, 2) if distance is not None else "",
                f"{done}/{total}" if total else "",
                order.rating or "",
                _("yes") if getattr(order, "is_overdue", False) else "",
                _("yes") if getattr(order, "is_flagged", False) else "",
            ]
        )
    return rows
