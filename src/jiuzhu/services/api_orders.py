"""/api/v1/services/orders/…: service orders, their record and the service vouchers.

Staff (VIEW_PERSONAL_DATA, their area; writes need MANAGE_NEEDS or DISPATCH as the
services say): place an order for a need, list and read orders, record a rating given in
person or by phone, cancel, no-show, dispute and decide it; read a plan's voucher.

Provider staff (SERVE_ORDERS): their own orders (``/orders/mine``), read one, assign a
care worker (managers), check in, tick the steps, check out, cancel before check-in
(managers), record that nobody was at home. Photos are taken through the pages.

An order the caller may not see answers 404; a refused write 422 with the messages by
field, an act the caller may not do 403. Names are masked; coordinates are not returned
(the distance of the check-in from the household is).
"""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import get_scoped_or_404, user_has_perm
from jiuzhu.core.api_errors import service_errors
from jiuzhu.core.http import request_user
from jiuzhu.services import choices as c
from jiuzhu.services import order_selectors as sel
from jiuzhu.services.models import Need, ProviderMember, ServiceOrder, ServicePlan
from jiuzhu.services.selectors import plans_visible
from jiuzhu.services.services import orders as svc
from jiuzhu.services.services.vouchers import voucher_balance

router = Router(tags=["services: orders and vouchers"])


def _staff(request: HttpRequest) -> User:
    user = request_user(request)
    if not user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        raise Http404("Not found")
    return user


def _order(request: HttpRequest, order_id: int) -> tuple[User, ServiceOrder]:
    user = request_user(request)
    return user, sel.order_visible(user=user, order_id=order_id)


# --- Schemas ------------------------------------------------------------------------------


class StepOut(Schema):
    action: str
    requirement: str
    done: bool
    at: str | None = None
    note: str = ""


class OrderOut(Schema):
    id: int
    need_id: int
    household_id: int
    region_code: str
    beneficiary_masked: str
    address: str
    item_code: str
    item_name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    charge: Decimal
    funding: str
    plan_id: int | None
    plan_item_id: int | None
    status: str
    status_label: str
    urgency: str
    service_date: datetime.date
    window_start: datetime.datetime | None
    window_end: datetime.datetime | None
    provider_id: int | None
    provider_name: str | None
    worker: str | None
    accepted_at: datetime.datetime | None
    check_in_at: datetime.datetime | None
    check_in_distance_km: float | None
    check_in_photo: bool
    checklist: list[StepOut]
    check_out_at: datetime.datetime | None
    check_out_photo: bool
    service_note: str
    rating: int | None
    rating_comment: str
    rated_how: str
    rated_at: datetime.datetime | None
    reason: str
    closed_at: datetime.datetime | None
    dispatch_due_at: datetime.datetime | None
    start_due_at: datetime.datetime | None
    finish_due_at: datetime.datetime | None


def _out(order: ServiceOrder, user: Any) -> dict[str, Any]:
    staff = user_has_perm(user, Perm.VIEW_PERSONAL_DATA)
    is_open = order.status in (c.OrderStatus.ACCEPTED, c.OrderStatus.IN_SERVICE)
    distance = sel.check_in_distance(order)
    who = order.person.name_masked if order.person else order.household.head_name_masked
    return {
        "id": order.pk,
        "need_id": order.need_id,
        "household_id": order.household_id,
        "region_code": order.region_id,
        "beneficiary_masked": who,
        # the provider needs the address while it serves; staff see it in the file anyway
        "address": order.household.address if staff or is_open else "",
        "item_code": order.item.code,
        "item_name": order.item.name_zh,
        "quantity": order.quantity,
        "unit_price": order.unit_price,
        "amount": order.amount,
        "charge": order.charge,
        "funding": order.funding,
        "plan_id": order.plan_id,
        "plan_item_id": order.plan_item_id,
        "status": order.status,
        "status_label": order.get_status_display(),
        "urgency": order.urgency,
        "service_date": order.service_date,
        "window_start": order.window_start,
        "window_end": order.window_end,
        "provider_id": order.provider_id,
        "provider_name": order.provider.name if order.provider else None,
        "worker": order.worker.username if order.worker else None,
        "accepted_at": order.accepted_at,
        "check_in_at": order.check_in_at,
        "check_in_distance_km": round(distance, 2) if distance is not None else None,
        "check_in_photo": bool(order.check_in_photo),
        "checklist": order.checklist or [],
        "check_out_at": order.check_out_at,
        "check_out_photo": bool(order.check_out_photo),
        "service_note": order.service_note,
        "rating": order.rating,
        "rating_comment": order.rating_comment,
        "rated_how": order.rated_how,
        "rated_at": order.rated_at,
        "reason": order.reason,
        "closed_at": order.closed_at,
        "dispatch_due_at": order.dispatch_due_at,
        "start_due_at": order.start_due_at,
        "finish_due_at": order.finish_due_at,
    }


def _fresh(user: Any, order: ServiceOrder) -> dict[str, Any]:
    return _out(sel.order_visible(user=user, order_id=order.pk), user)


class OrderIn(Schema):
    need_id: int
    service_date: datetime.date
    quantity: Decimal | None = None
    window_start: datetime.datetime | None = None
    window_end: datetime.datetime | None = None


class ListParams(Schema):
    status: str = ""
    household_id: int | None = None
    provider_id: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0)


class WorkerIn(Schema):
    worker_id: int


class PositionIn(Schema):
    lat: Decimal
    lon: Decimal
    at: datetime.datetime | None = None


class CheckOutIn(Schema):
    lat: Decimal
    lon: Decimal
    note: str = ""


class StepIn(Schema):
    done: bool = True
    note: str = ""


class RateIn(Schema):
    rating: int
    comment: str = ""
    how: str = "staff"


class ReasonIn(Schema):
    reason: str


class NoShowIn(Schema):
    absent: str = "beneficiary"
    reason: str


class ResolveIn(Schema):
    served: bool
    note: str


class StageBalanceOut(Schema):
    number: int
    share: int
    cap: Decimal
    debited: Decimal
    remaining: Decimal
    is_open: bool
    opens_on: datetime.date | None


class ItemBalanceOut(Schema):
    plan_item_id: int
    item_code: str
    item_name: str
    stage: int
    charge: Decimal
    debited: Decimal
    remaining: Decimal
    removed: bool


class VoucherOut(Schema):
    plan_id: int
    unit: str
    total: Decimal
    debited: Decimal
    released: Decimal
    used: Decimal
    remaining: Decimal
    window_start: datetime.date | None
    window_end: datetime.date | None
    stages: list[StageBalanceOut]
    items: list[ItemBalanceOut]


# --- Endpoints -----------------------------------------------------------------------------


@router.post("/orders/", response={201: OrderOut})
def order_new(request: HttpRequest, body: OrderIn) -> Status[dict[str, Any]]:
    """Place an order for a need on the dispatch route (点单): pending, waiting for
    dispatch; a voucher-funded one debits the plan (422 when it would overspend)."""
    user = _staff(request)
    need = get_scoped_or_404(user, Need.objects.all(), pk=body.need_id)
    with service_errors():
        order = svc.order_create(
            actor=user,
            need=need,
            service_date=body.service_date,
            quantity=body.quantity,
            window_start=body.window_start,
            window_end=body.window_end,
        )
    return Status(201, _fresh(user, order))


class OrderPage(Schema):
    items: list[OrderOut]
    count: int


@router.get("/orders/", response=OrderPage)
def orders(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    """Orders of households in the caller's area, newest service date first; ``limit``
    (at most 100) and ``offset`` page them, like the other lists of the API."""
    user = _staff(request)
    queryset = sel.orders_filtered(
        user,
        sel.OrderFilters(
            status=params.status,
            provider=params.provider_id,
            date_from=params.date_from,
            date_to=params.date_to,
            household=params.household_id,
        ),
    )
    page = queryset[params.offset : params.offset + params.limit]
    return {"items": [_out(order, user) for order in page], "count": queryset.count()}


@router.get("/orders/mine", response=list[OrderOut])
def my_orders(request: HttpRequest, include_done: bool = False) -> list[dict[str, Any]]:
    """Provider staff: the orders of their provider they may serve (a manager: all of
    them), open ones by date; with ``include_done`` the last 50 served or ended too."""
    user = request_user(request)
    if sel.membership_of(user) is None:
        raise Http404("Not found")
    queryset = sel.orders_for_provider(user)
    if not include_done:
        queryset = queryset.filter(status__in=(c.OrderStatus.ACCEPTED, c.OrderStatus.IN_SERVICE))
    rows = queryset.order_by("service_date", "window_start", "id")[:200]
    return [_out(order, user) for order in rows]


@router.get("/orders/vouchers/{int:plan_id}", response=VoucherOut)
def voucher(request: HttpRequest, plan_id: int, on: datetime.date | None = None) -> dict[str, Any]:
    """A plan's service voucher: total, debits, releases, remaining, per stage and per
    plan item (a monthly entitlement: for the month of ``on``, today by default)."""
    user = _staff(request)
    plan: ServicePlan | None = plans_visible(user).filter(pk=plan_id).first()
    if plan is None:
        raise Http404("Not found")
    balance = voucher_balance(plan, on=on)
    return {
        "plan_id": balance.plan_id,
        "unit": balance.unit,
        "total": balance.total,
        "debited": balance.debited,
        "released": balance.released,
        "used": balance.used,
        "remaining": balance.remaining,
        "window_start": balance.window[0] if balance.window else None,
        "window_end": balance.window[1] if balance.window else None,
        "stages": [{**s.__dict__, "remaining": s.remaining} for s in balance.stages],
        "items": [{**i.__dict__, "remaining": i.remaining} for i in balance.items],
    }


@router.get("/orders/{int:order_id}", response=OrderOut)
def order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    user, found = _order(request, order_id)
    return _out(found, user)


@router.post("/orders/{int:order_id}/assign", response=OrderOut)
def order_assign(request: HttpRequest, order_id: int, body: WorkerIn) -> dict[str, Any]:
    user, found = _order(request, order_id)
    member = (
        ProviderMember.objects.filter(provider=found.provider, user_id=body.worker_id)
        .select_related("user")
        .first()
        if found.provider is not None
        else None
    )
    with service_errors():
        if member is None:
            raise ValidationError(
                {"worker": _("Choose one of the provider's active care workers.")}
            )
        svc.order_assign_worker(actor=user, order=found, worker=member.user)
    return _fresh(user, found)


@router.post("/orders/{int:order_id}/check-in", response=OrderOut)
def order_check_in(request: HttpRequest, order_id: int, body: PositionIn) -> dict[str, Any]:
    user, found = _order(request, order_id)
    with service_errors():
        svc.order_check_in(actor=user, order=found, lat=body.lat, lon=body.lon, at=body.at)
    return _fresh(user, found)


@router.post("/orders/{int:order_id}/steps/{int:index}", response=OrderOut)
def order_step(request: HttpRequest, order_id: int, index: int, body: StepIn) -> dict[str, Any]:
    user, found = _order(request, order_id)
    with service_errors():
        svc.order_tick_step(actor=user, order=found, index=index, done=body.done, note=body.note)
    return _fresh(user, found)


@router.post("/orders/{int:order_id}/check-out", response=OrderOut)
def order_check_out(request: HttpRequest, order_id: int, body: CheckOutIn) -> dict[str, Any]:
    user, found = _order(request, order_id)
    with service_errors():
        svc.order_check_out(actor=user, order=found, lat=body.lat, lon=body.lon, note=body.note)
    return _fresh(user, found)


@router.post("/orders/{int:order_id}/rate", response=OrderOut)
def order_rate(request: HttpRequest, order_id: int, body: RateIn) -> dict[str, Any]:
    """A rating the beneficiary gave staff in person (``staff``) or by phone (``phone``);
    the beneficiary's own rating goes through the link sent by SMS."""
    user, found = _order(request, order_id)
    with service_errors():
        if body.how == c.RatedHow.APP:
            raise PermissionDenied(_("The beneficiary rates in the app through the link."))
        svc.order_rate(
            actor=user, order=found, rating=body.rating, comment=body.comment, how=body.how
        )
    return _fresh(user, found)


@router.post("/orders/{int:order_id}/cancel", response=OrderOut)
def order_cancel(request: HttpRequest, order_id: int, body: ReasonIn) -> dict[str, Any]:
    user, found = _order(request, order_id)
    with service_errors():
        svc.order_cancel(actor=user, order=found, reason=body.reason)
    return _fresh(user, found)


@router.post("/orders/{int:order_id}/no-show", response=OrderOut)
def order_no_show(request: HttpRequest, order_id: int, body: NoShowIn) -> dict[str, Any]:
    user, found = _order(request, order_id)
    with service_errors():
        svc.order_no_show(actor=user, order=found, absent=body.absent, reason=body.reason)
    return _fresh(user, found)


@router.post("/orders/{int:order_id}/dispute", response=OrderOut)
def order_dispute(request: HttpRequest, order_id: int, body: ReasonIn) -> dict[str, Any]:
    user, found = _order(request, order_id)
    with service_errors():
        svc.order_dispute(actor=user, order=found, reason=body.reason)
    return _fresh(user, found)


@router.post("/orders/{int:order_id}/dispute/resolve", response=OrderOut)
def order_resolve(request: HttpRequest, order_id: int, body: ResolveIn) -> dict[str, Any]:
    user, found = _order(request, order_id)
    with service_errors():
        svc.order_dispute_resolve(actor=user, order=found, served=body.served, note=body.note)
    return _fresh(user, found)
