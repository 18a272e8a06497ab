"""A month of delivery history for the demo county, so that supervision, funds and the
dashboards have real numbers to show: every day from the first of last month to
yesterday, the demo providers serve orders in their contract areas — checked in, steps
ticked, checked out, rated — with a few cancellations, no-shows and one dispute.

Two providers are made to perform badly, deliberately and deterministically, so that the
monthly scorecard gives the demo one yellow and one red light:

- 马埠镇夕阳红养老服务站 (yellow): late more often, middling ratings;
- 峡江县安居家政服务有限公司 (red): low ratings, no-shows and a dispute.

This is history, not live work: the rows are written in bulk (several hundred orders in
a second or two) with the times they would have had, and each served order leaves one
entry on its household's timeline. Live orders still go through the services (the rest
of the demo). Idempotent: a county that already has orders served before today is left
alone.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.regions.models import Level, Region
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.timeline import timeline_add
from jiuzhu.services import choices as c
from jiuzhu.services.models import (
    ContractItem,
    DispatchOffer,
    Need,
    Provider,
    ProviderContract,
    ProviderMember,
    ServiceOrder,
)

YELLOW_PROVIDER = "马埠镇夕阳红养老服务站（示例）"
RED_PROVIDER = "峡江县安居家政服务有限公司（示例）"


@dataclass(frozen=True)
class Profile:
    """How a provider performs: ratings drawn from ``ratings`` (weights for 1–5), the
    share of orders finished late, of provider no-shows and of disputes."""

    ratings: tuple[int, int, int, int, int]
    late: float
    no_show: float
    dispute: float
    orders_per_day: float


GOOD = Profile(ratings=(0, 0, 2, 20, 78), late=0.005, no_show=0.0, dispute=0.0, orders_per_day=0.9)
YELLOW = Profile(
    ratings=(0, 4, 14, 48, 34), late=0.14, no_show=0.0, dispute=0.0, orders_per_day=0.7
)
RED = Profile(
    ratings=(10, 22, 30, 25, 13), late=0.30, no_show=0.08, dispute=0.03, orders_per_day=0.8
)


@dataclass(frozen=True)
class Window:
    first: datetime.date  # the first of last month
    last: datetime.date  # yesterday


def activity_window(today: datetime.date) -> Window:
    first_of_this = today.replace(day=1)
    first_of_last = (first_of_this - datetime.timedelta(days=1)).replace(day=1)
    return Window(first=first_of_last, last=today - datetime.timedelta(days=1))


def _profile(provider: Provider) -> Profile:
    if provider.name == YELLOW_PROVIDER:
        return YELLOW
    if provider.name == RED_PROVIDER:
        return RED
    return GOOD


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _households_by_area(county_code: str) -> dict[str, list[tuple[int, str]]]:
    """(household id, village code) per village, for households that have members."""
    rows = (
        Household.objects.filter(region__code__startswith=county_code, members__isnull=False)
        .values_list("id", "region__code")
        .distinct()
        .order_by("id")
    )
    by_village: dict[str, list[tuple[int, str]]] = {}
    for household_id, village in rows:
        by_village.setdefault(village, []).append((household_id, village))
    return by_village


def _in_areas(
    contract: ProviderContract, by_village: dict[str, list[tuple[int, str]]]
) -> list[tuple[int, str]]:
    codes = [area.code for area in contract.areas.all()]
    return [
        pair
        for village, pairs in by_village.items()
        if any(village.startswith(code) for code in codes)
        for pair in pairs
    ]


def seed_activity(
    *, county_code: str, seed: int = 0, today: datetime.date | None = None
) -> dict[str, Any]:
    today = today or timezone.localdate()
    window = activity_window(today)
    already = ServiceOrder.objects.filter(
        region__code__startswith=county_code, service_date__lt=today, check_out_at__isnull=False
    ).exists()
    if already:
        return {"orders": 0, "skipped": "history already seeded"}
    draw = random.Random(f"activity:{county_code}:{seed}")
    by_village = _households_by_area(county_code)
    if not by_village:
        return {"orders": 0, "skipped": "no households"}
    heads = dict(
        Person.objects.filter(
            household__region__code__startswith=county_code, relationship="head"
        ).values_list("household_id", "id")
    )
    villages = {code: (lat, lon) for code, lat, lon in _village_points(county_code)}
    contracts = list(
        ProviderContract.objects.filter(
            provider__region__code__startswith=county_code,
            provider__is_active=True,
            status=c.ContractStatus.ACTIVE,
        )
        .select_related("provider")
        .prefetch_related("areas")
        .order_by("provider_id", "id")
    )
    workers = _workers(contracts)
    with transaction.atomic():
        counts = _write(
            draw=draw,
            window=window,
            contracts=contracts,
            by_village=by_village,
            heads=heads,
            villages=villages,
            workers=workers,
        )
        _refresh_ratings([contract.provider_id for contract in contracts])
    return counts


def _village_points(county_code: str) -> list[tuple[str, Decimal | None, Decimal | None]]:
    return list(
        Region.objects.filter(code__startswith=county_code, level=Level.VILLAGE).values_list(
            "code", "lat", "lon"
        )
    )


def _workers(contracts: list[ProviderContract]) -> dict[int, int | None]:
    """A care worker per provider when it has staff accounts (the demo's two do)."""
    members = ProviderMember.objects.filter(
        provider_id__in={contract.provider_id for contract in contracts}, is_manager=False
    ).order_by("id")
    found: dict[int, int | None] = {}
    for member in members:
        found.setdefault(member.provider_id, member.user_id)
    return found


def _write(
    *,
    draw: random.Random,
    window: Window,
    contracts: list[ProviderContract],
    by_village: dict[str, list[tuple[int, str]]],
    heads: dict[int, int],
    villages: dict[str, tuple[Decimal | None, Decimal | None]],
    workers: dict[int, int | None],
) -> dict[str, Any]:
    needs: list[Need] = []
    orders: list[ServiceOrder] = []
    plan: list[dict[str, Any]] = []
    days = (window.last - window.first).days + 1
    for contract in contracts:
        profile = _profile(contract.provider)
        prices = list(
            ContractItem.objects.filter(contract=contract)
            .select_related("item")
            .order_by("item__code")
        )
        homes = _in_areas(contract, by_village)
        if not prices or not homes:
            continue
        funding = (
            c.Funding.CHARITY
            if contract.provider.kind == c.ProviderKind.CHARITY
            else c.Funding.PROJECT
        )
        for offset in range(days):
            day = window.first + datetime.timedelta(days=offset)
            count = int(profile.orders_per_day) + (draw.random() < profile.orders_per_day % 1)
            for _number in range(count):
                household_id, village = draw.choice(homes)
                line = draw.choice(prices[:6])
                lat, lon = villages.get(village, (None, None))
                outcome = _outcome(draw, profile, day, window.last)
                plan.append(
                    {
                        "contract": contract,
                        "day": day,
                        "household": household_id,
                        "village": village,
                        "line": line,
                        "lat": lat,
                        "lon": lon,
                        "outcome": outcome,
                        "funding": funding,
                    }
                )
    for row in plan:
        outcome = row["outcome"]
        day = row["day"]
        served = outcome["status"] in (
            c.OrderStatus.CLOSED,
            c.OrderStatus.CHECKED_OUT,
            c.OrderStatus.DISPUTED,
        )
        needs.append(
            Need(
                household_id=row["household"],
                person_id=heads.get(row["household"]),
                region_id=row["village"],
                source=c.NeedSource.STAFF,
                route=c.Route.DISPATCH,
                funding=row["funding"],
                item=row["line"].item,
                title=row["line"].item.name_zh,
                lat=row["lat"],
                lon=row["lon"],
                status=c.NeedStatus.FULFILLED
                if served
                else (
                    c.NeedStatus.CANCELLED
                    if outcome["status"] == c.OrderStatus.CANCELLED
                    else c.NeedStatus.DISPATCHING
                ),
                fulfilled_at=_at(day, 10) if served else None,
            )
        )
    Need.objects.bulk_create(needs, batch_size=500)
    for need, row in zip(needs, plan, strict=True):
        day = row["day"]
        outcome = row["outcome"]
        contract = row["contract"]
        price = row["line"].price
        lat = row["lat"]
        lon = row["lon"]
        check_in = _at(day, 9, outcome["minute"]) if outcome["served"] else None
        check_out = _at(day, 10, outcome["minute"]) if outcome["served"] else None
        orders.append(
            ServiceOrder(
                need=need,
                household_id=row["household"],
                person_id=need.person_id,
                region_id=row["village"],
                item=row["line"].item,
                funding=row["funding"],
                quantity=1,
                unit_price=price,
                amount=price,
                urgency=c.Urgency.NORMAL,
                service_date=day,
                lat=row["lat"],
                lon=row["lon"],
                status=outcome["status"],
                provider=contract.provider,
                contract=contract,
                worker_id=workers.get(contract.provider_id),
                accepted_at=_at(day - datetime.timedelta(days=1), 10, 5),
                check_in_at=check_in,
                **_positions(lat, lon, served=check_in is not None),
                checklist=_checklist(row["line"].item, check_in) if check_in else [],
                check_out_at=check_out,
                rating=outcome["rating"],
                rated_how=c.RatedHow.PHONE if outcome["rating"] else "",
                rated_at=_at(day, 15) if outcome["rating"] else None,
                # Every outcome but "served, awaiting a rating" has ended the order.
                closed_at=None if outcome["status"] == c.OrderStatus.CHECKED_OUT else _at(day, 15),
                reason=outcome["reason"],
                absent=outcome["absent"],
                dispatch_due_at=_at(day - datetime.timedelta(days=1), 17),
                start_due_at=_at(day, 10),
                finish_due_at=_at(day, 9) if outcome["late"] else _at(day, 12),
            )
        )
    ServiceOrder.objects.bulk_create(orders, batch_size=500)
    contract_of = {id(order): row["contract"] for order, row in zip(orders, plan, strict=True)}
    offers = [
        DispatchOffer(
            order=order,
            provider=contract_of[id(order)].provider,
            contract=contract_of[id(order)],
            status=c.OfferStatus.ACCEPTED,
            offered_by=c.OfferedBy.OPTIMISER,
            expires_at=_at(order.service_date - datetime.timedelta(days=1), 14),
            answered_at=order.accepted_at,
        )
        for order in orders
    ]
    DispatchOffer.objects.bulk_create(offers, batch_size=500)
    # auto_now_add stamped them with today; give them the times they would have had.
    for need, order, offer in zip(needs, orders, offers, strict=True):
        need.created_at = _at(order.service_date - datetime.timedelta(days=1), 9, 30)
        order.created_at = need.created_at
        offer.offered_at = _at(order.service_date - datetime.timedelta(days=1), 9, 45)
    Need.objects.bulk_update(needs, ["created_at"], batch_size=500)
    ServiceOrder.objects.bulk_update(orders, ["created_at"], batch_size=500)
    DispatchOffer.objects.bulk_update(offers, ["offered_at"], batch_size=500)
    for order in orders:
        if order.check_out_at is None:
            continue
        timeline_add(
            household_id=order.household_id,
            kind="services.order_checked_out",
            summary=_("%(item)s served by %(provider)s, rated %(rating)s")
            % {
                "item": order.item.name_zh,
                "provider": order.provider.name if order.provider else "",
                "rating": order.rating or "—",
            },
            occurred_at=order.check_out_at,
            detail={"order": order.pk, "item": order.item.code, "rating": order.rating},
            object_type="services.order",
            object_id=order.pk,
            actor=None,
        )
    by_status: dict[str, int] = {}
    for order in orders:
        by_status[order.status] = by_status.get(order.status, 0) + 1
    return {
        "orders": len(orders),
        "from": window.first.isoformat(),
        "until": window.last.isoformat(),
        "by_status": by_status,
        "amount": str(sum((o.amount for o in orders), Decimal(0))),
    }


def _positions(lat: Decimal | None, lon: Decimal | None, *, served: bool) -> dict[str, Any]:
    """Where the worker checked in and out: at the household's village point."""
    if not served:
        return {}
    return {"check_in_lat": lat, "check_in_lon": lon, "check_out_lat": lat, "check_out_lon": lon}


def _outcome(
    draw: random.Random, profile: Profile, day: datetime.date, last: datetime.date
) -> dict[str, Any]:
    roll = draw.random()
    recent = (last - day).days < 2
    base = {
        "rating": None,
        "reason": "",
        "absent": "",
        "late": False,
        "served": False,
        "minute": draw.randrange(0, 50),
    }
    if roll < profile.no_show:
        return base | {
            "status": c.OrderStatus.NO_SHOW,
            "absent": "provider",
            "reason": "服务人员未按约上门",
        }
    if roll < profile.no_show + 0.02:
        return base | {"status": c.OrderStatus.CANCELLED, "reason": "老人住院，取消本次服务"}
    late = draw.random() < profile.late
    rating = draw.choices([1, 2, 3, 4, 5], weights=profile.ratings)[0]
    if draw.random() < profile.dispute:
        return base | {
            "status": c.OrderStatus.DISPUTED,
            "reason": "家属反映服务时长不足、记录与实际不符",
            "served": True,
            "late": late,
        }
    if recent and draw.random() < 0.5:
        return base | {"status": c.OrderStatus.CHECKED_OUT, "served": True, "late": late}
    return base | {"status": c.OrderStatus.CLOSED, "served": True, "late": late, "rating": rating}


def _checklist(item: Any, at: datetime.datetime | None) -> list[dict[str, Any]]:
    steps = getattr(item, "steps", None) or []
    stamp = at.isoformat() if at else ""
    return [
        {
            "action": step.get("action", "") if isinstance(step, dict) else str(step),
            "requirement": step.get("requirement", "") if isinstance(step, dict) else "",
            "done": True,
            "at": stamp,
        }
        for step in steps
    ]


def _refresh_ratings(provider_ids: list[int]) -> None:
    """Keep the providers' rating sums (dispatch reads them) equal to their orders'."""
    rows = (
        ServiceOrder.objects.filter(provider_id__in=provider_ids, rating__isnull=False)
        .values("provider_id")
        .annotate(total=Sum("rating"), count=Count("id"))
    )
    for row in rows:
        Provider.objects.filter(pk=row["provider_id"]).update(
            rating_sum=row["total"], rating_count=row["count"]
        )
