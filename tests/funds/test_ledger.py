"""The posting core and the operations: balanced entries, balances never negative, seed
matching, goods stock, allocations within budget, reversals once, who may post."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum

from jiuzhu.funds.models import Account, Donation, JournalEntry, Posting
from jiuzhu.funds.services import (
    Line,
    account_for,
    appropriation_post,
    donation_receive,
    entry_post,
    entry_reverse,
    fund_create,
    goods_deliver,
    orders_post_costs,
    project_allocate,
    seed_post,
)
from tests.conftest import COUNTY, Family, Personas
from tests.funds.conftest import DAY, Ledger, make_project, order_for


def _rows() -> tuple[int, int, int]:
    return JournalEntry.objects.count(), Posting.objects.count(), Donation.objects.count()


def test_an_entry_must_balance_and_have_two_lines(personas: Personas, ledger: Ledger) -> None:
    # given
    fund = account_for(role="fund", fund=ledger.fiscal)
    source = account_for(role="source", fund=ledger.fiscal, source="budget")
    before = _rows()
    # when / then
    with pytest.raises(ValidationError, match="Debits and credits"):
        entry_post(
            region=COUNTY, kind="appropriation", posted_on=DAY, memo="", actor=None,
            lines=[Line(fund, Decimal("10.00")), Line(source, Decimal("-9.99"))],
        )  # fmt: skip
    with pytest.raises(ValidationError, match="two lines"):
        entry_post(
            region=COUNTY, kind="appropriation", posted_on=DAY, memo="", actor=None,
            lines=[Line(fund, Decimal("0.00"), Decimal("1"))],
        )  # fmt: skip
    with pytest.raises(ValidationError, match="two decimals"):
        entry_post(
            region=COUNTY, kind="appropriation", posted_on=DAY, memo="", actor=None,
            lines=[Line(fund, Decimal("0.001")), Line(source, Decimal("-0.001"))],
        )  # fmt: skip
    assert _rows() == before


def test_no_account_goes_below_zero(personas: Personas, ledger: Ledger) -> None:
    # given the fiscal fund holds 5000
    fund = account_for(role="fund", fund=ledger.fiscal)
    source = account_for(role="source", fund=ledger.fiscal, source="budget")
    before = _rows()
    # when 5000.01 is taken out of it (back to its source)
    with pytest.raises(ValidationError) as refused:
        entry_post(
            region=COUNTY, kind="appropriation", posted_on=DAY, memo="", actor=None,
            lines=[Line(fund, Decimal("-5000.01")), Line(source, Decimal("5000.01"))],
        )  # fmt: skip
    # then it is refused naming the account, and nothing changed
    assert ledger.fiscal.name in " ".join(refused.value.messages)
    assert _rows() == before
    fund.refresh_from_db()
    assert fund.balance == Decimal("5000.00")


def test_seed_money_must_match_one_to_one(personas: Personas, ledger: Ledger) -> None:
    # given a 1:1 charity fund
    before = _rows()
    # when the government puts in 0.9 for each foundation yuan
    with pytest.raises(ValidationError, match="must match"):
        seed_post(
            actor=personas.county_admin, fund=ledger.charity, government="90",
            foundation="100", posted_on=DAY, memo="",
        )  # fmt: skip
    # then nothing is posted; a matched seed is one entry with both sources
    assert _rows() == before
    entry = seed_post(
        actor=personas.county_admin, fund=ledger.charity, government="100", foundation="100",
        posted_on=DAY, memo="",
    )  # fmt: skip
    amounts = sorted(p.amount for p in entry.postings.all())
    assert amounts == [Decimal("-100.00"), Decimal("-100.00"), Decimal("200.00")]
    assert account_for(role="fund", fund=ledger.charity).balance == Decimal("300.00")


def test_seed_needs_a_ratio_and_a_charity_fund(personas: Personas, ledger: Ledger) -> None:
    with pytest.raises(ValidationError):
        seed_post(
            actor=personas.county_admin, fund=ledger.fiscal, government="1", foundation="1",
            posted_on=DAY, memo="",
        )  # fmt: skip
    with pytest.raises(ValidationError, match="Only a charity"):
        fund_create(
            actor=personas.county_admin, region_code=COUNTY, code="X1", name="x",
            kind="fiscal", match_ratio="1",
        )  # fmt: skip


def test_goods_stock_never_goes_negative(
    personas: Personas, family: Family, ledger: Ledger
) -> None:
    # given 100 bags of rice worth 8000 yuan
    rice = donation_receive(
        actor=personas.county_admin, fund=ledger.charity, kind="goods", donor_name="",
        amount="8000", received_on=DAY, goods="大米", quantity="100", unit="袋",
    )  # fmt: skip
    assert rice.donor_name == "匿名"
    # when 30 and then 70 bags are delivered
    first = goods_deliver(
        actor=personas.county_admin, donation=rice, household=family.household, quantity="30",
        posted_on=DAY,
    )  # fmt: skip
    goods_deliver(
        actor=personas.county_admin, donation=rice, household=family.household, quantity="70",
        posted_on=DAY,
    )  # fmt: skip
    # then the stock is empty, all its value delivered, and one bag more is refused
    stock = account_for(role="goods", donation=rice)
    delivered = account_for(role="delivered", donation=rice)
    assert (stock.quantity, stock.balance) == (Decimal("0"), Decimal("0"))
    assert (delivered.quantity, delivered.balance) == (Decimal("100"), Decimal("8000"))
    assert first.postings.get(account=delivered).amount == Decimal("2400.00")
    with pytest.raises(ValidationError, match="Only 0"):
        goods_deliver(
            actor=personas.county_admin, donation=rice, household=family.household,
            quantity="1", posted_on=DAY,
        )  # fmt: skip
    # and the donation cannot be reversed while its goods are given out
    donation_entry = JournalEntry.objects.get(kind="donation_goods", donation=rice)
    with pytest.raises(ValidationError, match="Not enough"):
        entry_reverse(actor=personas.county_admin, entry=donation_entry, reason="录错")


def test_a_project_is_never_allocated_beyond_its_budget(personas: Personas, ledger: Ledger) -> None:
    # given a project of 1000 yuan, 600 allocated
    project_allocate(
        actor=personas.county_admin, fund=ledger.fiscal, project=ledger.project, amount="600",
        posted_on=DAY,
    )  # fmt: skip
    # when 400.01 more is asked for
    with pytest.raises(ValidationError, match=r"at most 400\.00 more"):
        project_allocate(
            actor=personas.county_admin, fund=ledger.fiscal, project=ledger.project,
            amount="400.01", posted_on=DAY,
        )  # fmt: skip
    # then 400 still fits
    project_allocate(
        actor=personas.county_admin, fund=ledger.fiscal, project=ledger.project, amount="400",
        posted_on=DAY,
    )  # fmt: skip
    assert account_for(role="project", project=ledger.project).balance == Decimal("1000.00")


def test_a_fund_cannot_allocate_more_than_it_holds(personas: Personas, ledger: Ledger) -> None:
    big = make_project(code="XJ-BIG", budget="100000")
    with pytest.raises(ValidationError, match="Not enough"):
        project_allocate(
            actor=personas.county_admin, fund=ledger.fiscal, project=big, amount="5000.01",
            posted_on=DAY,
        )  # fmt: skip


def test_an_entry_is_reversed_once_and_a_reversal_never(personas: Personas, ledger: Ledger) -> None:
    # given an appropriation
    entry = appropriation_post(
        actor=personas.county_admin, fund=ledger.pool, amount="20", posted_on=DAY, memo=""
    )
    # when it is reversed
    reversal = entry_reverse(actor=personas.county_admin, entry=entry, reason="重复录入")
    # then the postings are negated and the pool is back at 100
    assert sorted(p.amount for p in reversal.postings.all()) == [
        Decimal("-20.00"),
        Decimal("20.00"),
    ]
    assert account_for(role="fund", fund=ledger.pool).balance == Decimal("100.00")
    # and neither the entry again nor the reversal can be reversed
    with pytest.raises(ValidationError, match="reversed already"):
        entry_reverse(actor=personas.county_admin, entry=entry, reason="again")
    with pytest.raises(ValidationError, match="cannot be reversed"):
        entry_reverse(actor=personas.county_admin, entry=reversal, reason="again")
    with pytest.raises(ValidationError, match="why"):
        entry_reverse(actor=personas.county_admin, entry=reversal, reason=" ")


def test_an_allocated_appropriation_cannot_be_reversed(personas: Personas, ledger: Ledger) -> None:
    # given the fiscal fund's 5000 of which 1000 went to the project
    entry = JournalEntry.objects.get(kind="appropriation", fund=ledger.fiscal)
    project_allocate(
        actor=personas.county_admin, fund=ledger.fiscal, project=ledger.project, amount="1000",
        posted_on=DAY,
    )  # fmt: skip
    # when the appropriation is reversed
    with pytest.raises(ValidationError, match="Not enough"):
        entry_reverse(actor=personas.county_admin, entry=entry, reason="撤回")
    # then nothing was written
    assert not JournalEntry.objects.filter(kind="reversal").exists()


def test_only_county_fund_managers_post(personas: Personas, ledger: Ledger) -> None:
    for user in (personas.town_officer, personas.supervisor, personas.village_assistant):
        with pytest.raises(PermissionDenied):
            appropriation_post(actor=user, fund=ledger.fiscal, amount="1", posted_on=DAY, memo="")
    with pytest.raises(PermissionDenied):
        fund_create(
            actor=personas.county_admin, region_code="360821", code="OTHER", name="x",
            kind="fiscal",
        )  # fmt: skip


def test_order_costs_are_posted_once_and_never_in_part(
    personas: Personas, family: Family, ledger: Ledger
) -> None:
    # given the voucher pool holds 100 and three voucher orders cost 40, 70 and 30
    orders = [
        order_for(personas, family, ledger.other, ledger.other_worker, funding="voucher",
                  amount=amount)
        for amount in ("40.00", "70.00", "30.00")
    ]  # fmt: skip
    # when costs are posted twice
    first = orders_post_costs(county_code=COUNTY, actor=personas.county_admin)
    second = orders_post_costs(county_code=COUNTY)
    # then 40 and 30 are paid, 70 waits with the reason, and nothing is posted twice
    assert (first.posted, first.total) == (2, Decimal("70.00"))
    assert [o for o, _r in first.skipped_unfunded] == [orders[1].pk]
    assert "Not enough" in first.skipped_unfunded[0][1]
    assert second.posted == 0 and [o for o, _r in second.skipped_unfunded] == [orders[1].pk]
    assert JournalEntry.objects.filter(kind="order_cost").count() == 2
    assert account_for(role="fund", fund=ledger.pool).balance == Decimal("30.00")
    spent = Posting.objects.filter(account__role="spent").aggregate(s=Sum("amount"))["s"]
    assert Decimal(spent).quantize(Decimal("0.01")) == Decimal("70.00")


def test_a_self_claimed_order_is_never_paid(
    personas: Personas, family: Family, ledger: Ledger
) -> None:
    order = order_for(personas, family, ledger.matched, ledger.matched_worker, funding="self_claim")
    result = orders_post_costs(county_code=COUNTY)
    assert result.posted == 0
    assert result.skipped_unfunded[0][0] == order.pk
    assert not Account.objects.filter(role="spent", balance__gt=0).exists()
