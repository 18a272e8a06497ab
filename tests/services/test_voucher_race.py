"""A voucher is never overspent by concurrent orders: ten orders placed at the same
moment for a plan item whose remaining allows three give exactly three orders and three
debits. Every debit locks the plan row; the threads need a database that really runs
transactions side by side, so this runs on PostgreSQL only."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from jiuzhu.assessment.models import Assessment
from jiuzhu.services.models import EntitlementDebit, ServiceOrder
from jiuzhu.services.services.orders import order_create
from jiuzhu.services.services.vouchers import voucher_balance
from tests.conftest import Family, Personas
from tests.services.order_factories import SERVICE_DAY, agreed_plan, plan_item_of, voucher_need


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_orders_at_once_take_only_what_remains(
    personas: Personas, family: Family, assessed: Assessment, audit_flush_allowed: None
) -> None:
    # given five haircuts chosen (100 yuan), two already ordered: 60 yuan, three remain
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 5, 1)])
    chosen = plan_item_of(plan, "hair_cut")
    need = voucher_need(personas, family, chosen)
    order_create(actor=personas.village_assistant, need=need, service_date=SERVICE_DAY, quantity=2)
    barrier = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def place(index: int) -> None:
        try:
            barrier.wait(timeout=20)
            actor = personas.town_officer if index % 2 else personas.village_assistant
            order_create(actor=actor, need=need, service_date=SERVICE_DAY, quantity=1)
            outcome = "placed"
        except ValidationError:
            outcome = "refused"
        except Exception as exc:  # a deadlock or any other error fails the test
            outcome = f"error: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=place, args=(i,)) for i in range(10)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then exactly three were placed and debited, seven refused, nothing overspent
    assert sorted(outcomes) == ["placed"] * 3 + ["refused"] * 7, outcomes
    assert ServiceOrder.objects.filter(need=need).count() == 4
    assert EntitlementDebit.objects.filter(plan=plan, kind="debit").count() == 4
    balance = voucher_balance(plan, on=SERVICE_DAY)
    assert balance.items[0].remaining == 0 and balance.items[0].debited == Decimal(100)
    assert all(stage.remaining >= 0 for stage in balance.stages) and balance.remaining == 900
