"""Reads for dispatch (派单): who may take an order, how much room they have left, and
the dispatcher's and the providers' lists.

Eligibility of a provider for an order (every rule but distance):

- a contract with status "in force" whose period covers the order's service date;
- one of the contract's areas is the order's village or a region above it (a contract
  for the town serves all its villages, one for the county the whole county);
- the order's catalogue item is under that contract;
- the provider is active and its traffic light is not red (supervision's verdict: a red
  provider receives nothing new);
- it has room that day: the capacities of its contracts in force that day, summed, minus
  the orders it holds that day (accepted, in service or served and awaiting the rating)
  and the offers it has not answered yet.

The optimiser additionally leaves out providers that declined the order or let an offer
of it expire (``refused_by``); a dispatcher's override may still choose them.

Staff see orders and needs of their area (``accounts.scoping``). Provider staff see
their own provider's offers only, and only the public-safe face of the order (the item,
the village, the day and time window, the distance) until they accept it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import scoped, user_has_perm
from jiuzhu.services import choices as c
from jiuzhu.services.directory_selectors import member_of_user
from jiuzhu.services.models import (
    ContractItem,
    DispatchOffer,
    Need,
    Provider,
    ProviderContract,
    ProviderMember,
    ServiceOrder,
)

# Orders that hold a provider's capacity for their day once accepted.
HELD_STATUSES = (c.OrderStatus.ACCEPTED, c.OrderStatus.IN_SERVICE, c.OrderStatus.CHECKED_OUT)
# Offers whose provider is not offered the same order again by the optimiser.
REFUSED_STATUSES = (c.OfferStatus.DECLINED, c.OfferStatus.EXPIRED)
URGENCY_RANK: dict[str, int] = {c.Urgency.CRITICAL: 0, c.Urgency.URGENT: 1, c.Urgency.NORMAL: 2}
# Optimiser priority: served first when capacity is short.
PRIORITY: dict[str, int] = {c.Urgency.CRITICAL: 2, c.Urgency.URGENT: 1, c.Urgency.NORMAL: 0}


def urgency_rank() -> Case:
    return Case(
        *(When(urgency=value, then=Value(rank)) for value, rank in URGENCY_RANK.items()),
        default=Value(3),
        output_field=IntegerField(),
    )


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# --- eligibility and capacity -----------------------------------------------------------


@dataclass
class ContractTerms:
    """A contract in force, with what dispatch needs of it."""

    id: int
    provider_id: int
    valid_from: datetime.date
    valid_to: datetime.date
    capacity_per_day: int
    areas: tuple[str, ...]
    prices: dict[int, Decimal]  # item id → price

    def serves(self, *, region_code: str, item_id: int, day: datetime.date) -> bool:
        return (
            self.valid_from <= day <= self.valid_to
            and item_id in self.prices
            and any(region_code.startswith(area) for area in self.areas)
        )


@dataclass
class ProviderFacts:
    id: int
    name: str
    lat: float | None
    lon: float | None
    rating: float | None
    light: str


@dataclass
class Market:
    """Everything dispatch weighs for a set of service days: the contracts in force of
    active, non-red providers, each provider's capacity and load per day."""

    contracts: list[ContractTerms]
    providers: dict[int, ProviderFacts]
    capacity: dict[tuple[int, datetime.date], int] = field(default_factory=dict)
    load: dict[tuple[int, datetime.date], int] = field(default_factory=dict)

    def remaining(self, provider_id: int, day: datetime.date) -> int:
        return max(
            0, self.capacity.get((provider_id, day), 0) - self.load.get((provider_id, day), 0)
        )

    def contracts_for(self, order: ServiceOrder) -> dict[int, ContractTerms]:
        """Per provider, the contract an offer of this order would be under: the
        cheapest for the item among those that serve it (then the lowest id)."""
        best: dict[int, ContractTerms] = {}
        for terms in self.contracts:
            if not terms.serves(
                region_code=order.region_id, item_id=order.item_id, day=order.service_date
            ):
                continue
            held = best.get(terms.provider_id)
            key = (terms.prices[order.item_id], terms.id)
            if held is None or key < (held.prices[order.item_id], held.id):
                best[terms.provider_id] = terms
        return best

    def candidates(self, order: ServiceOrder, refused: Iterable[int] = ()) -> dict[int, int]:
        """Provider id → contract id for every provider that may take the order now."""
        refused = set(refused)
        return {
            provider_id: terms.id
            for provider_id, terms in self.contracts_for(order).items()
            if provider_id not in refused and self.remaining(provider_id, order.service_date) > 0
        }


def market_for(days: Iterable[datetime.date], *, include_red: bool = False) -> Market:
    """The contracts in force on any of ``days`` and the providers' capacity and load on
    each of them."""
    days = sorted(set(days))
    if not days:
        return Market(contracts=[], providers={})
    first, last = days[0], days[-1]
    contracts = (
        ProviderContract.objects.filter(
            status=c.ContractStatus.ACTIVE,
            valid_from__lte=last,
            valid_to__gte=first,
            provider__is_active=True,
        )
        .select_related("provider", "provider__region")
        .prefetch_related("areas")
        .order_by("provider_id", "id")
    )
    if not include_red:
        contracts = contracts.exclude(provider__light=c.Light.RED)
    contracts_list = list(contracts)
    prices: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for row in ContractItem.objects.filter(contract__in=[k.pk for k in contracts_list]).values(
        "contract_id", "item_id", "price"
    ):
        prices[row["contract_id"]][row["item_id"]] = row["price"]
    terms: list[ContractTerms] = []
    providers: dict[int, ProviderFacts] = {}
    capacity: dict[tuple[int, datetime.date], int] = defaultdict(int)
    for contract in contracts_list:
        provider = contract.provider
        terms.append(
            ContractTerms(
                id=contract.pk,
                provider_id=provider.pk,
                valid_from=contract.valid_from,
                valid_to=contract.valid_to,
                capacity_per_day=contract.capacity_per_day,
                areas=tuple(area.code for area in contract.areas.all()),
                prices=prices.get(contract.pk, {}),
            )
        )
        for day in days:
            if contract.valid_from <= day <= contract.valid_to:
                capacity[(provider.pk, day)] += contract.capacity_per_day
        if provider.pk not in providers:
            # Workers set out from the provider's own place, else its region's seat.
            lat = provider.lat if provider.lat is not None else provider.region.lat
            lon = provider.lon if provider.lon is not None else provider.region.lon
            providers[provider.pk] = ProviderFacts(
                id=provider.pk,
                name=provider.name,
                lat=_float(lat),
                lon=_float(lon),
                rating=provider.rating,
                light=provider.light,
            )
    return Market(
        contracts=terms,
        providers=providers,
        capacity=dict(capacity),
        load=provider_load(list(providers), days),
    )


def provider_load(
    provider_ids: list[int], days: Iterable[datetime.date]
) -> dict[tuple[int, datetime.date], int]:
    """Per (provider, day): the orders it holds that day and its unanswered offers."""
    days = list(days)
    load: dict[tuple[int, datetime.date], int] = defaultdict(int)
    if not provider_ids or not days:
        return {}
    held = (
        ServiceOrder.objects.filter(
            provider_id__in=provider_ids, service_date__in=days, status__in=HELD_STATUSES
        )
        .values("provider_id", "service_date")
        .annotate(n=Count("id"))
    )
    for row in held:
        load[(row["provider_id"], row["service_date"])] += row["n"]
    offered = (
        DispatchOffer.objects.filter(
            provider_id__in=provider_ids,
            order__service_date__in=days,
            status=c.OfferStatus.OFFERED,
        )
        .values("provider_id", "order__service_date")
        .annotate(n=Count("id"))
    )
    for row in offered:
        load[(row["provider_id"], row["order__service_date"])] += row["n"]
    return dict(load)


def refused_by(order_ids: Iterable[int]) -> dict[int, set[int]]:
    """Per order: the providers that declined it or let an offer of it expire."""
    refused: dict[int, set[int]] = defaultdict(set)
    for order_id, provider_id in DispatchOffer.objects.filter(
        order_id__in=list(order_ids), status__in=REFUSED_STATUSES
    ).values_list("order_id", "provider_id"):
        refused[order_id].add(provider_id)
    return refused


@dataclass(frozen=True)
class Choice:
    """A provider a dispatcher may choose for an order (the override form)."""

    provider_id: int
    name: str
    contract_id: int
    remaining: int
    distance_km: float | None
    rating: float | None
    light: str
    refused: bool  # declined it or let an offer expire before


def override_choices(order: ServiceOrder) -> list[Choice]:
    """Providers that may take the order except for distance (non-red, contract in
    force for the item and the village that day, room left), nearest first."""
    from jiuzhu.services.optimiser import haversine_km

    market = market_for([order.service_date])
    refused = refused_by([order.pk]).get(order.pk, set())
    current = DispatchOffer.objects.filter(order=order, status=c.OfferStatus.OFFERED).first()
    lat, lon = order_place(order)
    rows = []
    for provider_id, terms in market.contracts_for(order).items():
        remaining = market.remaining(provider_id, order.service_date)
        if current is not None and current.provider_id == provider_id:
            remaining += 1  # its own offer is what would be withdrawn
        if remaining <= 0:
            continue
        facts = market.providers[provider_id]
        distance = None
        if None not in (lat, lon, facts.lat, facts.lon):
            distance = float(haversine_km(lat, lon, facts.lat, facts.lon))  # type: ignore[arg-type]
        rows.append(
            Choice(
                provider_id=provider_id,
                name=facts.name,
                contract_id=terms.id,
                remaining=remaining,
                distance_km=None if distance is None else round(distance, 1),
                rating=facts.rating,
                light=facts.light,
                refused=provider_id in refused,
            )
        )
    return sorted(rows, key=lambda r: (r.distance_km is None, r.distance_km or 0, r.name))


def order_place(order: ServiceOrder) -> tuple[float | None, float | None]:
    """The order's coordinates, else its village's seat."""
    lat, lon = order.lat, order.lon
    if lat is None or lon is None:
        lat, lon = order.region.lat, order.region.lon
    return _float(lat), _float(lon)


# --- the dispatcher's console ----------------------------------------------------------


def may_dispatch(user: Any) -> bool:
    return user_has_perm(user, Perm.DISPATCH)


def orders_in_scope(user: Any) -> QuerySet[ServiceOrder]:
    if not may_dispatch(user):
        return ServiceOrder.objects.none()
    return scoped(user, ServiceOrder.objects.select_related("item", "region", "need"))


def pending_orders(user: Any, *, now: datetime.datetime | None = None) -> list[ServiceOrder]:
    """Pending orders, overdue first (``dispatch_due_at`` passed), then by urgency, then
    by deadline and age. Each carries ``overdue``."""
    now = now or timezone.now()
    rows: list[ServiceOrder] = list(
        orders_in_scope(user)
        .filter(status=c.OrderStatus.PENDING)
        .annotate(
            late=Case(
                When(dispatch_due_at__lt=now, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            rank=urgency_rank(),
        )
        .order_by("late", "rank", "dispatch_due_at", "created_at", "id")
    )
    for order in rows:
        order.overdue = order.dispatch_due_at is not None and order.dispatch_due_at < now  # type: ignore[attr-defined]
    return rows


def orders_nobody_can_take(orders: list[ServiceOrder]) -> set[int]:
    """Of these pending orders, those no provider can take now (no eligible provider with
    room that has not already refused it)."""
    if not orders:
        return set()
    market = market_for(o.service_date for o in orders)
    refused = refused_by(o.pk for o in orders)
    return {o.pk for o in orders if not market.candidates(o, refused.get(o.pk, ()))}


def needs_awaiting_order(user: Any) -> list[Need]:
    """Needs on the dispatch route with no open order yet (a one-key call's urgent need,
    a need whose order was cancelled), most urgent first."""
    if not may_dispatch(user):
        return []
    open_order = ServiceOrder.objects.filter(need=OuterRef("pk"), status__in=c.OPEN_ORDER_STATUSES)
    return list(
        scoped(user, Need.objects.select_related("item", "region"))
        .filter(
            route=c.Route.DISPATCH,
            status__in=(c.NeedStatus.DRAFT, c.NeedStatus.DISPATCHING),
        )
        .exclude(Exists(open_order))
        .annotate(rank=urgency_rank())
        .order_by("rank", "assign_due_at", "created_at", "id")[:200]
    )


def open_offers(user: Any) -> list[DispatchOffer]:
    """Offers waiting for the provider's answer, the soonest to expire first."""
    if not may_dispatch(user):
        return []
    orders = orders_in_scope(user).values("pk")
    return list(
        DispatchOffer.objects.filter(status=c.OfferStatus.OFFERED, order__in=orders)
        .select_related("order", "order__item", "order__region", "provider")
        .order_by("expires_at", "id")
    )


def recent_answers(user: Any, *, limit: int = 30) -> list[DispatchOffer]:
    """The latest accepted, declined, expired and withdrawn offers."""
    if not may_dispatch(user):
        return []
    orders = orders_in_scope(user).values("pk")
    return list(
        DispatchOffer.objects.filter(order__in=orders, answered_at__isnull=False)
        .select_related("order", "order__item", "order__region", "provider", "answered_by")
        .order_by("-answered_at", "-id")[:limit]
    )


def order_for_dispatcher(*, user: Any, order_id: int) -> ServiceOrder:
    order = orders_in_scope(user).filter(pk=order_id).first()
    if order is None:
        raise Http404("Not found")
    return order


def need_for_dispatcher(*, user: Any, need_id: int) -> Need:
    if not may_dispatch(user):
        raise Http404("Not found")
    need = scoped(user, Need.objects.select_related("item", "region")).filter(pk=need_id).first()
    if need is None:
        raise Http404("Not found")
    return need


def order_offers(order: ServiceOrder) -> list[DispatchOffer]:
    return list(
        DispatchOffer.objects.filter(order=order)
        .select_related("provider", "dispatcher", "answered_by")
        .order_by("-offered_at", "-id")
    )


# --- the provider's side ---------------------------------------------------------------


def manager_membership(user: Any) -> ProviderMember | None:
    """The user's membership if they may answer offers: an active manager of an active
    provider, with the right to serve orders."""
    if not user_has_perm(user, Perm.SERVE_ORDERS):
        return None
    member = member_of_user(user)
    if member is None or not member.is_manager:
        return None
    return member


def offers_for_provider(user: Any) -> QuerySet[DispatchOffer]:
    """Every offer made to the user's provider (managers only; none otherwise)."""
    member = manager_membership(user)
    if member is None:
        return DispatchOffer.objects.none()
    return DispatchOffer.objects.filter(provider_id=member.provider_id).select_related(
        "order", "order__item", "order__region", "provider"
    )


def open_offers_for_provider(user: Any) -> list[DispatchOffer]:
    return list(
        offers_for_provider(user).filter(status=c.OfferStatus.OFFERED).order_by("expires_at", "id")
    )


def offer_for_provider(*, user: Any, offer_id: int) -> DispatchOffer:
    offer = offers_for_provider(user).filter(pk=offer_id).first()
    if offer is None:
        raise Http404("Not found")
    return offer


def provider_workers(provider_id: int) -> list[ProviderMember]:
    """The provider's active staff an accepted order can be given to."""
    return list(
        ProviderMember.objects.filter(provider_id=provider_id, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("-is_manager", "user__username")
    )


def offer_summary(offer: DispatchOffer) -> dict[str, Any]:
    """The public-safe face of an offered order: what, where (the village), when, how
    far, how urgent, until when to answer. No name, address or phone."""
    order = offer.order
    return {
        "offer_id": offer.pk,
        "order_id": order.pk,
        "status": offer.status,
        "item": order.item.name_zh,
        "item_code": order.item.code,
        "quantity": order.quantity,
        "village": order.region.name,
        "region_code": order.region_id,
        "service_date": order.service_date,
        "window_start": order.window_start,
        "window_end": order.window_end,
        "urgency": order.urgency,
        "distance_km": offer.distance_km,
        "offered_at": offer.offered_at,
        "expires_at": offer.expires_at,
    }


def providers_by_id(ids: Iterable[int]) -> dict[int, Provider]:
    return {p.pk: p for p in Provider.objects.filter(pk__in=list(ids))}


def provider_managers(provider_id: int) -> list[Any]:
    """The users who answer the provider's offers."""
    return [
        m.user
        for m in ProviderMember.objects.filter(
            provider_id=provider_id, is_manager=True, is_active=True, user__is_active=True
        ).select_related("user")
    ]


def is_refused(order: ServiceOrder, provider_id: int) -> bool:
    return DispatchOffer.objects.filter(
        order=order, provider_id=provider_id, status__in=REFUSED_STATUSES
    ).exists()
