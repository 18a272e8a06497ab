"""The reconciliation ties sources → funds → projects → orders → households, and its
check figures hold: order costs posted == the orders' amounts == the households' totals.
Spending (for the dashboards) by fund, item and town."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jiuzhu.funds.models import JournalEntry
from jiuzhu.funds.selectors import reconciliation, spending
from jiuzhu.funds.services import entry_reverse, orders_post_costs, project_allocate
from tests.conftest import COUNTY, TOWN, Family, Personas
from tests.funds.conftest import DAY, TODAY, Ledger, order_for


def _served(personas: Personas, family: Family, ledger: Ledger) -> dict[str, Any]:
    project_allocate(
        actor=personas.county_admin, fund=ledger.fiscal, project=ledger.project, amount="800",
        posted_on=DAY,
    )  # fmt: skip
    return {
        "project": [
            order_for(personas, family, ledger.matched, ledger.matched_worker, amount=a)
            for a in ("30.00", "45.50")
        ],
        "voucher": order_for(
            personas, family, ledger.other, ledger.other_worker, funding="voucher", amount="25"
        ),
        "charity": order_for(
            personas, family, ledger.other, ledger.other_worker, funding="charity", amount="60"
        ),
        "unfunded": order_for(
            personas, family, ledger.other, ledger.other_worker, funding="project", amount="99"
        ),
    }


def test_reconciliation_totals_equal_order_totals(
    personas: Personas, family: Family, ledger: Ledger
) -> None:
    # given orders paid by a project, the voucher pool and the charity fund, and one nobody pays
    orders = _served(personas, family, ledger)
    orders_post_costs(county_code=COUNTY)
    # when
    rec = reconciliation(county_code=COUNTY, start=DAY, end=TODAY)
    # then the three totals are the served orders' amounts
    assert rec.total_posted == rec.total_orders == rec.total_households == Decimal("160.50")
    assert rec.balanced and rec.ledger_sum == 0
    # and each fund and the project show their own orders
    by_code = {f.fund.code: f for f in rec.funds}
    assert [c.order_id for c in by_code["XJ-VOUCHER"].orders] == [orders["voucher"].pk]
    assert by_code["XJ-VOUCHER"].spent == Decimal("25.00")
    assert by_code["XJ-CHARITY"].spent == Decimal("60.00")
    assert by_code["XJ-CHARITY"].received == Decimal("100.00")
    assert by_code["XJ-FISCAL"].allocated == Decimal("800.00")
    assert by_code["XJ-FISCAL"].available_at_end == Decimal("4200.00")
    project = rec.projects[0]
    assert (project.allocated, project.spent) == (Decimal("800.00"), Decimal("75.50"))
    assert project.remaining_at_end == Decimal("724.50")
    # the unfunded order is listed with its reason; households are masked
    assert [(u.order_id, u.amount) for u in rec.unposted] == [
        (orders["unfunded"].pk, Decimal("99.00"))
    ]
    assert "No project" in rec.unposted[0].reason
    assert rec.households[0].head == "王*国"
    assert "***" in rec.households[0].household


def test_a_reversed_order_cost_leaves_the_figures_equal(
    personas: Personas, family: Family, ledger: Ledger
) -> None:
    # given a posted charity order whose cost is reversed
    orders = _served(personas, family, ledger)
    orders_post_costs(county_code=COUNTY)
    cost = JournalEntry.objects.get(kind="order_cost", order=orders["charity"])
    entry_reverse(actor=personas.county_admin, entry=cost, reason="重复", posted_on=TODAY)
    # when
    rec = reconciliation(county_code=COUNTY, start=DAY, end=TODAY)
    # then it counts for nothing, and is listed as reversed
    assert rec.total_posted == rec.total_orders == rec.total_households == Decimal("100.50")
    assert rec.balanced
    assert {u.order_id for u in rec.unposted} == {orders["charity"].pk, orders["unfunded"].pk}


def test_a_mismatch_between_ledger_and_order_shows(
    personas: Personas, family: Family, ledger: Ledger
) -> None:
    # given an order whose amount was changed after its cost was posted
    orders = _served(personas, family, ledger)
    orders_post_costs(county_code=COUNTY)
    voucher = orders["voucher"]
    type(voucher).objects.filter(pk=voucher.pk).update(amount=Decimal("26.00"))
    # when / then the check figures disagree
    rec = reconciliation(county_code=COUNTY, start=DAY, end=TODAY)
    assert rec.total_posted != rec.total_orders
    assert not rec.balanced


def test_spending_by_fund_item_and_town(personas: Personas, family: Family, ledger: Ledger) -> None:
    # given the orders above, and a second fund allocating to the project (3:1)
    _served(personas, family, ledger)
    project_allocate(
        actor=personas.county_admin, fund=ledger.charity, project=ledger.project, amount="40",
        posted_on=DAY,
    )  # fmt: skip
    orders_post_costs(county_code=COUNTY)
    # when
    by_fund = spending(region_prefix=COUNTY, start=DAY, end=TODAY, by="fund")
    by_item = spending(region_prefix=COUNTY, start=DAY, end=TODAY, by="item")
    by_town = spending(region_prefix=TOWN, start=DAY, end=TODAY, by="town")
    # then project orders (75.50) are shared 800:40 between the fiscal and charity funds
    amounts = {row.key: row.amount for row in by_fund}
    assert amounts == {
        "fund:XJ-FISCAL": Decimal("71.90"),
        "fund:XJ-CHARITY": Decimal("63.60"),
        "fund:XJ-VOUCHER": Decimal("25.00"),
    }
    assert sum(amounts.values()) == Decimal("160.50")
    assert [(r.key, r.amount) for r in by_item] == [("item:hair_cut", Decimal("160.50"))]
    assert [(r.key, r.label, r.amount) for r in by_town] == [
        ("360823100", "水边镇", Decimal("160.50"))
    ]
    assert spending(region_prefix="360823101", start=DAY, end=TODAY, by="town") == []
