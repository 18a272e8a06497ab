"""Dispatch (派单 / 接单): the optimiser's offers through the database, eligibility
(contracts, areas, items, periods, red lights, capacity per day), timeouts by urgency,
accept / decline / expiry and re-dispatch, the dispatcher's override, scope, and the
races (late accept against the expiry pass, two dispatchers at once) on PostgreSQL."""

from __future__ import annotations

import datetime
import io
import json
import threading
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent, User
from jiuzhu.registry.models import Household, TimelineEvent
from jiuzhu.services import dispatch_selectors as sel
from jiuzhu.services.models import (
    DispatchOffer,
    Provider,
    ProviderContract,
    ServiceItem,
    ServiceOrder,
)
from jiuzhu.services.services import dispatch as svc
from jiuzhu.services.services.needs import need_create
from tests.conftest import OTHER_TOWN, TOWN, VILLAGE_A, Family, Personas
from tests.services.delivery import SEAT, add_member, make_provider, place_regions

KM = Decimal(1) / Decimal("111.195")  # degrees of latitude per km


def north(km: float) -> Decimal:
    return (SEAT[0] + KM * Decimal(str(km))).quantize(Decimal("0.000001"))


def make_order(
    household: Household,
    *,
    item_code: str = "hair_cut",
    urgency: str = "normal",
    day: datetime.date | None = None,
    km: float | None = 0.0,
) -> ServiceOrder:
    """A pending order written directly (the orders part places them for real): a
    need from need_create, then the order row, ``km`` north of the county seat."""
    item = ServiceItem.objects.get(code=item_code)
    lat = north(km) if km is not None else None
    lon = SEAT[1] if km is not None else None
    need = need_create(
        actor=None,
        household=household,
        source="staff",
        route="dispatch",
        funding="project",
        title="",
        item=item,
        urgency=urgency,
        lat=lat,
        lon=lon,
    )
    return ServiceOrder.objects.create(
        need=need,
        household=household,
        region_id=need.region_id,
        item=item,
        funding="project",
        unit_price=item.price,
        amount=item.price,
        urgency=urgency,
        service_date=day or timezone.localdate(),
        lat=need.lat,
        lon=need.lon,
        status="pending",
        dispatch_due_at=need.assign_due_at,
    )


def provider_at(
    name: str, km: float, *, manager: str = "", **kw: Any
) -> tuple[Provider, User | None]:
    provider = make_provider(name, lat=north(km), lon=SEAT[1], items=["hair_cut"], **kw)
    return provider, (add_member(provider, manager, manager=True) if manager else None)


def open_offer(order: ServiceOrder) -> DispatchOffer | None:
    return DispatchOffer.objects.filter(order=order, status="offered").first()


@pytest.fixture
def seats(regions: None) -> None:
    place_regions()


# --- dispatching --------------------------------------------------------------------------


def test_pending_orders_are_offered_to_the_nearest_eligible_provider(
    personas: Personas,
    family: Family,
    seats: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given an order 1 km north, a provider at 2 km and one at 9 km
    near, manager = provider_at("近处社工站", 2, manager="near_boss")
    provider_at("远处社工站", 9)
    order = make_order(family.household, km=1)
    now = timezone.now()
    # when
    with (
        mock.patch("jiuzhu.services.services.dispatch.notify") as notify,
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = svc.dispatch_orders(actor=personas.county_admin, now=now)
    # then
    order.refresh_from_db()
    offer = open_offer(order)
    assert order.status == "offered"
    assert offer is not None and offer.provider == near
    assert offer.offered_by == "optimiser"
    assert offer.distance_km == Decimal("1.00")
    assert offer.cost is not None and offer.cost >= 100
    assert offer.expires_at == now + datetime.timedelta(hours=4)
    assert [o.pk for o in result.offers] == [offer.pk]
    assert result.waiting == []
    assert notify.call_args.kwargs["user"] == manager
    assert notify.call_args.kwargs["kind"] == "order_offered"
    assert TimelineEvent.objects.filter(
        household=family.household, kind="services.order_offered", object_id=str(order.pk)
    ).exists()


def test_the_optimiser_minimises_total_distance_where_nearest_first_would_not(
    personas: Personas, family: Family, seats: None
) -> None:
    # given providers A (at 0 km) and B (at 10 km), one place each; the first order sits
    # 4 km north, the second 0.5 km: nearest-first would give A to the first
    a, _ = provider_at("甲", 0, capacity_per_day=1)
    b, _ = provider_at("乙", 10, capacity_per_day=1)
    first = make_order(family.household, km=4)
    second = make_order(family.household, km=0.5)
    # when
    svc.dispatch_orders(actor=None)
    # then 6 + 0.5 km rather than 4 + 9.5 km
    assert open_offer(first).provider == b  # type: ignore[union-attr]
    assert open_offer(second).provider == a  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "kind",
    ["red", "inactive", "other_town", "other_item", "ended_contract", "suspended", "future"],
)
def test_providers_that_may_not_take_the_order_get_nothing(
    family: Family, seats: None, kind: str
) -> None:
    # given one provider next door that is not eligible for one reason
    today = timezone.localdate()
    options: dict[str, Any] = {
        "red": {"light": "red"},
        "other_town": {"areas": [OTHER_TOWN]},
        "other_item": {"items": ["bathing"]},
        "ended_contract": {
            "valid_from": today - datetime.timedelta(days=60),
            "valid_to": today - datetime.timedelta(days=1),
        },
        "future": {"valid_from": today + datetime.timedelta(days=1)},
    }.get(kind, {})
    items = options.pop("items", ["hair_cut"])
    provider = make_provider("邻近服务站", lat=north(0.5), lon=SEAT[1], items=items, **options)
    if kind == "inactive":
        Provider.objects.filter(pk=provider.pk).update(is_active=False)
    if kind == "suspended":
        ProviderContract.objects.filter(provider=provider).update(status="suspended")
    order = make_order(family.household)
    # when
    result = svc.dispatch_orders(actor=None)
    # then the order waits and the console says nobody can take it
    order.refresh_from_db()
    assert order.status == "pending"
    assert [o.pk for o in result.waiting] == [order.pk]
    assert not DispatchOffer.objects.exists()
    assert sel.orders_nobody_can_take([order]) == {order.pk}


def test_a_contract_for_the_town_or_the_village_serves_the_village(
    family: Family, seats: None
) -> None:
    # given a provider contracted for the town, one for the very village, one for the other
    town, _ = provider_at("镇服务站", 3, areas=[TOWN])
    village, _ = provider_at("村服务站", 5, areas=[VILLAGE_A])
    provider_at("邻村服务站", 0.5, areas=["360823100202"])
    orders = [make_order(family.household, km=0) for _ in range(2)]
    # when
    svc.dispatch_orders(actor=None)
    # then both may take it; the nearer has room for both
    assert {ch.provider_id for ch in sel.override_choices(orders[0])} == {town.pk, village.pk}
    assert {open_offer(o).provider for o in orders} == {town}  # type: ignore[union-attr]


def test_capacity_counts_held_orders_and_open_offers_of_that_day(
    family: Family, seats: None
) -> None:
    # given a provider with one order a day, already holding an accepted order today
    provider, _ = provider_at("小站", 1, capacity_per_day=1)
    today = timezone.localdate()
    held = make_order(family.household, day=today)
    ServiceOrder.objects.filter(pk=held.pk).update(status="accepted", provider=provider)
    order_today = make_order(family.household, day=today)
    order_tomorrow = make_order(family.household, day=today + datetime.timedelta(days=1))
    # when
    svc.dispatch_orders(actor=None)
    # then today is full, tomorrow is offered; and that offer fills tomorrow as well
    order_today.refresh_from_db()
    assert order_today.status == "pending"
    assert open_offer(order_tomorrow).provider == provider  # type: ignore[union-attr]
    another = make_order(family.household, day=today + datetime.timedelta(days=1))
    svc.dispatch_orders(actor=None)
    another.refresh_from_db()
    assert another.status == "pending"


def test_a_providers_contracts_add_up(family: Family, seats: None) -> None:
    # given a provider with two contracts in force, one order a day each
    provider, _ = provider_at("双合同站", 1, capacity_per_day=1)
    second = ProviderContract.objects.create(
        provider=provider,
        number="XJ-EXTRA",
        capacity_per_day=1,
        valid_from=timezone.localdate() - datetime.timedelta(days=1),
        valid_to=timezone.localdate() + datetime.timedelta(days=30),
    )
    second.areas.set(ProviderContract.objects.get(number=f"XJ-{provider.pk:04d}").areas.all())
    second.items.create(item=ServiceItem.objects.get(code="hair_cut"), price=Decimal("1.00"))
    orders = [make_order(family.household) for _ in range(3)]
    # when
    svc.dispatch_orders(actor=None)
    # then two are offered (the cheaper contract named), one waits
    offers = DispatchOffer.objects.filter(status="offered")
    assert offers.count() == 2
    assert set(offers.values_list("contract_id", flat=True)) == {second.pk}
    assert sum(1 for o in orders if open_offer(o) is None) == 1


def test_the_urgent_are_served_first_when_capacity_is_short(family: Family, seats: None) -> None:
    # given one place left; a normal order next door, a critical one 8 km off
    provider, _ = provider_at("唯一站", 0, capacity_per_day=1)
    normal = make_order(family.household, km=0.1)
    critical = make_order(family.household, km=8, urgency="critical")
    # when
    svc.dispatch_orders(actor=None)
    # then
    assert open_offer(critical).provider == provider  # type: ignore[union-attr]
    assert open_offer(normal) is None


@pytest.mark.parametrize(
    ("urgency", "minutes"), [("critical", 10), ("urgent", 30), ("normal", 240)]
)
def test_offers_wait_for_an_answer_by_urgency(
    family: Family, seats: None, urgency: str, minutes: int
) -> None:
    # given
    provider_at("站", 1)
    order = make_order(family.household, urgency=urgency)
    now = timezone.now()
    # when
    offer = svc.dispatch_one(actor=None, order=order, now=now)
    # then
    assert offer is not None
    assert offer.expires_at == now + datetime.timedelta(minutes=minutes)


def test_the_timeouts_can_be_configured(family: Family, seats: None, settings: Any) -> None:
    # given
    settings.JIUZHU_OFFER_TIMEOUT_MINUTES = json.dumps({"normal": 60})
    provider_at("站", 1)
    order = make_order(family.household)
    now = timezone.now()
    # when
    offer = svc.dispatch_one(actor=None, order=order, now=now)
    # then
    assert offer is not None and offer.expires_at == now + datetime.timedelta(minutes=60)


def test_a_place_without_coordinates_uses_the_village_seat(family: Family, seats: None) -> None:
    # given an order without a place of its own
    provider_at("站", 1)
    order = make_order(family.household, km=None)
    ServiceOrder.objects.filter(pk=order.pk).update(lat=None, lon=None)
    # when
    offer = svc.dispatch_one(actor=None, order=order)
    # then it is measured from the village's seat
    assert offer is not None and offer.distance_km is not None


# --- who may dispatch ---------------------------------------------------------------------


def test_only_dispatchers_dispatch_and_only_in_their_area(
    personas: Personas, family: Family, seats: None
) -> None:
    # given an order in village A
    provider_at("站", 1)
    order = make_order(family.household)
    # when / then: a village assistant has no DISPATCH; another town's officer does not see it
    with pytest.raises(PermissionDenied):
        svc.dispatch_orders(actor=personas.village_assistant)
    with pytest.raises(PermissionDenied):
        svc.dispatch_orders(actor=personas.other_town_officer, orders=[order])
    result = svc.dispatch_orders(actor=personas.other_town_officer)
    assert result.offers == []
    order.refresh_from_db()
    assert order.status == "pending"
    # and the town's officer does
    assert svc.dispatch_one(actor=personas.town_officer, order=order) is not None


# --- the provider's answer ------------------------------------------------------------------


@pytest.fixture
def offered(family: Family, seats: None) -> dict[str, Any]:
    near, near_boss = provider_at("近站", 1, manager="near_boss")
    far, far_boss = provider_at("远站", 6, manager="far_boss")
    worker = add_member(near, "near_worker")
    order = make_order(family.household)
    now = timezone.now()
    offer = svc.dispatch_one(actor=None, order=order, now=now)
    assert offer is not None and offer.provider == near
    return {
        "order": order,
        "offer": offer,
        "near": near,
        "far": far,
        "near_boss": near_boss,
        "far_boss": far_boss,
        "worker": worker,
        "now": now,
    }


def test_the_manager_accepts_and_names_the_care_worker(
    offered: dict[str, Any], family: Family
) -> None:
    # when
    order = svc.offer_accept(
        actor=offered["near_boss"], offer=offered["offer"], worker=offered["worker"]
    )
    # then
    offer = DispatchOffer.objects.get(pk=offered["offer"].pk)
    assert offer.status == "accepted"
    assert offer.answered_by == offered["near_boss"]
    assert order.status == "accepted"
    assert order.provider == offered["near"]
    assert order.contract_id == offer.contract_id
    assert order.worker == offered["worker"]
    assert order.accepted_at is not None
    assert TimelineEvent.objects.filter(
        household=family.household, kind="services.order_accepted"
    ).exists()


def test_only_a_manager_of_that_provider_answers(offered: dict[str, Any]) -> None:
    # given / when / then: a care worker, another provider's manager
    for actor in (offered["worker"], offered["far_boss"]):
        with pytest.raises(PermissionDenied):
            svc.offer_accept(actor=actor, offer=offered["offer"])
        with pytest.raises(PermissionDenied):
            svc.offer_decline(actor=actor, offer=offered["offer"], reason="忙")
    assert DispatchOffer.objects.get(pk=offered["offer"].pk).status == "offered"


def test_the_worker_must_belong_to_the_provider(offered: dict[str, Any]) -> None:
    # given a care worker of the other provider
    stranger = add_member(offered["far"], "far_worker")
    # when / then
    with pytest.raises(ValidationError) as refused:
        svc.offer_accept(actor=offered["near_boss"], offer=offered["offer"], worker=stranger)
    assert "worker" in refused.value.message_dict


def test_a_late_accept_is_refused(offered: dict[str, Any]) -> None:
    # given the time to answer has passed (the expiry pass has not run yet)
    late = offered["offer"].expires_at + datetime.timedelta(seconds=1)
    # when / then
    with pytest.raises(ValidationError) as refused:
        svc.offer_accept(actor=offered["near_boss"], offer=offered["offer"], now=late)
    assert "offer" in refused.value.message_dict
    offered["order"].refresh_from_db()
    assert offered["order"].status == "offered"


def test_silence_past_the_deadline_hands_the_order_on(offered: dict[str, Any]) -> None:
    # given
    late = offered["offer"].expires_at + datetime.timedelta(seconds=1)
    # when
    expired = svc.offers_expire(now=late)
    # then the first offer expired and the next best provider has it now
    assert expired == 1
    assert DispatchOffer.objects.get(pk=offered["offer"].pk).status == "expired"
    again = open_offer(offered["order"])
    assert again is not None and again.provider == offered["far"]
    assert again.expires_at == late + datetime.timedelta(hours=4)
    # and accepting the expired offer is refused
    with pytest.raises(ValidationError):
        svc.offer_accept(actor=offered["near_boss"], offer=offered["offer"], now=late)
    # and nothing more expires on a second pass
    assert svc.offers_expire(now=late) == 0


def test_a_decline_needs_a_reason_and_goes_to_the_next_provider(
    offered: dict[str, Any], family: Family
) -> None:
    # when / then: no reason
    with pytest.raises(ValidationError) as refused:
        svc.offer_decline(actor=offered["near_boss"], offer=offered["offer"], reason="  ")
    assert "reason" in refused.value.message_dict
    # when
    declined = svc.offer_decline(
        actor=offered["near_boss"], offer=offered["offer"], reason="人手不足"
    )
    # then
    assert declined.status == "declined"
    assert declined.reason == "人手不足"
    again = open_offer(offered["order"])
    assert again is not None and again.provider == offered["far"]
    assert TimelineEvent.objects.filter(
        household=family.household, kind="services.order_declined"
    ).exists()


def test_when_everyone_declines_the_order_waits(offered: dict[str, Any]) -> None:
    # given the near provider declines, then the far one
    svc.offer_decline(actor=offered["near_boss"], offer=offered["offer"], reason="忙")
    second = open_offer(offered["order"])
    assert second is not None
    # when
    svc.offer_decline(actor=offered["far_boss"], offer=second, reason="太远")
    # then nobody is left: pending, shown as "no provider can take it"
    offered["order"].refresh_from_db()
    assert offered["order"].status == "pending"
    assert open_offer(offered["order"]) is None
    assert sel.orders_nobody_can_take([offered["order"]]) == {offered["order"].pk}
    # and answering a closed offer is refused
    with pytest.raises(ValidationError):
        svc.offer_accept(actor=offered["far_boss"], offer=second)


# --- the dispatcher's override ------------------------------------------------------------


def test_the_dispatcher_overrides_with_a_reason(
    personas: Personas, offered: dict[str, Any], family: Family
) -> None:
    # when
    offer = svc.dispatch_override(
        actor=personas.town_officer,
        order=offered["order"],
        provider=offered["far"],
        reason="老人指定远站",
    )
    # then the open offer is withdrawn and the chosen provider has it, with who and why
    assert DispatchOffer.objects.get(pk=offered["offer"].pk).status == "withdrawn"
    assert offer.provider == offered["far"]
    assert offer.offered_by == "dispatcher"
    assert offer.dispatcher == personas.town_officer
    assert offer.reason == "老人指定远站"
    assert offer.distance_km == Decimal("6.00")
    audit = AuditEvent.objects.filter(
        object_type="services.order", object_id=str(offered["order"].pk)
    ).latest("id")
    assert audit.actor == personas.town_officer
    assert audit.detail["dispatch_override"] is True
    assert audit.detail["provider"] == offered["far"].pk
    assert audit.detail["previous_provider"] == offered["near"].pk


def test_an_override_to_a_red_provider_is_refused(
    personas: Personas, offered: dict[str, Any]
) -> None:
    # given
    red, _ = provider_at("红灯站", 0.5, light="red")
    # when / then
    with pytest.raises(ValidationError) as refused:
        svc.dispatch_override(
            actor=personas.town_officer, order=offered["order"], provider=red, reason="试试"
        )
    assert "provider" in refused.value.message_dict
    assert red.name in refused.value.message_dict["provider"][0]
    assert open_offer(offered["order"]) == offered["offer"]


def test_an_override_needs_an_eligible_provider_a_reason_and_the_area(
    personas: Personas, offered: dict[str, Any]
) -> None:
    # given a provider without a contract for this town
    elsewhere, _ = provider_at("外镇站", 0.5, areas=[OTHER_TOWN])
    order = offered["order"]
    # when / then
    with pytest.raises(ValidationError) as refused:
        svc.dispatch_override(
            actor=personas.town_officer, order=order, provider=elsewhere, reason="就近"
        )
    assert "provider" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        svc.dispatch_override(
            actor=personas.town_officer, order=order, provider=offered["far"], reason=""
        )
    assert "reason" in refused.value.message_dict
    for outsider in (personas.other_town_officer, personas.village_assistant):
        with pytest.raises(PermissionDenied):
            svc.dispatch_override(
                actor=outsider, order=order, provider=offered["far"], reason="就近"
            )
    assert open_offer(order) == offered["offer"]


# --- the scheduler ------------------------------------------------------------------------


def test_the_tick_expires_then_dispatches(offered: dict[str, Any], family: Family) -> None:
    # given a second order waiting
    waiting = make_order(family.household)
    late = offered["offer"].expires_at + datetime.timedelta(minutes=1)
    # when
    report = svc.dispatch_tick(now=late)
    # then
    assert report["expired"] == 1
    assert report["offered"] == 1
    assert open_offer(offered["order"]).provider == offered["far"]  # type: ignore[union-attr]
    assert open_offer(waiting) is not None


def test_the_tick_command_prints_json(offered: dict[str, Any]) -> None:
    # given / when
    out = io.StringIO()
    call_command("dispatch_tick", stdout=out)
    # then
    report = json.loads(out.getvalue())
    assert set(report) >= {"expired", "offered", "waiting"}


def test_a_dispatch_run_locks_the_providers(family: Family, seats: None) -> None:
    # given
    provider_at("站", 1)
    make_order(family.household)
    # when
    with mock.patch.object(
        Provider.objects, "select_for_update", wraps=Provider.objects.select_for_update
    ) as lock:
        svc.dispatch_orders(actor=None)
    # then the providers' rows were locked before their capacity was read
    assert lock.called


# --- races (PostgreSQL) -------------------------------------------------------------------


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"
)


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_late_accept_loses_to_the_expiry_pass(
    personas: Personas, family: Family, audit_flush_allowed: None
) -> None:
    # given an offer whose time has just run out, answered and expired at the same moment
    place_regions()
    _near, boss = provider_at("近站", 1, manager="near_boss")
    provider_at("远站", 6)
    order = make_order(family.household)
    now = timezone.now()
    offer = svc.dispatch_one(actor=None, order=order, now=now)
    assert offer is not None
    moment = offer.expires_at + datetime.timedelta(seconds=1)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept() -> None:
        try:
            barrier.wait(timeout=10)
            svc.offer_accept(actor=boss, offer=offer, now=moment)  # type: ignore[arg-type]
            outcomes.append("accepted")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    def expire() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(f"expired {svc.offers_expire(now=moment)}")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept), threading.Thread(target=expire)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then the accept is refused, the offer expired, the order went to the next provider
    assert sorted(outcomes) == ["expired 1", "refused"]
    order.refresh_from_db()
    assert order.status == "offered"
    assert order.provider_id is None
    assert DispatchOffer.objects.get(pk=offer.pk).status == "expired"
    assert DispatchOffer.objects.filter(order=order, status="offered").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_dispatchers_at_once_offer_each_order_once_within_capacity(
    personas: Personas, family: Family, audit_flush_allowed: None
) -> None:
    # given twelve orders, two providers with four places each, and two dispatchers who
    # dispatch six orders each at the same moment (different orders, the same providers)
    place_regions()
    provider_at("甲站", 1, capacity_per_day=4)
    provider_at("乙站", 3, capacity_per_day=4)
    orders = [make_order(family.household, km=0.2 * i) for i in range(12)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(user: User, mine: list[ServiceOrder]) -> None:
        try:
            barrier.wait(timeout=10)
            svc.dispatch_orders(actor=user, orders=mine)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(personas.county_admin, orders[0::2])),
        threading.Thread(target=run, args=(personas.town_officer, orders[1::2])),
    ]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then
    assert errors == []
    offers = DispatchOffer.objects.filter(status="offered")
    assert offers.count() == 8
    assert offers.values("order_id").distinct().count() == 8
    for provider_id in offers.values_list("provider_id", flat=True).distinct():
        assert offers.filter(provider_id=provider_id).count() <= 4
    assert ServiceOrder.objects.filter(pk__in=[o.pk for o in orders], status="pending").count() == 4
