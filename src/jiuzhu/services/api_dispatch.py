"""/api/v1/services/dispatch/… and /api/v1/services/offers/…: dispatch (派单) and the
providers' answers (接单).

Dispatchers (DISPATCH, their area): run the optimiser over every pending order or some of
them, dispatch one order now, place the order for a need and dispatch it (a one-key
call), override the choice with a reason, read the pending orders and an order's offers.

Provider managers (SERVE_ORDERS, manager of the provider): their provider's offers with
the public-safe face of the order (item, village, day, window, distance; no name,
address or phone), accept (optionally naming a care worker) or decline with a reason.

What the caller may not see answers 404; a refused write 422 with the messages by field;
an act the caller may not do 403.
"""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from jiuzhu.accounts.models import User
from jiuzhu.core.api_errors import FieldErrors, service_errors
from jiuzhu.core.http import request_user
from jiuzhu.services import dispatch_selectors as sel
from jiuzhu.services.models import DispatchOffer, Provider, ProviderMember, ServiceOrder
from jiuzhu.services.services import dispatch as svc
from jiuzhu.services.services.orders import order_create

router = Router(tags=["services: dispatch"])


def _dispatcher(request: HttpRequest) -> User:
    user = request_user(request)
    if not sel.may_dispatch(user):
        raise Http404("Not found")
    return user


def _manager(request: HttpRequest) -> tuple[User, ProviderMember]:
    user = request_user(request)
    member = sel.manager_membership(user)
    if member is None:
        raise Http404("Not found")
    return user, member


# --- Schemas ------------------------------------------------------------------------------


class OfferOut(Schema):
    """An offer as the dispatcher sees it."""

    id: int
    order_id: int
    provider_id: int
    provider: str
    contract_id: int
    status: str
    offered_by: str
    dispatcher: str | None
    distance_km: Decimal | None
    cost: int | None
    offered_at: datetime.datetime
    expires_at: datetime.datetime
    answered_at: datetime.datetime | None
    reason: str

    @staticmethod
    def resolve_provider(offer: DispatchOffer) -> str:
        return offer.provider.name

    @staticmethod
    def resolve_dispatcher(offer: DispatchOffer) -> str | None:
        return offer.dispatcher.username if offer.dispatcher is not None else None


class DispatchOut(Schema):
    considered: int
    offered: int
    waiting: int
    offers: list[OfferOut]
    waiting_orders: list[int]
    total_distance_km: float
    seconds: float


class PendingOut(Schema):
    id: int
    need_id: int
    item: str
    region_code: str
    village: str
    urgency: str
    service_date: datetime.date
    dispatch_due_at: datetime.datetime | None
    overdue: bool
    nobody_can_take: bool


class OneOut(Schema):
    order_id: int
    offer: OfferOut | None


class RunIn(Schema):
    order_ids: list[int] | None = None


class NeedOrderIn(Schema):
    service_date: datetime.date | None = None


class OverrideIn(Schema):
    provider_id: int
    reason: str


class ProviderOfferOut(Schema):
    """An offer as the provider sees it: the public-safe face of the order."""

    offer_id: int
    order_id: int
    status: str
    item: str
    item_code: str
    quantity: Decimal
    village: str
    region_code: str
    service_date: datetime.date
    window_start: datetime.datetime | None
    window_end: datetime.datetime | None
    urgency: str
    distance_km: Decimal | None
    offered_at: datetime.datetime
    expires_at: datetime.datetime


class AcceptIn(Schema):
    worker_id: int | None = None


class AcceptedOut(Schema):
    offer_id: int
    order_id: int
    status: str
    provider_id: int
    worker_id: int | None
    accepted_at: datetime.datetime | None


class DeclineIn(Schema):
    reason: str


def _result(result: svc.DispatchResult) -> dict[str, Any]:
    data = result.as_dict()
    data["offers"] = [_offer(o.pk) for o in result.offers]
    return data


def _offer(offer_id: int) -> DispatchOffer:
    return DispatchOffer.objects.select_related("provider", "dispatcher").get(pk=offer_id)


# --- the dispatcher -----------------------------------------------------------------------


@router.post("/dispatch/run", response=DispatchOut)
def dispatch_run(request: HttpRequest, body: RunIn) -> dict[str, Any]:
    """Dispatch every pending order of the caller's area, or the ones named."""
    user = _dispatcher(request)
    orders = None
    if body.order_ids is not None:
        orders = list(sel.orders_in_scope(user).filter(pk__in=body.order_ids))
        if len(orders) != len(set(body.order_ids)):
            raise Http404("Not found")
    with service_errors():
        result = svc.dispatch_orders(actor=user, orders=orders)
    return _result(result)


@router.get("/dispatch/pending", response=list[PendingOut])
def dispatch_pending(request: HttpRequest) -> list[dict[str, Any]]:
    """Pending orders, overdue first, then by urgency; and whether anybody can take them."""
    user = _dispatcher(request)
    pending = sel.pending_orders(user, now=timezone.now())
    stuck = sel.orders_nobody_can_take(pending)
    return [
        {
            "id": o.pk,
            "need_id": o.need_id,
            "item": o.item.code,
            "region_code": o.region_id,
            "village": o.region.name,
            "urgency": o.urgency,
            "service_date": o.service_date,
            "dispatch_due_at": o.dispatch_due_at,
            "overdue": bool(getattr(o, "overdue", False)),
            "nobody_can_take": o.pk in stuck,
        }
        for o in pending
    ]


@router.post("/dispatch/orders/{int:order_id}/dispatch", response=OneOut)
def dispatch_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    """Dispatch one order now; ``offer`` is null when nobody can take it."""
    user = _dispatcher(request)
    order = sel.order_for_dispatcher(user=user, order_id=order_id)
    with service_errors():
        offer = svc.dispatch_one(actor=user, order=order)
    return {"order_id": order.pk, "offer": _offer(offer.pk) if offer is not None else None}


@router.post("/dispatch/needs/{int:need_id}/order", response={201: OneOut})
def dispatch_need(request: HttpRequest, need_id: int, body: NeedOrderIn) -> Status[dict[str, Any]]:
    """Place the order for a need on the dispatch route (default: today) and dispatch
    it at once (a one-key call's urgent need)."""
    user = _dispatcher(request)
    need = sel.need_for_dispatcher(user=user, need_id=need_id)
    with service_errors():
        order = order_create(
            actor=user, need=need, service_date=body.service_date or timezone.localdate()
        )
        offer = svc.dispatch_one(actor=user, order=order)
    return Status(
        201, {"order_id": order.pk, "offer": _offer(offer.pk) if offer is not None else None}
    )


@router.post("/dispatch/orders/{int:order_id}/override", response={201: OfferOut})
def dispatch_override(
    request: HttpRequest, order_id: int, body: OverrideIn
) -> Status[DispatchOffer]:
    """Offer the order to the provider the dispatcher chooses (a reason is required)."""
    user = _dispatcher(request)
    order = sel.order_for_dispatcher(user=user, order_id=order_id)
    provider = Provider.objects.filter(pk=body.provider_id).first()
    if provider is None:
        raise FieldErrors({"provider": [_("Choose a provider.")]})
    with service_errors():
        offer = svc.dispatch_override(
            actor=user, order=order, provider=provider, reason=body.reason
        )
    return Status(201, _offer(offer.pk))


@router.get("/dispatch/orders/{int:order_id}/offers", response=list[OfferOut])
def dispatch_order_offers(request: HttpRequest, order_id: int) -> list[DispatchOffer]:
    user = _dispatcher(request)
    order: ServiceOrder = sel.order_for_dispatcher(user=user, order_id=order_id)
    return sel.order_offers(order)


# --- the provider -------------------------------------------------------------------------


@router.get("/offers", response=list[ProviderOfferOut])
def offers(request: HttpRequest, status: str = "offered") -> list[dict[str, Any]]:
    """My provider's offers (default: those waiting for an answer)."""
    user, _member = _manager(request)
    rows = sel.offers_for_provider(user)
    if status:
        rows = rows.filter(status=status)
    return [sel.offer_summary(o) for o in rows.order_by("expires_at", "id")[:200]]


@router.get("/offers/{int:offer_id}", response=ProviderOfferOut)
def offer(request: HttpRequest, offer_id: int) -> dict[str, Any]:
    user, _member = _manager(request)
    return sel.offer_summary(sel.offer_for_provider(user=user, offer_id=offer_id))


@router.post("/offers/{int:offer_id}/accept", response=AcceptedOut)
def offer_accept(request: HttpRequest, offer_id: int, body: AcceptIn) -> dict[str, Any]:
    """Take the order; the order's pages and API then show the beneficiary."""
    user, member = _manager(request)
    found = sel.offer_for_provider(user=user, offer_id=offer_id)
    worker = None
    if body.worker_id is not None:
        chosen = next(
            (m for m in sel.provider_workers(member.provider_id) if m.user_id == body.worker_id),
            None,
        )
        if chosen is None:
            raise FieldErrors({"worker": [_("Choose one of the provider's active care workers.")]})
        worker = chosen.user
    with service_errors():
        order = svc.offer_accept(actor=user, offer=found, worker=worker)
    return {
        "offer_id": found.pk,
        "order_id": order.pk,
        "status": order.status,
        "provider_id": order.provider_id,
        "worker_id": order.worker_id,
        "accepted_at": order.accepted_at,
    }


@router.post("/offers/{int:offer_id}/decline", response=ProviderOfferOut)
def offer_decline(request: HttpRequest, offer_id: int, body: DeclineIn) -> dict[str, Any]:
    """Decline with a reason; the order goes to the next best provider at once."""
    user, _member = _manager(request)
    found = sel.offer_for_provider(user=user, offer_id=offer_id)
    with service_errors():
        answered = svc.offer_decline(actor=user, offer=found, reason=body.reason)
    return sel.offer_summary(
        DispatchOffer.objects.select_related("order__item", "order__region").get(pk=answered.pk)
    )
