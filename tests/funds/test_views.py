"""The funds pages: who may read (SUPERVISE or MANAGE_FUNDS in their area), who may write
(MANAGE_FUNDS), a refusal answers 422 with what was typed, another area's fund is 404,
the reconciliation shows its check figures and exports an audited Excel file."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.funds.models import Donation, Fund, JournalEntry
from jiuzhu.funds.services import account_for, donation_receive, orders_post_costs
from jiuzhu.regions.models import Level, Region
from tests.conftest import Family, Personas, login
from tests.funds.conftest import DAY, Ledger, order_for


def test_readers_see_the_funds_and_others_do_not(
    client: Client, personas: Personas, ledger: Ledger
) -> None:
    url = reverse("funds:list")
    for user in (personas.county_admin, personas.town_officer, personas.supervisor):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert ledger.fiscal.name in response.content.decode()
    for user in (personas.village_assistant, personas.provider, personas.donor):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_another_towns_fund_is_not_found(
    client: Client, personas: Personas, ledger: Ledger
) -> None:
    # given a fund of town 马埠镇 and one of another county
    town_fund = Fund.objects.create(
        region_id="360823101", code="MABU", name="马埠镇救助基金", kind="charity"
    )
    Region.objects.get_or_create(
        code="360821", defaults={"name": "吉安县", "level": Level.COUNTY, "parent_id": "3608"}
    )
    other = Fund.objects.create(region_id="360821", code="OTHER", name="外县基金", kind="fiscal")
    # then 水边镇's officer sees the county's fund but neither of them
    login(client, personas.town_officer)
    assert client.get(reverse("funds:detail", args=[ledger.fiscal.pk])).status_code == 200
    assert client.get(reverse("funds:detail", args=[town_fund.pk])).status_code == 404
    assert client.get(reverse("funds:detail", args=[other.pk])).status_code == 404
    login(client, personas.county_admin)
    assert client.get(reverse("funds:detail", args=[town_fund.pk])).status_code == 200
    assert client.get(reverse("funds:detail", args=[other.pk])).status_code == 404


def test_only_fund_managers_post(client: Client, personas: Personas, ledger: Ledger) -> None:
    url = reverse("funds:appropriate", args=[ledger.fiscal.pk])
    data = {"amount": "100", "posted_on": DAY.isoformat(), "memo": "追加"}
    for user in (personas.town_officer, personas.supervisor):
        login(client, user)
        assert client.get(url).status_code == 404
        assert client.post(url, data).status_code == 404
    login(client, personas.county_admin)
    assert client.get(url).status_code == 200
    response = client.post(url, data)
    assert response.status_code == 302
    assert account_for(role="fund", fund=ledger.fiscal).balance == Decimal("5100.00")


def test_a_refused_seed_answers_422_with_the_form_kept(
    client: Client, personas: Personas, ledger: Ledger
) -> None:
    login(client, personas.county_admin)
    url = reverse("funds:seed", args=[ledger.charity.pk])
    response = client.post(
        url, {"government": "90", "foundation": "100", "posted_on": DAY.isoformat()}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "must match" in page and 'value="90"' in page
    assert JournalEntry.objects.filter(kind="seed").count() == 1


def test_a_fund_is_created_and_a_goods_donation_delivered(
    client: Client, personas: Personas, family: Family, ledger: Ledger
) -> None:
    login(client, personas.county_admin)
    response = client.post(
        reverse("funds:new"), {"code": "XJ-NEW", "name": "新基金", "kind": "donation"}
    )
    fund = Fund.objects.get(code="XJ-NEW")
    assert response.status_code == 302 and fund.region_id == "360823"
    response = client.post(
        reverse("funds:donate", args=[fund.pk]),
        {"kind": "goods", "donor_name": "", "amount": "400", "goods": "棉被", "quantity": "4",
         "unit": "床", "received_on": DAY.isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    quilts = Donation.objects.get(goods="棉被")
    deliver = reverse("funds:deliver", args=[quilts.pk])
    response = client.post(
        deliver, {"household": family.household.number, "quantity": "5",
                  "posted_on": DAY.isoformat()},
    )  # fmt: skip
    assert response.status_code == 422 and "Only 4" in response.content.decode()
    response = client.post(
        deliver, {"household": "360823101201-00001", "quantity": "1", "posted_on": DAY.isoformat()}
    )
    assert response.status_code == 422
    response = client.post(
        deliver, {"household": family.household.number, "quantity": "1",
                  "posted_on": DAY.isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(reverse("funds:goods")).content.decode()
    assert "王*国" in page and "王建国" not in page


def test_the_register_publishes_no_personal_data(
    client: Client, personas: Personas, ledger: Ledger
) -> None:
    donation_receive(
        actor=personas.county_admin, fund=ledger.charity, kind="money", donor_name="",
        amount="500", received_on=DAY,
    )  # fmt: skip
    login(client, personas.supervisor)
    page = client.get(reverse("funds:donations")).content.decode()
    assert "匿名" in page and "500.00" in page and ledger.charity.name in page


def test_a_reversal_shows_its_lines_and_needs_a_reason(
    client: Client, personas: Personas, ledger: Ledger
) -> None:
    entry = JournalEntry.objects.get(kind="appropriation", fund=ledger.pool)
    url = reverse("funds:reverse", args=[entry.pk])
    login(client, personas.county_admin)
    page = client.get(url).content.decode()
    assert "-100.00" in page
    assert client.post(url, {"reason": ""}).status_code == 422
    assert client.post(url, {"reason": "录错"}).status_code == 302
    assert client.post(url, {"reason": "again"}).status_code == 422
    login(client, personas.town_officer)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("balanced", [True, False])
def test_the_reconciliation_page_and_its_export(
    client: Client, personas: Personas, family: Family, ledger: Ledger, balanced: bool
) -> None:
    order = order_for(personas, family, ledger.other, ledger.other_worker, funding="voucher")
    orders_post_costs(county_code="360823")
    if not balanced:
        type(order).objects.filter(pk=order.pk).update(amount=Decimal("31.00"))
    login(client, personas.supervisor)
    url = reverse("funds:reconciliation") + f"?from={DAY.isoformat()}"
    page = client.get(url).content.decode()
    assert ('id="balanced"' in page) is balanced
    assert ('id="unbalanced"' in page) is not balanced
    response = client.get(url + "&export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEvent.objects.filter(action="export", object_type="funds.reconciliation").exists()
