"""A prepared county ledger for the funds tests: a fiscal fund, a voucher pool and a
charity special fund (1:1), a purchase-of-service project matched with one provider's
contract, and a second provider matched with no project (its orders are paid by their
funding: voucher pool or charity)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone, translation

from jiuzhu.funds.models import Fund
from jiuzhu.funds.services import appropriation_post, fund_create, seed_post
from jiuzhu.services.models import Provider, ServiceOrder
from jiuzhu.supervision.models import Project, ProjectProvider
from tests.conftest import COUNTY, Family, Personas
from tests.supervision.factories import provider_with_staff, served_order

TODAY = timezone.localdate()
DAY = TODAY - datetime.timedelta(days=10)


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def make_project(
    *, code: str = "XJ-2026-01", budget: str = "1000.00", region: str = COUNTY
) -> Project:
    return Project.objects.create(
        region_id=region,
        code=code,
        name=f"项目{code}",
        status="service",
        budget=Decimal(budget),
        period_start=TODAY - datetime.timedelta(days=60),
        period_end=TODAY + datetime.timedelta(days=300),
    )


@dataclass
class Ledger:
    fiscal: Fund
    pool: Fund
    charity: Fund
    project: Project
    matched: Provider  # its contract is the project's
    matched_worker: Any
    other: Provider  # no project: orders paid by their funding
    other_worker: Any


@pytest.fixture
def ledger(personas: Personas, family: Family) -> Ledger:
    admin = personas.county_admin
    fiscal = fund_create(
        actor=admin, region_code=COUNTY, code="XJ-FISCAL", name="峡江县社会救助服务专项资金",
        kind="fiscal",
    )  # fmt: skip
    pool = fund_create(
        actor=admin, region_code=COUNTY, code="XJ-VOUCHER", name="峡江县服务券资金池",
        kind="voucher_pool",
    )  # fmt: skip
    charity = fund_create(
        actor=admin, region_code=COUNTY, code="XJ-CHARITY", name="峡江县慈善总会救急难专项基金",
        kind="charity", sponsor="峡江县慈善总会", match_ratio="1",
    )  # fmt: skip
    appropriation_post(actor=admin, fund=fiscal, amount="5000", posted_on=DAY, memo="预算")
    appropriation_post(actor=admin, fund=pool, amount="100", posted_on=DAY, memo="预算")
    seed_post(actor=admin, fund=charity, government="50", foundation="50", posted_on=DAY, memo="")
    project = make_project()
    matched, _m, matched_worker = provider_with_staff("峡江县阳光社工服务中心")
    other, _o, other_worker = provider_with_staff("峡江县暖心家政服务部")
    contract = matched.contracts.first()
    assert contract is not None
    ProjectProvider.objects.create(
        project=project, provider=matched, contract=contract, amount=Decimal("1000")
    )
    return Ledger(fiscal, pool, charity, project, matched, matched_worker, other, other_worker)


def order_for(
    personas: Personas,
    family: Family,
    provider: Provider,
    worker: Any,
    *,
    funding: str = "project",
    amount: str = "30.00",
    day: datetime.date = DAY,
) -> ServiceOrder:
    """A served order of ``funding`` costing ``amount``."""
    order = served_order(personas, family, provider, worker, day=day)
    ServiceOrder.objects.filter(pk=order.pk).update(funding=funding, amount=Decimal(amount))
    order.refresh_from_db()
    return order
