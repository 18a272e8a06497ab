"""Review mends: goods deliveries are listed only for households in the reader's area,
and a reader with no region sees nothing."""

from __future__ import annotations

from django.test import Client

from jiuzhu.funds.selectors import goods_stock
from jiuzhu.funds.services import donation_receive, goods_deliver
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry.services import household_create
from tests.conftest import OTHER_TOWN, TOWN, Family, Personas
from tests.funds.conftest import DAY, Ledger


def test_a_town_sees_only_its_own_households_among_a_county_donations_deliveries(
    personas: Personas, family: Family, ledger: Ledger
) -> None:
    # given a county donation of rice delivered to a household of each of two towns
    village = Region.objects.filter(code__startswith=OTHER_TOWN, level=Level.VILLAGE).first()
    assert village is not None
    elsewhere = household_create(actor=None, region_code=village.code, address="某村1组")
    rice = donation_receive(
        actor=personas.county_admin, fund=ledger.charity, kind="goods", donor_name="某企业",
        amount="800", received_on=DAY, goods="大米", quantity="10", unit="袋",
    )  # fmt: skip
    for household in (family.household, elsewhere):
        goods_deliver(
            actor=personas.county_admin, donation=rice, household=household, quantity="2",
            posted_on=DAY,
        )  # fmt: skip
    # when each town's rows are read
    own = goods_stock(region_prefix=TOWN)
    other = goods_stock(region_prefix=OTHER_TOWN)
    # then each town sees the county's donation but only its own household's delivery
    assert [row.households for row in own] == [1]
    assert [row.households for row in other] == [1]
    assert own[0].deliveries[0].village != other[0].deliveries[0].village
    assert len(goods_stock(region_prefix="360823")[0].deliveries) == 2


def test_a_reader_with_no_region_sees_no_donations(personas: Personas) -> None:
    # given a supervisor whose region was taken away
    supervisor = personas.supervisor
    supervisor.region = None
    supervisor.save(update_fields=["region"])
    client = Client()
    client.force_login(supervisor)
    # when they open the goods and donations pages, then nothing is there for them
    assert client.get("/funds/goods/").status_code == 404
    assert client.get("/funds/donations/").status_code == 404
