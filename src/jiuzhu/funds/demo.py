"""The demo's funds: a fiscal fund, a voucher pool and a charity special fund seeded 1:1,
donations of money and goods, each given project allocated its budget, the served orders'
costs posted and a few goods delivered. Called by the demo command after the projects
and a month of orders exist; works whatever the orders are (unpaid ones are listed)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from jiuzhu.accounts.models import User
from jiuzhu.funds import choices as c
from jiuzhu.funds.models import Donation, Fund
from jiuzhu.funds.services import (
    ZERO,
    appropriation_post,
    donation_receive,
    fund_create,
    goods_deliver,
    orders_post_costs,
    project_allocate,
    project_allocated,
    seed_post,
)
from jiuzhu.regions.models import Region
from jiuzhu.registry.models import Household

MONEY_DONATIONS = [
    ("江西峡江某某建材有限公司（虚构）", "30000.00", 20),
    ("匿名", "5000.00", 12),
    ("峡江县某某商会（虚构）", "20000.00", 5),
]
GOODS_DONATIONS = [
    ("峡江县某某粮油公司（虚构）", "大米", "100", "袋", "8000.00", 18),
    ("匿名", "棉被", "40", "床", "6000.00", 9),
]


def seed_funds(
    *, county_code: str, today: datetime.date, actor: User | None, projects: list[Any]
) -> dict[str, Any]:
    start = today.replace(day=1) - datetime.timedelta(days=40)
    code = county_code
    region = Region.objects.filter(code=code).first()
    county = region.name if region is not None else code
    if Fund.objects.filter(code=f"{code}-FISCAL").exists():
        return {"skipped": "funds exist already"}
    fiscal = fund_create(
        actor=actor,
        region_code=code,
        code=f"{code}-FISCAL",
        name=f"{county}社会救助服务专项资金",
        kind=c.FundKind.FISCAL,
        sponsor=f"{county}财政局",
    )
    pool = fund_create(
        actor=actor,
        region_code=code,
        code=f"{code}-VOUCHER",
        name=f"{county}服务类救助服务券资金池",
        kind=c.FundKind.VOUCHER_POOL,
        sponsor=f"{county}民政局",
    )
    charity = fund_create(
        actor=actor,
        region_code=code,
        code=f"{code}-CHARITY",
        name=f"{county}慈善总会社会救助专项基金",
        kind=c.FundKind.CHARITY,
        sponsor=f"{county}慈善总会",
        match_ratio="1",
    )
    appropriation_post(
        actor=actor, fund=fiscal, amount="2000000.00", posted_on=start, memo="年度预算"
    )
    appropriation_post(actor=actor, fund=pool, amount="500000.00", posted_on=start, memo="年度预算")
    seed_post(
        actor=actor,
        fund=charity,
        government="200000.00",
        foundation="200000.00",
        posted_on=start,
        memo="种子资金（政府、基金会1:1）",
    )
    for donor, amount, days_ago in MONEY_DONATIONS:
        donation_receive(
            actor=actor,
            fund=charity,
            kind="money",
            donor_name=donor,
            amount=amount,
            received_on=today - datetime.timedelta(days=days_ago),
        )
    goods: list[Donation] = []
    for donor, what, quantity, unit, value, days_ago in GOODS_DONATIONS:
        goods.append(
            donation_receive(
                actor=actor,
                fund=charity,
                kind="goods",
                donor_name=donor,
                amount=value,
                received_on=today - datetime.timedelta(days=days_ago),
                goods=what,
                quantity=quantity,
                unit=unit,
            )
        )
    allocated = ZERO
    for project in projects:
        left = Decimal(project.budget) - project_allocated(project)
        if left <= 0:
            continue
        try:
            project_allocate(
                actor=actor,
                fund=fiscal,
                project=project,
                amount=left,
                posted_on=max(start, project.period_start),
                memo="项目预算拨付",
            )
            allocated += left
        except ValidationError:
            continue
    posted = orders_post_costs(county_code=code, until=today, actor=actor)
    households = list(
        Household.objects.filter(region__code__startswith=code).order_by("number")[:6]
    )
    deliveries = 0
    for index, household in enumerate(households):
        donation = goods[index % len(goods)]
        try:
            goods_deliver(
                actor=actor,
                donation=donation,
                household=household,
                quantity="2" if donation.goods == "大米" else "1",
                posted_on=today - datetime.timedelta(days=3),
                memo="春节送温暖",
            )
            deliveries += 1
        except ValidationError:
            continue
    return {
        "funds": 3,
        "donations": len(MONEY_DONATIONS) + len(GOODS_DONATIONS),
        "allocated": str(allocated),
        "orders_posted": posted.posted,
        "orders_unposted": len(posted.skipped_unfunded),
        "order_costs": str(posted.total),
        "goods_deliveries": deliveries,
    }
