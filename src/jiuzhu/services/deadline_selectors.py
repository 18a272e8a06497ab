"""Deadlines (clocks) that have passed: which needs and orders are overdue, on which
clock, and by how long. Read by the deadlines pass (services/services/deadlines.py), the
dispatcher's console and the supervision views.

When is a clock overdue? Strictly after its moment (``due < now``), and only while what
it measures has not happened:

Needs (only while the need has no open order: once an order is placed, the order's own
clocks, copied from the need, are watched instead, so one delay is escalated once):

* ``assign`` (claimed or dispatched by ``assign_due_at``): the need is draft, published
  or dispatching and no claim holds it (pending, approved or delivered).
* ``start`` (service started by ``start_due_at``): the need is not in service and no claim
  on it was approved (approved, delivered or completed).
* ``finish`` (service finished by ``finish_due_at``): no claim on it was delivered or
  completed. Waiting for the beneficiary's confirmation after delivery is not a delay of
  the service.

A fulfilled, cancelled or expired need has no clocks.

Orders:

* ``dispatch`` (``dispatch_due_at``): pending or offered, no provider has accepted.
* ``start`` (``start_due_at``): pending, offered or accepted: nobody has checked in.
* ``finish`` (``finish_due_at``): not yet checked out (pending … in service).

Checked out, closed, cancelled, no-show and disputed orders have no clocks.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiuzhu.accounts.scoping import scoped
from jiuzhu.services import choices as c
from jiuzhu.services.models import Claim, Need, ServiceOrder

NEED_CLOCKED = (
    c.NeedStatus.DRAFT,
    c.NeedStatus.PUBLISHED,
    c.NeedStatus.CLAIMED,
    c.NeedStatus.DISPATCHING,
    c.NeedStatus.IN_SERVICE,
)
NEED_UNASSIGNED = (c.NeedStatus.DRAFT, c.NeedStatus.PUBLISHED, c.NeedStatus.DISPATCHING)
CLAIM_STARTED = ("approved", "delivered", "completed")
CLAIM_FINISHED = ("delivered", "completed")

ORDER_UNDISPATCHED = (c.OrderStatus.PENDING, c.OrderStatus.OFFERED)
ORDER_UNSTARTED = (*ORDER_UNDISPATCHED, c.OrderStatus.ACCEPTED)
ORDER_UNFINISHED = (*ORDER_UNSTARTED, c.OrderStatus.IN_SERVICE)

CLOCK_LABELS = {
    "assign": _("claim or dispatch"),
    "dispatch": _("dispatch"),
    "start": _("start"),
    "finish": _("finish"),
}


@dataclass(frozen=True)
class Overdue:
    clock: str  # assign | dispatch | start | finish
    due_at: datetime.datetime
    overdue_by: datetime.timedelta

    @property
    def label(self) -> str:
        return str(CLOCK_LABELS[self.clock])


T = TypeVar("T", Need, ServiceOrder)


@dataclass(frozen=True)
class OverdueRow(Generic[T]):
    """One overdue need or order with every clock that has passed, earliest first."""

    obj: T
    clocks: list[Overdue]

    @property
    def first(self) -> Overdue:
        """The first unmet clock: the one overdue longest, and the one to act on."""
        return self.clocks[0]

    @property
    def clock(self) -> str:
        return self.first.clock

    @property
    def overdue_by(self) -> datetime.timedelta:
        return self.first.overdue_by


# --- needs ---------------------------------------------------------------------------------


def needs_with_progress(queryset: QuerySet[Need]) -> QuerySet[Need]:
    """Annotate what the clocks ask: an open order, a claim holding the need, a claim
    approved (service started), a claim delivered (service finished)."""
    claims = Claim.objects.filter(need=OuterRef("pk"))
    return queryset.annotate(
        has_open_order=Exists(
            ServiceOrder.objects.filter(need=OuterRef("pk"), status__in=c.OPEN_ORDER_STATUSES)
        ),
        has_active_claim=Exists(claims.filter(status__in=c.ACTIVE_CLAIM_STATUSES)),
        has_started_claim=Exists(claims.filter(status__in=CLAIM_STARTED)),
        has_finished_claim=Exists(claims.filter(status__in=CLAIM_FINISHED)),
    )


def need_overdue_q(now: datetime.datetime) -> Q:
    """On a queryset from needs_with_progress: needs with at least one overdue clock."""
    assign = Q(status__in=NEED_UNASSIGNED, has_active_claim=False, assign_due_at__lt=now)
    start = Q(start_due_at__lt=now, has_started_claim=False) & ~Q(status=c.NeedStatus.IN_SERVICE)
    finish = Q(finish_due_at__lt=now, has_finished_claim=False)
    return Q(status__in=NEED_CLOCKED, has_open_order=False) & (assign | start | finish)


def need_clocks_overdue(need: Need, now: datetime.datetime) -> list[Overdue]:
    """The overdue clocks of a need annotated by needs_with_progress, earliest first."""
    if need.status not in NEED_CLOCKED or getattr(need, "has_open_order", False):
        return []
    clocks: list[Overdue] = []
    if (
        need.status in NEED_UNASSIGNED
        and not getattr(need, "has_active_claim", False)
        and need.assign_due_at
        and need.assign_due_at < now
    ):
        clocks.append(Overdue("assign", need.assign_due_at, now - need.assign_due_at))
    if (
        need.status != c.NeedStatus.IN_SERVICE
        and not getattr(need, "has_started_claim", False)
        and need.start_due_at
        and need.start_due_at < now
    ):
        clocks.append(Overdue("start", need.start_due_at, now - need.start_due_at))
    if (
        not getattr(need, "has_finished_claim", False)
        and need.finish_due_at
        and need.finish_due_at < now
    ):
        clocks.append(Overdue("finish", need.finish_due_at, now - need.finish_due_at))
    return clocks


def needs_overdue(
    queryset: QuerySet[Need] | None = None, *, now: datetime.datetime | None = None
) -> QuerySet[Need]:
    now = now or timezone.now()
    base = Need.objects.all() if queryset is None else queryset
    return needs_with_progress(base).filter(need_overdue_q(now))


def overdue_needs(
    user: Any, *, now: datetime.datetime | None = None, limit: int | None = 200
) -> list[OverdueRow[Need]]:
    """The user's overdue needs (area scope), longest overdue first."""
    now = now or timezone.now()
    needs = needs_overdue(scoped(user, Need.objects.all()), now=now).select_related(
        "region", "household", "item"
    )
    rows = [OverdueRow(need, need_clocks_overdue(need, now)) for need in needs]
    rows = [row for row in rows if row.clocks]
    rows.sort(key=lambda row: (-row.overdue_by, row.obj.pk))
    return rows[:limit] if limit is not None else rows


# --- orders --------------------------------------------------------------------------------


def order_overdue_q(now: datetime.datetime) -> Q:
    return (
        Q(status__in=ORDER_UNDISPATCHED, dispatch_due_at__lt=now)
        | Q(status__in=ORDER_UNSTARTED, start_due_at__lt=now)
        | Q(status__in=ORDER_UNFINISHED, finish_due_at__lt=now)
    )


def order_clocks_overdue(order: ServiceOrder, now: datetime.datetime) -> list[Overdue]:
    clocks: list[Overdue] = []
    for clock, statuses, due in (
        ("dispatch", ORDER_UNDISPATCHED, order.dispatch_due_at),
        ("start", ORDER_UNSTARTED, order.start_due_at),
        ("finish", ORDER_UNFINISHED, order.finish_due_at),
    ):
        if order.status in statuses and due is not None and due < now:
            clocks.append(Overdue(clock, due, now - due))
    return clocks


def orders_overdue(
    queryset: QuerySet[ServiceOrder] | None = None, *, now: datetime.datetime | None = None
) -> QuerySet[ServiceOrder]:
    now = now or timezone.now()
    base = ServiceOrder.objects.all() if queryset is None else queryset
    return base.filter(order_overdue_q(now))


def overdue_orders(
    user: Any, *, now: datetime.datetime | None = None, limit: int | None = 200
) -> list[OverdueRow[ServiceOrder]]:
    """The user's overdue orders (area scope), longest overdue first."""
    now = now or timezone.now()
    orders = orders_overdue(scoped(user, ServiceOrder.objects.all()), now=now).select_related(
        "region", "household", "item", "provider"
    )
    rows = [OverdueRow(order, order_clocks_overdue(order, now)) for order in orders]
    rows = [row for row in rows if row.clocks]
    rows.sort(key=lambda row: (-row.overdue_by, row.obj.pk))
    return rows[:limit] if limit is not None else rows
