"""A September of activity for the statistics tests, built through the real services
where they exist (orders, warnings' verification, needs and claims, light changes, the
ledger) and dated into the past; rows no service writes in the past (a warning raised on
a given day, an offer answered at a given minute, a done revisit) are written directly.

Everything the tests expect is written down here, next to the rows that make it."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from jiuzhu.funds.services import appropriation_post, fund_create, orders_post_costs
from jiuzhu.monitoring.models import MonitoringRun, Warning
from jiuzhu.monitoring.services import warning_verify
from jiuzhu.regions.models import Region
from jiuzhu.registry.models import Household
from jiuzhu.registry.services import household_create
from jiuzhu.services.models import DispatchOffer, Need, Provider, ServiceOrder
from jiuzhu.services.services.claims import claim_create
from jiuzhu.services.services.directory import provider_set_light
from jiuzhu.services.services.orders import order_create
from jiuzhu.supervision.models import LightDecision, Revisit
from tests.conftest import COUNTY, OTHER_TOWN, Family, Personas
from tests.services.delivery import make_provider, make_volunteer, valid_id
from tests.services.needs_factories import published
from tests.services.order_factories import project_need
from tests.supervision.factories import provider_with_staff, served_order

START = datetime.date(2026, 9, 1)
END = datetime.date(2026, 9, 30)
QUERY = {"from": "2026-09-01", "until": "2026-09-30"}

_keys = itertools.count(1)


def at(day: datetime.date, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def d(month: int, day: int) -> datetime.date:
    return datetime.date(2026, month, day)


def warning(
    household: Household, level: str, raised_at: datetime.datetime, run: MonitoringRun
) -> Warning:
    """A warning raised at ``raised_at`` (the monitoring run raises them "now")."""
    return Warning.objects.create(
        household=household,
        region_id=household.region_id,
        rule_id="test_rule",
        rule_version=1,
        level=level,
        event_key=f"event-{next(_keys)}",
        event_date=raised_at.date(),
        explanation="测试预警",
        run=run,
        raised_at=raised_at,
        deadline_hours=72,
        due_at=raised_at + datetime.timedelta(hours=72),
        assigned_region_id=household.region_id,
    )


def verify(w: Warning, user: Any, visited_at: datetime.datetime) -> None:
    warning_verify(
        warning=w,
        user=user,
        visited_at=visited_at,
        findings="上门核实，情况正常",
        outcome="false_alarm",
    )


def offer(
    order: ServiceOrder,
    provider: Provider,
    status: str,
    offered_at: datetime.datetime,
    answered_at: datetime.datetime | None,
) -> DispatchOffer:
    row = DispatchOffer.objects.create(
        order=order,
        provider=provider,
        contract=provider.contracts.first(),
        status=status,
        offered_by="optimiser",
        expires_at=offered_at + datetime.timedelta(hours=4),
        answered_at=answered_at,
    )
    DispatchOffer.objects.filter(pk=row.pk).update(offered_at=offered_at)
    return row


def revisit(order: ServiceOrder, *, status: str, passed: bool | None, done_at: Any) -> Revisit:
    return Revisit.objects.create(
        source="sample",
        order=order,
        household=order.household,
        region_id=order.region_id,
        provider=order.provider,
        method="phone",
        status=status,
        due_date=d(9, 30),
        passed=passed,
        done_at=done_at,
    )


def other_family() -> Household:
    village = Region.objects.filter(parent_id=OTHER_TOWN).order_by("code").first()
    assert village is not None
    return household_create(actor=None, region_code=village.code, address="马埠镇示例村1号")


@dataclass
class World:
    p1: Provider  # green; most orders
    p1_manager: Any
    p1_worker: Any
    p2: Provider  # yellow
    p2_manager: Any
    p3: Provider  # red, no orders
    orders: dict[str, ServiceOrder]
    other_household: Household
    spent_town: Decimal  # posted in September on orders of the town (village A)
    spent_other_town: Decimal


def september(personas: Personas, family: Family) -> World:
    """The seeded month. In the town (village A) and another town of the county:

    orders (service dates)            provider  result
      o1  09-05                       P1        served, rated 5; first offer accepted in 30 min
      o2  09-10                       P1        served late, rated 4; P2 declined, P1 accepted
                                                100 min after the first offer
      o3  09-12                       P1        served, rated 2
      o4  09-15                       P1        provider no-show
      o5  09-20                       P2        served, rated 3
      o6  10-05                       P1        served, rated 5 (outside the period)
      o7  09-25                       —         placed, nobody accepted (pending)
      o8  09-08 (other town)          P1        served, rated 1

    warnings (household, level, raised, visit)
      W1 family red     09-02 10:00  visited 09-03 10:00 (24 h)
      W2 family yellow  09-10 08:00  open (20.7 days at the end: >15)
      W3 family blue    09-28 12:00  open (2.5 days: 0–3)
      W4 family yellow  09-20 00:00  visited 10-05 (open at the end, 11 days: 8–15)
      W5 family red     08-25 10:00  visited 09-05 10:00 (264 h; raised before the period)
      Wx other  red     09-26 00:00  open (5 days: 4–7)

    needs on the claim market published in September: two, one claimed.
    lights: P1 green, P2 yellow (decided 09-18), P3 red (decided 09-25).
    revisits of P1's orders: o1 passed (09-20), o2 failed (09-21), o3 still to do.
    ledger: a voucher pool pays every served order (o1, o2, o3, o5, o8 in September).
    """
    p1, p1_manager, p1_worker = provider_with_staff("阳光社工服务中心")
    p2, p2_manager, p2_worker = provider_with_staff("夕阳红养老服务中心")
    p3 = make_provider("示例家政服务公司")
    other = other_family()

    class OtherFamily:
        household = other
        head = None

    orders: dict[str, ServiceOrder] = {}
    orders["o1"] = served_order(personas, family, p1, p1_worker, day=d(9, 5), rating=5)
    orders["o2"] = served_order(personas, family, p1, p1_worker, day=d(9, 10), rating=4, late=True)
    orders["o3"] = served_order(personas, family, p1, p1_worker, day=d(9, 12), rating=2)
    orders["o4"] = served_order(personas, family, p1, p1_worker, day=d(9, 15), no_show=True)
    orders["o5"] = served_order(personas, family, p2, p2_worker, day=d(9, 20), rating=3)
    orders["o6"] = served_order(personas, family, p1, p1_worker, day=d(10, 5), rating=5)
    pending = order_create(
        actor=personas.village_assistant,
        need=project_need(personas, family),
        service_date=timezone.localdate(),
    )
    ServiceOrder.objects.filter(pk=pending.pk).update(service_date=d(9, 25))
    orders["o7"] = pending
    # The village assistant of village A may not order for the other town: the county's
    # administrator places that order.
    county_staff = SimpleNamespace(village_assistant=personas.county_admin)
    orders["o8"] = served_order(
        county_staff,  # type: ignore[arg-type]
        OtherFamily,  # type: ignore[arg-type]
        p1,
        p1_worker,
        day=d(9, 8),
        rating=1,
    )
    for key in orders:
        orders[key].refresh_from_db()

    # Dispatch: o1 accepted on the first offer after 30 minutes; o2 declined by P2, then
    # accepted by P1 100 minutes after the first offer.
    t1 = at(d(9, 4), 9)
    offer(orders["o1"], p1, "accepted", t1, t1 + datetime.timedelta(minutes=30))
    t2 = at(d(9, 9), 9)
    offer(orders["o2"], p2, "declined", t2, t2 + datetime.timedelta(minutes=20))
    offer(
        orders["o2"],
        p1,
        "accepted",
        t2 + datetime.timedelta(minutes=60),
        t2 + datetime.timedelta(minutes=100),
    )

    # Warnings.
    run = MonitoringRun.objects.create(
        as_of=d(9, 1), engine="duckdb", mode="full", trigger="cli", pack="test"
    )
    h = family.household
    w1 = warning(h, "red", at(d(9, 2), 10), run)
    verify(w1, personas.village_assistant, at(d(9, 3), 10))
    warning(h, "yellow", at(d(9, 10), 8), run)
    warning(h, "blue", at(d(9, 28), 12), run)
    w4 = warning(h, "yellow", at(d(9, 20)), run)
    verify(w4, personas.village_assistant, at(d(10, 5), 10))
    w5 = warning(h, "red", at(d(8, 25), 10), run)
    verify(w5, personas.village_assistant, at(d(9, 5), 10))
    warning(other, "red", at(d(9, 26)), run)

    # Needs on the claim market: two published in September, one claimed.
    volunteer = make_volunteer("vol_dash", valid_id(41), name="志愿者甲")
    first = published(personas, family)
    second = published(personas, family, title="助听器")
    Need.objects.filter(pk__in=[first.pk, second.pk]).update(published_at=at(d(9, 3), 9))
    claim = claim_create(actor=volunteer, need=first, now=at(d(9, 3), 15))
    assert claim.pk

    # Lights.
    provider_set_light(
        provider=p2, light="yellow", reason="满意度偏低", actor=personas.county_admin
    )
    provider_set_light(provider=p3, light="red", reason="多次未上门", actor=personas.county_admin)
    for provider, to_light, day, reason in (
        (p2, "yellow", d(9, 18), "满意度偏低"),
        (p3, "red", d(9, 25), "多次未上门"),
    ):
        decision = LightDecision.objects.create(
            provider=provider,
            kind="override",
            from_light="green",
            to_light=to_light,
            reason=reason,
            decided_by=personas.county_admin,
        )
        LightDecision.objects.filter(pk=decision.pk).update(decided_at=at(day, 11))
    p2.refresh_from_db()
    p3.refresh_from_db()

    # Revisits of P1's orders.
    revisit(orders["o1"], status="done", passed=True, done_at=at(d(9, 20), 10))
    revisit(orders["o2"], status="done", passed=False, done_at=at(d(9, 21), 10))
    revisit(orders["o3"], status="pending", passed=None, done_at=None)

    # The ledger: a county voucher pool pays every served order.
    ServiceOrder.objects.filter(pk__in=[o.pk for o in orders.values()]).update(funding="voucher")
    pool = fund_create(
        actor=personas.county_admin,
        region_code=COUNTY,
        code="xj-voucher",
        name="峡江县服务券资金池",
        kind="voucher_pool",
    )
    appropriation_post(
        actor=personas.county_admin,
        fund=pool,
        amount=Decimal("100000"),
        posted_on=d(8, 1),
        memo="2026年服务券预算",
    )
    result = orders_post_costs(county_code=COUNTY, actor=personas.county_admin)
    assert not result.skipped_unfunded, result.skipped_unfunded
    for key in orders:
        orders[key].refresh_from_db()
    spent_town = sum((orders[k].amount for k in ("o1", "o2", "o3", "o5")), Decimal(0))
    return World(
        p1=p1,
        p1_manager=p1_manager,
        p1_worker=p1_worker,
        p2=p2,
        p2_manager=p2_manager,
        p3=p3,
        orders=orders,
        other_household=other,
        spent_town=spent_town,
        spent_other_town=orders["o8"].amount,
    )
