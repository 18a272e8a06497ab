"""Property-based: whatever sequence of operations is tried — appropriations, seed money
(matched or not), donations of money and goods, allocations, order costs, goods
deliveries, reversals of any entry, many of them bound to be refused — the ledger always
balances and never goes negative:

- every entry's postings sum to zero, and so do all postings (amounts and quantities);
- every account's stored balance and quantity equal its postings' natural sums, ≥ 0;
- a refused operation writes no row;
- an entry is reversed at most once, and a reversal never.

Each example runs in a savepoint rolled back at its end, on a county prepared once with
a few served orders of each funding."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiuzhu.funds.models import Account, Donation, JournalEntry, Posting
from jiuzhu.funds.services import (
    appropriation_post,
    donation_receive,
    entry_reverse,
    goods_deliver,
    natural,
    orders_post_costs,
    project_allocate,
    seed_post,
)
from jiuzhu.services.models import ServiceOrder
from tests.conftest import COUNTY, Family, Personas
from tests.funds.conftest import DAY, Ledger, order_for

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300"), places=2)
quantities = st.integers(min_value=1, max_value=40)

operations = st.one_of(
    st.tuples(st.just("appropriate"), st.sampled_from(["fiscal", "pool", "charity"]), amounts),
    st.tuples(st.just("seed"), amounts, st.booleans()),
    st.tuples(st.just("donate_money"), amounts),
    st.tuples(st.just("donate_goods"), amounts, quantities),
    st.tuples(st.just("allocate"), st.sampled_from(["fiscal", "charity"]), amounts),
    st.tuples(st.just("post_costs")),
    st.tuples(st.just("deliver"), st.integers(0, 5), quantities),
    st.tuples(st.just("reverse"), st.integers(0, 50)),
    st.tuples(st.just("reprice"), st.integers(0, 4), amounts),
)


def _counts() -> tuple[int, int, int]:
    return JournalEntry.objects.count(), Posting.objects.count(), Donation.objects.count()


def _check_invariants() -> None:
    # Summed in Python: SQLite adds decimals as floats.
    rows = list(Posting.objects.values_list("entry_id", "account_id", "amount", "quantity"))
    by_entry: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    by_account: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for entry_id, account_id, amount, quantity in rows:
        by_entry[entry_id][0] += amount
        by_entry[entry_id][1] += quantity
        by_entry[entry_id][2] += 1
        by_account[account_id][0] += amount
        by_account[account_id][1] += quantity
    assert all(a == 0 and q == 0 and n >= 2 for a, q, n in by_entry.values())
    assert set(by_entry) == set(JournalEntry.objects.values_list("id", flat=True))
    assert sum((r[2] for r in rows), Decimal(0)) == 0
    assert sum((r[3] for r in rows), Decimal(0)) == 0
    for account in Account.objects.all():
        amount, quantity = by_account.get(account.pk, [Decimal(0), Decimal(0)])
        assert account.balance == natural(account.kind, amount)
        assert account.quantity == natural(account.kind, quantity)
        assert account.balance >= 0 and account.quantity >= 0
    assert not JournalEntry.objects.filter(kind="reversal", reverses__kind="reversal").exists()
    reversed_twice = (
        JournalEntry.objects.filter(kind="reversal")
        .values("reverses_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not reversed_twice.exists()


@pytest.fixture
def served(personas: Personas, family: Family, ledger: Ledger) -> list[ServiceOrder]:
    """Five served orders: two paid by the project, one by the pool, one by the charity
    fund, one that nobody pays."""
    return [
        order_for(personas, family, ledger.matched, ledger.matched_worker),
        order_for(personas, family, ledger.matched, ledger.matched_worker, funding="voucher"),
        order_for(personas, family, ledger.other, ledger.other_worker, funding="voucher"),
        order_for(personas, family, ledger.other, ledger.other_worker, funding="charity"),
        order_for(personas, family, ledger.other, ledger.other_worker, funding="project"),
    ]


def _apply(op: tuple[Any, ...], personas: Personas, family: Family, ledger: Ledger,
           served: list[ServiceOrder]) -> None:  # fmt: skip
    admin = personas.county_admin
    funds = {"fiscal": ledger.fiscal, "pool": ledger.pool, "charity": ledger.charity}
    name = op[0]
    if name == "appropriate":
        appropriation_post(actor=admin, fund=funds[op[1]], amount=op[2], posted_on=DAY, memo="")
    elif name == "seed":
        government = op[1] if op[2] else op[1] + Decimal("0.01")
        seed_post(
            actor=admin, fund=ledger.charity, government=government, foundation=op[1],
            posted_on=DAY, memo="",
        )  # fmt: skip
    elif name == "donate_money":
        donation_receive(
            actor=admin, fund=ledger.charity, kind="money", donor_name="某公司", amount=op[1],
            received_on=DAY,
        )  # fmt: skip
    elif name == "donate_goods":
        donation_receive(
            actor=admin, fund=ledger.charity, kind="goods", donor_name="", amount=op[1],
            received_on=DAY, goods="大米", quantity=op[2], unit="袋",
        )  # fmt: skip
    elif name == "allocate":
        project_allocate(
            actor=admin, fund=funds[op[1]], project=ledger.project, amount=op[2], posted_on=DAY
        )
    elif name == "post_costs":
        orders_post_costs(county_code=COUNTY, actor=admin)
    elif name == "deliver":
        goods = list(Donation.objects.filter(kind="goods").order_by("id"))
        if goods:
            goods_deliver(
                actor=admin, donation=goods[op[1] % len(goods)], household=family.household,
                quantity=op[2], posted_on=DAY,
            )  # fmt: skip
    elif name == "reverse":
        entries = list(JournalEntry.objects.order_by("id"))
        entry_reverse(actor=admin, entry=entries[op[1] % len(entries)], reason="更正")
    elif name == "reprice":
        ServiceOrder.objects.filter(pk=served[op[1]].pk).update(amount=op[2])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(operations, min_size=1, max_size=12))
def test_the_ledger_always_balances_and_never_goes_negative(
    personas: Personas,
    family: Family,
    ledger: Ledger,
    served: list[ServiceOrder],
    steps: list[tuple[Any, ...]],
) -> None:
    with transaction.atomic():
        for op in steps:
            before = _counts()
            try:
                with transaction.atomic():
                    _apply(op, personas, family, ledger, served)
            except ValidationError:
                assert _counts() == before, f"refused {op[0]} left rows"
            _check_invariants()
        transaction.set_rollback(True)
