"""The API (funds with balances, the reconciliation summary, a donation), the command
``jiuzhu funds post`` and the demo hook."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

from django.core.management import call_command
from django.test import Client

from jiuzhu.accounts.services import api_token_create
from jiuzhu.funds.demo import seed_funds
from jiuzhu.funds.models import Donation, JournalEntry
from jiuzhu.funds.selectors import reconciliation
from jiuzhu.funds.services import orders_post_costs
from tests.conftest import COUNTY, Family, Personas
from tests.funds.conftest import DAY, TODAY, Ledger, make_project, order_for

API = "/api/v1/funds"


def _token(user: Any) -> dict[str, str]:
    _, token = api_token_create(user=user, name="pad")
    return {"Authorization": f"Bearer {token}"}


def test_the_api_lists_funds_reconciles_and_takes_donations(
    personas: Personas, family: Family, ledger: Ledger
) -> None:
    client = Client()
    admin, supervisor, assistant = (
        _token(personas.county_admin), _token(personas.supervisor),
        _token(personas.village_assistant),
    )  # fmt: skip
    # funds with balances, for readers only
    listed = client.get(f"{API}/", headers=supervisor).json()
    assert {f["code"]: Decimal(f["available"]) for f in listed} == {
        "XJ-CHARITY": Decimal("100.00"), "XJ-FISCAL": Decimal("5000.00"),
        "XJ-VOUCHER": Decimal("100.00"),
    }  # fmt: skip
    assert client.get(f"{API}/", headers=assistant).status_code == 404
    # a donation: refused without goods' quantity, recorded when complete
    url = f"{API}/{ledger.charity.pk}/donations"
    body = {"kind": "goods", "amount": "300", "received_on": DAY.isoformat(), "goods": "大米"}
    refused = client.post(url, body, content_type="application/json", headers=admin)
    assert refused.status_code == 422 and "quantity" in refused.json()["detail"]
    assert (
        client.post(url, body, content_type="application/json", headers=supervisor).status_code
        == 404
    )
    body |= {"quantity": "10", "unit": "袋"}
    created = client.post(url, body, content_type="application/json", headers=admin)
    assert created.status_code == 201 and created.json()["donor_name"] == "匿名"
    # the reconciliation summary
    order_for(personas, family, ledger.other, ledger.other_worker, funding="charity")
    orders_post_costs(county_code=COUNTY)
    summary = client.get(
        f"{API}/reconciliation?date_from={DAY.isoformat()}", headers=supervisor
    ).json()
    assert summary["balanced"] is True
    assert Decimal(summary["total_posted"]) == Decimal("30.00")


def test_the_command_posts_and_prints_json(
    personas: Personas, family: Family, ledger: Ledger
) -> None:
    order = order_for(personas, family, ledger.other, ledger.other_worker, funding="voucher")
    unfunded = order_for(personas, family, ledger.other, ledger.other_worker, funding="project")
    out = io.StringIO()
    call_command("funds", "post", "--county", COUNTY, "--until", TODAY.isoformat(), stdout=out)
    report = json.loads(out.getvalue())
    assert report["posted"] == 1 and report["total"] == "30.00"
    assert [s["order"] for s in report["skipped"]] == [unfunded.pk]
    out = io.StringIO()
    call_command("funds", "post", stdout=out)
    assert json.loads(out.getvalue())["posted"] == 0
    assert JournalEntry.objects.filter(kind="order_cost", order=order).count() == 1


def test_the_demo_hook_seeds_a_balanced_ledger(personas: Personas, family: Family) -> None:
    # given a project matched with a provider and two of its orders served
    from jiuzhu.supervision.models import ProjectProvider
    from tests.supervision.factories import provider_with_staff

    project = make_project(code="XJ-DEMO", budget="300000")
    provider, _m, worker = provider_with_staff()
    contract = provider.contracts.first()
    assert contract is not None
    ProjectProvider.objects.create(
        project=project, provider=provider, contract=contract, amount=Decimal("300000")
    )
    for _n in range(2):
        order_for(personas, family, provider, worker)
    # when
    summary = seed_funds(
        county_code=COUNTY, today=TODAY, actor=personas.county_admin, projects=[project]
    )
    # then
    assert summary["orders_posted"] == 2 and summary["allocated"] == "300000.00"
    assert summary["goods_deliveries"] == 1
    assert Donation.objects.filter(kind="goods").count() == 2
    rec = reconciliation(county_code=COUNTY, start=DAY, end=TODAY)
    assert rec.balanced and rec.total_posted == Decimal("60.00")
    assert seed_funds(county_code=COUNTY, today=TODAY, actor=None, projects=[]) == {
        "skipped": "funds exist already"
    }
