"""Dispatch (三单制: 点单 → 派单 → 接单): pending orders are offered to contracted providers,
one provider per order, chosen by the min-cost optimiser; the provider's manager accepts
or declines; silence past the offer's deadline hands the order on; a dispatcher may
override the choice.

The order's states this module moves::

    pending ──dispatch──▶ offered ──accept──▶ accepted      (the orders part takes over)
       ▲                     │
       └──decline / expiry───┘   (then dispatched again at once, without that provider)

An offer: offered → accepted | declined | expired | withdrawn (a dispatcher's override,
or the order ended). At most one offer per order is open (a database constraint).

Concurrency: every write locks the order row first and then the offer row, and changes
states with conditional UPDATEs (``status=…`` in the WHERE), so an accept that arrives
after the offer expired, or races the expiry pass, is refused; a dispatch run also locks
the providers it may offer to, so two dispatchers at once cannot overfill a provider.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.scoping import scoped
from jiuzhu.accounts.services import audit_record
from jiuzhu.channels.notifications import notify
from jiuzhu.registry.timeline import timeline_add
from jiuzhu.services import choices as c
from jiuzhu.services import dispatch_selectors as sel
from jiuzhu.services.models import (
    DispatchOffer,
    Provider,
    ProviderContract,
    ProviderMember,
    ServiceOrder,
)
from jiuzhu.services.optimiser import OrderIn, ProviderIn, assign, problem_from

# How long a provider has to answer an offer, by urgency (minutes).
DEFAULT_TIMEOUT_MINUTES: dict[str, float] = {
    c.Urgency.CRITICAL: 10,
    c.Urgency.URGENT: 30,
    c.Urgency.NORMAL: 240,
}
REASON_MAX = 200


def offer_timeouts() -> dict[str, float]:
    """Minutes per urgency: the defaults, changed by ``JIUZHU_OFFER_TIMEOUT_MINUTES``
    (a setting or an environment variable; JSON such as ``{"critical": 5}``)."""
    raw: Any = getattr(settings, "JIUZHU_OFFER_TIMEOUT_MINUTES", None) or os.environ.get(
        "JIUZHU_OFFER_TIMEOUT_MINUTES", ""
    )
    if not raw:
        return dict(DEFAULT_TIMEOUT_MINUTES)
    overrides = json.loads(raw) if isinstance(raw, str) else dict(raw)
    table = dict(DEFAULT_TIMEOUT_MINUTES)
    for urgency, minutes in overrides.items():
        if urgency not in c.Urgency.values or float(minutes) <= 0:
            raise ImproperlyConfigured(
                "JIUZHU_OFFER_TIMEOUT_MINUTES: urgencies are critical, urgent and normal; "
                "minutes must be above 0"
            )
        table[urgency] = float(minutes)
    return table


def offer_deadline(urgency: str, now: datetime.datetime) -> datetime.datetime:
    table = offer_timeouts()
    minutes = table.get(urgency, table[c.Urgency.NORMAL])
    return now + datetime.timedelta(minutes=minutes)


@dataclass
class DispatchResult:
    offers: list[DispatchOffer] = field(default_factory=list)
    # Still pending: no provider may take them now, or the ones that may are full.
    waiting: list[ServiceOrder] = field(default_factory=list)
    considered: int = 0
    total_distance_km: float = 0.0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "considered": self.considered,
            "offered": len(self.offers),
            "waiting": len(self.waiting),
            "offers": [
                {"offer": o.pk, "order": o.order_id, "provider": o.provider_id} for o in self.offers
            ],
            "waiting_orders": [o.pk for o in self.waiting],
            "total_distance_km": round(self.total_distance_km, 2),
            "seconds": round(self.seconds, 3),
        }


# --- helpers ------------------------------------------------------------------------------


def _reason(reason: str, field_name: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError({field_name: _("Give a reason.")})
    if len(text) > REASON_MAX:
        raise ValidationError({field_name: _("At most %(n)s characters.") % {"n": REASON_MAX}})
    return text


def _require_dispatcher(actor: User | None) -> None:
    if actor is not None and not sel.may_dispatch(actor):
        raise PermissionDenied(_("You may not dispatch orders."))


def _in_scope(actor: User, order_ids: list[int]) -> bool:
    visible = scoped(actor, ServiceOrder.objects.filter(pk__in=order_ids)).count()
    return visible == len(set(order_ids))


def _timeline(
    order: ServiceOrder, event: str, summary: str, actor: User | None, **detail: Any
) -> None:
    timeline_add(
        household_id=order.household_id,
        kind=f"services.order_{event}",
        summary=summary,
        detail={"order": order.pk, **detail},
        object_type="services.order",
        object_id=order.pk,
        actor=actor,
    )


def _notify_offer(offer: DispatchOffer, order: ServiceOrder) -> None:
    """Tell the provider's managers, after the commit (nothing is said of a rollback)."""
    managers = sel.provider_managers(offer.provider_id)
    link = reverse("services:dispatch_offer", args=[offer.pk])
    subject = _("New order offered")
    body = _("%(item)s in %(village)s on %(day)s; answer by %(deadline)s") % {
        "item": order.item.name_zh,
        "village": order.region.name,
        "day": order.service_date.isoformat(),
        "deadline": timezone.localtime(offer.expires_at).strftime("%Y-%m-%d %H:%M"),
    }

    def send() -> None:
        for manager in managers:
            notify(kind="order_offered", subject=subject, body=body, user=manager, link=link)

    transaction.on_commit(send)


def _make_offer(
    *,
    order: ServiceOrder,
    provider: Provider,
    contract_id: int,
    now: datetime.datetime,
    offered_by: str,
    dispatcher: User | None = None,
    distance_km: float | None = None,
    cost: int | None = None,
    reason: str = "",
) -> DispatchOffer:
    """Offer a locked pending order to a provider (status offered, timeline, notice)."""
    moved = ServiceOrder.objects.filter(pk=order.pk, status=c.OrderStatus.PENDING).update(
        status=c.OrderStatus.OFFERED, updated_at=now
    )
    if not moved:
        raise ValidationError({"order": _("This order is not waiting for dispatch.")})
    offer = DispatchOffer.objects.create(
        order=order,
        provider=provider,
        contract_id=contract_id,
        offered_by=offered_by,
        dispatcher=dispatcher,
        distance_km=None if distance_km is None else Decimal(f"{distance_km:.2f}"),
        cost=cost,
        expires_at=offer_deadline(order.urgency, now),
        reason=reason[:REASON_MAX],
    )
    order.status = c.OrderStatus.OFFERED
    summary = (
        _("Dispatched to %(provider)s by the dispatcher") % {"provider": provider.name}
        if offered_by == c.OfferedBy.DISPATCHER
        else _("Dispatched to %(provider)s") % {"provider": provider.name}
    )
    _timeline(
        order,
        "offered",
        summary,
        dispatcher,
        offer=offer.pk,
        provider=provider.pk,
        offered_by=offered_by,
        distance_km=None if distance_km is None else round(distance_km, 2),
    )
    _notify_offer(offer, order)
    return offer


def _lock_providers_for(days: list[datetime.date]) -> None:
    """Lock (in id order) every provider with a contract in force on these days, so
    that their capacity is not read twice by two dispatch runs at once."""
    if not days:
        return
    ids = (
        ProviderContract.objects.filter(
            status=c.ContractStatus.ACTIVE,
            valid_from__lte=max(days),
            valid_to__gte=min(days),
        )
        .values_list("provider_id", flat=True)
        .distinct()
    )
    list(Provider.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


# --- dispatch (派单) ----------------------------------------------------------------------


def dispatch_orders(
    *,
    actor: User | None,
    orders: list[ServiceOrder] | None = None,
    now: datetime.datetime | None = None,
) -> DispatchResult:
    """Offer pending orders to providers, at most one each, by the optimiser.

    ``actor``: a dispatcher (Perm.DISPATCH; only orders of their area) or None (the
    platform: the scheduler, a re-dispatch after a decline or an expiry). ``orders``:
    these (those not pending are skipped), else every pending order in scope."""
    _require_dispatcher(actor)
    now = now or timezone.now()
    clock = time.perf_counter()
    ids = None if orders is None else sorted({o.pk for o in orders})
    if actor is not None and ids is not None and not _in_scope(actor, ids):
        raise PermissionDenied(_("You may not dispatch orders outside your area."))
    result = DispatchResult()
    with transaction.atomic():
        pending = ServiceOrder.objects.select_for_update().filter(status=c.OrderStatus.PENDING)
        if ids is not None:
            pending = pending.filter(pk__in=ids)
        if actor is not None:
            pending = pending.filter(pk__in=scoped(actor, ServiceOrder.objects.all()).values("pk"))
        # Lock in id order: two runs over overlapping orders wait rather than deadlock.
        locked = list(pending.order_by("pk").values_list("pk", flat=True))
        if not locked:
            return result
        rows = list(
            ServiceOrder.objects.filter(pk__in=locked)
            .select_related("item", "region")
            .annotate(rank=sel.urgency_rank())
            .order_by("rank", "dispatch_due_at", "created_at", "pk")
        )
        days = sorted({o.service_date for o in rows})
        _lock_providers_for(days)
        market = sel.market_for(days)
        refused = sel.refused_by(locked)
        contract_of: dict[tuple[int, int], int] = {}
        order_in: list[OrderIn] = []
        slots: set[tuple[int, datetime.date]] = set()
        for order in rows:
            candidates = market.candidates(order, refused.get(order.pk, ()))
            for provider_id, contract_id in candidates.items():
                contract_of[(order.pk, provider_id)] = contract_id
                slots.add((provider_id, order.service_date))
            lat, lon = sel.order_place(order)
            order_in.append(
                OrderIn(
                    id=order.pk,
                    lat=lat,
                    lon=lon,
                    candidates=[(pid, order.service_date) for pid in candidates],
                    priority=sel.PRIORITY.get(order.urgency, 0),
                )
            )
        provider_in = [
            ProviderIn(
                id=(pid, day),
                lat=market.providers[pid].lat,
                lon=market.providers[pid].lon,
                capacity=market.remaining(pid, day),
                rating=market.providers[pid].rating,
                workload=market.load.get((pid, day), 0),
            )
            for pid, day in sorted(slots)
        ]
        problem = problem_from(order_in, provider_in)
        assignment = assign(problem)
        if assignment.capacity_violations or assignment.ineligible:
            raise RuntimeError("the optimiser broke a capacity or an eligibility")
        providers = sel.providers_by_id(pid for pid, _day in slots)
        for i, order in enumerate(rows):
            chosen = assignment.provider_for(order.pk)
            if chosen is None:
                result.waiting.append(order)
                continue
            provider_id = chosen[0]  # type: ignore[index]
            distance = float(assignment.distance_km[i])
            known = distance == distance  # NaN: a place without coordinates
            result.offers.append(
                _make_offer(
                    order=order,
                    provider=providers[provider_id],
                    contract_id=contract_of[(order.pk, provider_id)],
                    now=now,
                    offered_by=c.OfferedBy.OPTIMISER,
                    distance_km=distance if known else None,
                    cost=int(assignment.cost[i]),
                )
            )
            if known:
                result.total_distance_km += distance
        result.considered = len(rows)
        if result.offers or actor is not None:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type="services.dispatch",
                detail={
                    "considered": len(rows),
                    "offered": len(result.offers),
                    "waiting": len(result.waiting),
                },
            )
    result.seconds = time.perf_counter() - clock
    return result


def dispatch_one(
    *, actor: User | None, order: ServiceOrder, now: datetime.datetime | None = None
) -> DispatchOffer | None:
    """Dispatch one order now (an urgent call): its offer, or None if nobody can take it."""
    result = dispatch_orders(actor=actor, orders=[order], now=now)
    return result.offers[0] if result.offers else None


# --- the provider's answer (接单) -------------------------------------------------------


def _answering(actor: User, offer: DispatchOffer) -> ProviderMember:
    member = sel.manager_membership(actor)
    if member is None or member.provider_id != offer.provider_id:
        raise PermissionDenied(_("Only a manager of the provider may answer this offer."))
    return member


def _lock(offer: DispatchOffer) -> tuple[ServiceOrder, DispatchOffer]:
    # Order first, then offer: the same order everywhere in this module.
    order = (
        ServiceOrder.objects.select_for_update()
        .select_related("item", "region")
        .get(pk=offer.order_id)
    )
    return order, DispatchOffer.objects.select_for_update().get(pk=offer.pk)


def _closed_offer_error(offer: DispatchOffer) -> ValidationError:
    return ValidationError(
        {
            "offer": _("This offer is no longer open (%(status)s).")
            % {"status": offer.get_status_display()}
        }
    )


@transaction.atomic
def offer_accept(
    *,
    actor: User,
    offer: DispatchOffer,
    worker: User | None = None,
    now: datetime.datetime | None = None,
) -> ServiceOrder:
    """The provider's manager takes the order (接单), optionally naming the care worker."""
    member = _answering(actor, offer)
    now = now or timezone.now()
    order, offer = _lock(offer)
    if offer.status != c.OfferStatus.OFFERED:
        raise _closed_offer_error(offer)
    if now >= offer.expires_at:
        raise ValidationError(
            {"offer": _("The time to answer has passed; the order goes to another provider.")}
        )
    if (
        worker is not None
        and not ProviderMember.objects.filter(
            provider_id=member.provider_id, user=worker, is_active=True, user__is_active=True
        ).exists()
    ):
        raise ValidationError({"worker": _("Choose one of the provider's active care workers.")})
    answered = DispatchOffer.objects.filter(pk=offer.pk, status=c.OfferStatus.OFFERED).update(
        status=c.OfferStatus.ACCEPTED, answered_at=now, answered_by=actor
    )
    moved = ServiceOrder.objects.filter(pk=order.pk, status=c.OrderStatus.OFFERED).update(
        status=c.OrderStatus.ACCEPTED,
        provider_id=offer.provider_id,
        contract_id=offer.contract_id,
        accepted_at=now,
        worker=worker,
        updated_at=now,
    )
    if not answered or not moved:
        raise _closed_offer_error(offer)
    order.refresh_from_db()
    provider = offer.provider
    _timeline(
        order,
        "accepted",
        _("Accepted by %(provider)s") % {"provider": provider.name},
        actor,
        offer=offer.pk,
        provider=provider.pk,
        worker=worker.pk if worker is not None else None,
    )
    if worker is not None and worker.pk != actor.pk:
        link = reverse("services:orders_work_order", args=[order.pk])
        transaction.on_commit(
            lambda: notify(
                kind="order_assigned",
                subject=_("New service order"),
                body=_("%(item)s on %(day)s")
                % {"item": order.item.name_zh, "day": order.service_date.isoformat()},
                user=worker,
                link=link,
            )
        )
    return order


@transaction.atomic
def offer_decline(
    *, actor: User, offer: DispatchOffer, reason: str, now: datetime.datetime | None = None
) -> DispatchOffer:
    """The provider's manager declines; the order is dispatched again at once, to the
    next best provider (never again to this one by the optimiser)."""
    _answering(actor, offer)
    text = _reason(reason)
    now = now or timezone.now()
    order, offer = _lock(offer)
    if offer.status != c.OfferStatus.OFFERED:
        raise _closed_offer_error(offer)
    DispatchOffer.objects.filter(pk=offer.pk, status=c.OfferStatus.OFFERED).update(
        status=c.OfferStatus.DECLINED, answered_at=now, answered_by=actor, reason=text
    )
    ServiceOrder.objects.filter(pk=order.pk, status=c.OrderStatus.OFFERED).update(
        status=c.OrderStatus.PENDING, updated_at=now
    )
    _timeline(
        order,
        "declined",
        _("Declined by %(provider)s") % {"provider": offer.provider.name},
        actor,
        offer=offer.pk,
        provider=offer.provider_id,
    )
    dispatch_orders(actor=None, orders=[order], now=now)
    offer.refresh_from_db()
    return offer


def offers_expire(*, now: datetime.datetime | None = None) -> int:
    """Offers nobody answered in time become expired; their orders are dispatched again
    at once. Returns how many expired."""
    now = now or timezone.now()
    due = list(
        DispatchOffer.objects.filter(status=c.OfferStatus.OFFERED, expires_at__lte=now)
        .order_by("order_id")
        .values_list("pk", "order_id")
    )
    expired: list[ServiceOrder] = []
    for offer_id, order_id in due:
        with transaction.atomic():
            order = (
                ServiceOrder.objects.select_for_update()
                .select_related("item", "region")
                .filter(pk=order_id)
                .first()
            )
            if order is None:
                continue
            changed = DispatchOffer.objects.filter(
                pk=offer_id, status=c.OfferStatus.OFFERED, expires_at__lte=now
            ).update(status=c.OfferStatus.EXPIRED, answered_at=now)
            if not changed:
                continue  # answered meanwhile
            ServiceOrder.objects.filter(pk=order_id, status=c.OrderStatus.OFFERED).update(
                status=c.OrderStatus.PENDING, updated_at=now
            )
            offer = DispatchOffer.objects.select_related("provider").get(pk=offer_id)
            _timeline(
                order,
                "offer_expired",
                _("No answer from %(provider)s in time") % {"provider": offer.provider.name},
                None,
                offer=offer_id,
                provider=offer.provider_id,
            )
            expired.append(order)
    if expired:
        dispatch_orders(actor=None, orders=expired, now=now)
    return len(expired)


# --- the dispatcher's override -----------------------------------------------------------


@transaction.atomic
def dispatch_override(
    *,
    actor: User,
    order: ServiceOrder,
    provider: Provider,
    reason: str,
    now: datetime.datetime | None = None,
) -> DispatchOffer:
    """A dispatcher offers the order to the provider they choose: the open offer, if
    any, is withdrawn. The provider must be able to take it except for distance (not
    red, a contract in force for the item, the village and the day, room left)."""
    if not sel.may_dispatch(actor) or not _in_scope(actor, [order.pk]):
        raise PermissionDenied(_("You may not dispatch this order."))
    text = _reason(reason)
    now = now or timezone.now()
    locked = (
        ServiceOrder.objects.select_for_update().select_related("item", "region").get(pk=order.pk)
    )
    if locked.status not in (c.OrderStatus.PENDING, c.OrderStatus.OFFERED):
        raise ValidationError(
            {"order": _("Only an order waiting for a provider can be dispatched.")}
        )
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    if provider.light == c.Light.RED:
        raise ValidationError(
            {
                "provider": _(
                    "%(provider)s is on red light (supervision) and receives no new orders."
                )
                % {"provider": provider.name}
            }
        )
    if not provider.is_active:
        raise ValidationError({"provider": _("This provider is not active.")})
    choice = next(
        (ch for ch in sel.override_choices(locked) if ch.provider_id == provider.pk), None
    )
    if choice is None:
        raise ValidationError(
            {
                "provider": _(
                    "This provider has no contract in force for this service in this village "
                    "on that day, or no room left that day."
                )
            }
        )
    current = (
        DispatchOffer.objects.select_for_update()
        .filter(order=locked, status=c.OfferStatus.OFFERED)
        .first()
    )
    if current is not None:
        DispatchOffer.objects.filter(pk=current.pk, status=c.OfferStatus.OFFERED).update(
            status=c.OfferStatus.WITHDRAWN,
            answered_at=now,
            answered_by=actor,
            reason=_("Withdrawn by the dispatcher: %(reason)s") % {"reason": text},
        )
        ServiceOrder.objects.filter(pk=locked.pk, status=c.OrderStatus.OFFERED).update(
            status=c.OrderStatus.PENDING, updated_at=now
        )
    offer = _make_offer(
        order=locked,
        provider=provider,
        contract_id=choice.contract_id,
        now=now,
        offered_by=c.OfferedBy.DISPATCHER,
        dispatcher=actor,
        distance_km=choice.distance_km,
        reason=text,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="services.order",
        object_id=locked.pk,
        region_code=locked.region_id,
        detail={
            "dispatch_override": True,
            "provider": provider.pk,
            "withdrawn_offer": current.pk if current is not None else None,
            "previous_provider": current.provider_id if current is not None else None,
            "offer": offer.pk,
            "reason": text,
        },
    )
    return offer


# --- the scheduler's pass ----------------------------------------------------------------


def dispatch_tick(*, now: datetime.datetime | None = None) -> dict[str, Any]:
    """Expire unanswered offers (re-dispatching their orders), then dispatch every
    pending order. For the scheduler (``jiuzhu dispatch_tick``)."""
    now = now or timezone.now()
    expired = offers_expire(now=now)
    result = dispatch_orders(actor=None, now=now)
    return {
        "expired": expired,
        "offered": len(result.offers),
        "waiting": len(result.waiting),
        "total_distance_km": round(result.total_distance_km, 2),
        "seconds": round(result.seconds, 3),
    }
