"""Service vouchers: orders debit what the plan chose, never more — per plan item, per
stage, in total — only from an agreed plan, within its period and an open stage; a
release gives it back once."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiuzhu.assessment.models import Assessment
from jiuzhu.services.models import EntitlementDebit, Need, PlanItem, ServiceOrder, ServicePlan
from jiuzhu.services.services.orders import order_cancel, order_create
from jiuzhu.services.services.plans import (
    plan_agree,
    plan_close,
    plan_create,
    plan_item_add,
    plan_item_remove,
)
from jiuzhu.services.services.vouchers import voucher_balance, voucher_debit, voucher_release
from tests.conftest import Family, Personas
from tests.services.conftest import START, assess, item, rule
from tests.services.order_factories import (
    SERVICE_DAY,
    agreed_plan,
    plan_item_of,
    project_need,
    voucher_need,
)


def _order(personas: Personas, need: Need, quantity: Any = None, day: Any = SERVICE_DAY) -> Any:
    return order_create(
        actor=personas.village_assistant, need=need, service_date=day, quantity=quantity
    )


def _raw_order(need: Need, plan_item: PlanItem, charge: str) -> ServiceOrder:
    """An order row with a charge of our choosing, to test the debit's boundary to the
    cent (orders placed through order_create charge whole multiples of a price)."""
    return ServiceOrder.objects.create(
        need=need,
        household_id=need.household_id,
        region_id=need.region_id,
        item=plan_item.item,
        funding="voucher",
        plan=plan_item.plan,
        plan_item=plan_item,
        quantity=1,
        unit_price=Decimal(charge),
        amount=Decimal(charge),
        charge=Decimal(charge),
        urgency="normal",
        service_date=SERVICE_DAY,
    )


def test_an_order_debits_its_plan_item_and_the_balance_shows_it(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    # given 3 haircuts (60 yuan) chosen in stage 1
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)])
    need = voucher_need(personas, family, plan_item_of(plan, "hair_cut"))
    # when one haircut is ordered
    order = _order(personas, need)
    # then 20 yuan are debited to the plan item, its stage and the plan
    assert (order.charge, order.amount, order.status) == (Decimal(20), Decimal(20), "pending")
    debit = EntitlementDebit.objects.get(order=order)
    assert (debit.kind, debit.amount, debit.stage) == ("debit", Decimal(20), 1)
    balance = voucher_balance(plan, on=SERVICE_DAY)
    assert (balance.total, balance.debited, balance.remaining) == (1000, 20, 980)
    assert [(s.cap, s.debited, s.remaining) for s in balance.stages] == [
        (400, 20, 380),
        (400, 0, 400),
        (200, 0, 200),
    ]
    assert [(i.item_code, i.charge, i.remaining) for i in balance.items] == [("hair_cut", 60, 40)]
    need.refresh_from_db()
    assert need.status == "dispatching"


def test_exactly_what_remains_is_accepted_and_more_is_refused(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)])
    need = voucher_need(personas, family, plan_item_of(plan, "hair_cut"))
    # four haircuts are more than the three chosen
    with pytest.raises(ValidationError) as over:
        _order(personas, need, quantity=4)
    assert "voucher" in over.value.message_dict
    assert {"80", "60"} <= set(over.value.message_dict["voucher"][0].split())  # needs, remain
    # exactly the three chosen are accepted; then nothing remains for a fourth
    _order(personas, need, quantity=3)
    with pytest.raises(ValidationError) as empty:
        _order(personas, need, quantity=1)
    assert "voucher" in empty.value.message_dict
    assert ServiceOrder.objects.filter(need=need).count() == 1
    assert voucher_balance(plan, on=SERVICE_DAY).items[0].remaining == 0


def test_one_cent_over_is_refused_and_the_exact_remainder_accepted(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    # given 60 yuan chosen, of which an order used 20: 40 remain
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)])
    chosen = plan_item_of(plan, "hair_cut")
    need = voucher_need(personas, family, chosen)
    _order(personas, need)
    # when 40.01 then 40.00 are debited
    over = _raw_order(need, chosen, "40.01")
    with pytest.raises(ValidationError) as refused:
        voucher_debit(actor=personas.village_assistant, order=over)
    exact = _raw_order(need, chosen, "40.00")
    voucher_debit(actor=personas.village_assistant, order=exact)
    # then
    assert "40" in refused.value.message_dict["voucher"][0]
    assert not EntitlementDebit.objects.filter(order=over).exists()
    assert voucher_balance(plan, on=SERVICE_DAY).items[0].remaining == 0
    # and an order is debited only once
    with pytest.raises(ValidationError):
        voucher_debit(actor=personas.village_assistant, order=exact)


def test_a_stage_that_is_not_open_on_the_day_is_refused(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    # given stage 1 full (festival visit 300 + cleaning 100) and massage chosen in stage 2
    plan = agreed_plan(
        personas,
        family,
        assessed,
        [("festival_visit", 1, 1), ("house_cleaning", 1, 1), ("rehab_massage", 2, 2)],
    )
    massage = voucher_need(personas, family, plan_item_of(plan, "rehab_massage"))
    _order(personas, massage)  # stage 2 is open while stage 1 is full
    # when the cleaning is taken out of stage 1, stage 2 closes again
    plan_item_remove(
        actor=personas.village_assistant,
        plan_item=plan_item_of(plan, "house_cleaning"),
        reason="家中已有人打扫",
    )
    # then a second massage is refused on the date
    with pytest.raises(ValidationError) as refused:
        _order(personas, massage)
    assert "service_date" in refused.value.message_dict
    assert ServiceOrder.objects.filter(need=massage).count() == 1


def test_draft_closed_and_out_of_period_plans_are_refused(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    # a draft plan: not agreed yet
    draft = plan_create(
        actor=personas.village_assistant,
        assessment=assessed,
        rule=rule("dongsheng_1000"),
        period_start=START,
    )
    chosen = plan_item_add(
        actor=personas.village_assistant,
        plan=draft,
        item=item("hair_cut"),
        quantity=2,
        stage=1,
        today=datetime.date(2026, 3, 1),
    )
    need = voucher_need(personas, family, chosen)
    with pytest.raises(ValidationError) as not_agreed:
        _order(personas, need)
    assert "plan" in not_agreed.value.message_dict
    # outside the period
    plan_agree(actor=personas.village_assistant, plan=draft, person=family.head, how="phone")
    with pytest.raises(ValidationError) as late:
        _order(personas, need, day=datetime.date(2027, 1, 5))
    assert "service_date" in late.value.message_dict
    # closed
    plan_close(actor=personas.village_assistant, plan=draft, reason="迁出本县")
    with pytest.raises(ValidationError) as closed:
        _order(personas, need)
    assert "plan" in closed.value.message_dict
    assert not ServiceOrder.objects.exists() and not EntitlementDebit.objects.exists()


def test_a_release_gives_the_voucher_back_once(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)])
    need = voucher_need(personas, family, plan_item_of(plan, "hair_cut"))
    order = _order(personas, need, quantity=3)
    # when the order is cancelled
    order_cancel(actor=personas.village_assistant, order=order, reason="老人住院")
    # then its 60 yuan are free again, and a second release changes nothing
    again = voucher_release(actor=None, order=order, reason="again")
    entries = list(EntitlementDebit.objects.filter(order=order).values_list("kind", "amount"))
    assert entries == [("debit", Decimal(60)), ("release", Decimal(-60))]
    assert again is not None and again.kind == "release"
    balance = voucher_balance(plan, on=SERVICE_DAY)
    assert (balance.debited, balance.released, balance.remaining) == (60, 60, 1000)
    assert balance.items[0].remaining == 60
    # and the three haircuts can be ordered again
    _order(personas, need, quantity=3)


def test_other_funding_uses_no_voucher(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    order = _order(personas, project_need(personas, family))
    assert (order.charge, order.amount, order.plan_id) == (0, Decimal(20), None)
    assert not EntitlementDebit.objects.exists()


def test_hours_are_debited_month_by_month(personas: Personas, family: Family) -> None:
    # given Licang's 60 hours a month, 50 of them home care
    high = assess(personas.village_assistant, family.household, level="3")
    plan = agreed_plan(
        personas, family, high, [("home_care_hour", 50, 1)], rule_code="licang_home_care"
    )
    need = voucher_need(personas, family, plan_item_of(plan, "home_care_hour"), 10)
    # when March uses all 50 hours
    for day in (3, 10, 17, 24):
        _order(personas, need, day=datetime.date(2026, 3, day))
    _order(personas, need, quantity="10", day=datetime.date(2026, 3, 31))
    # then a 51st hour in March is refused, while April starts afresh
    with pytest.raises(ValidationError):
        _order(personas, need, quantity="0.5", day=datetime.date(2026, 3, 31))
    april = _order(personas, need, quantity="7.5", day=datetime.date(2026, 4, 1))
    assert april.charge == Decimal("7.50") and april.amount == Decimal("262.50")
    assert voucher_balance(plan, on=datetime.date(2026, 3, 15)).remaining == 10
    april_balance = voucher_balance(plan, on=datetime.date(2026, 4, 15))
    assert april_balance.window == (datetime.date(2026, 4, 1), datetime.date(2026, 5, 1))
    assert (april_balance.used, april_balance.items[0].remaining) == (Decimal("7.5"), 42.5)


def test_only_staff_of_the_area_order_on_a_voucher(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)])
    need = voucher_need(personas, family, plan_item_of(plan, "hair_cut"))
    for outsider in (personas.colleague, personas.provider, personas.supervisor):
        with pytest.raises(PermissionDenied):
            order_create(actor=outsider, need=need, service_date=SERVICE_DAY)
    # the platform itself (a one-key call) and the town's dispatcher may
    order_create(actor=None, need=need, service_date=SERVICE_DAY)
    order_create(actor=personas.town_officer, need=need, service_date=SERVICE_DAY)
    assert voucher_balance(plan, on=SERVICE_DAY).used == 40


# --- property: no sequence of orders and releases overspends anything ------------------

CHOICES = [("festival_visit", 1, 1), ("hair_cut", 5, 1), ("rehab_massage", 2, 2)]
step = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 2), st.integers(1, 4)),
    st.tuples(st.just("cancel"), st.integers(0, 20), st.just(0)),
    st.tuples(st.just("release"), st.integers(0, 20), st.just(0)),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_no_sequence_of_debits_and_releases_overspends(
    personas: Personas, family: Family, assessed: Assessment, steps: list[tuple[str, int, int]]
) -> None:
    with transaction.atomic():
        plan = agreed_plan(personas, family, assessed, CHOICES)
        needs = [
            voucher_need(personas, family, plan_item_of(plan, code)) for code, _q, _s in CHOICES
        ]
        placed: list[ServiceOrder] = []
        for kind, index, quantity in steps:
            try:
                if kind == "order":
                    placed.append(_order(personas, needs[index], quantity=quantity))
                elif placed and kind == "cancel":
                    order_cancel(
                        actor=personas.village_assistant,
                        order=placed[index % len(placed)],
                        reason="测试",
                    )
                elif placed:
                    voucher_release(actor=None, order=placed[index % len(placed)], reason="x")
            except ValidationError:
                pass
            _assert_never_overspent(plan)
        transaction.set_rollback(True)


def _assert_never_overspent(plan: ServicePlan) -> None:
    balance = voucher_balance(plan, on=SERVICE_DAY)
    assert balance.remaining >= 0
    assert all(stage.remaining >= 0 for stage in balance.stages)
    assert all(chosen.remaining >= 0 for chosen in balance.items)
    # the ledger agrees with the orders that still hold the voucher
    holding = ServiceOrder.objects.filter(plan=plan, debits__kind="debit").exclude(
        debits__kind="release"
    )
    assert balance.used == sum((o.charge for o in holding), Decimal(0))
