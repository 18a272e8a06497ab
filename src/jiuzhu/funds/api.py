"""/api/v1/funds/ endpoints.

- ``GET /funds/``: the funds of the caller's area and the regions above it, with
  received, goods received, allocated, spent and available (SUPERVISE or MANAGE_FUNDS).
- ``GET /funds/reconciliation?date_from=&date_to=``: the reconciliation's summary for the
  caller's area (per fund, per project, the check figures and the unposted orders, with
  masked households).
- ``POST /funds/{fund_id}/donations``: record a donation of money or goods
  (MANAGE_FUNDS); 422 with the messages by field when refused.

A fund outside the caller's area answers 404."""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.api_errors import service_errors
from jiuzhu.core.http import request_user
from jiuzhu.funds import selectors as sel
from jiuzhu.funds.services import donation_receive

router = Router(tags=["funds"])


def _reader(request: HttpRequest) -> User:
    user = request_user(request)
    if not sel.may_read_funds(user):
        raise Http404("Not found")
    return user


class FundOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    region_code: str
    sponsor: str
    match_ratio: Decimal | None
    active: bool
    received: Decimal
    goods_received: Decimal
    allocated: Decimal
    spent: Decimal
    available: Decimal


@router.get("/", response=list[FundOut])
def funds(request: HttpRequest) -> list[dict[str, Any]]:
    user = _reader(request)
    return [
        {
            "id": b.fund.pk,
            "code": b.fund.code,
            "name": b.fund.name,
            "kind": b.fund.kind,
            "region_code": b.fund.region_id,
            "sponsor": b.fund.sponsor,
            "match_ratio": b.fund.match_ratio,
            "active": b.fund.active,
            "received": b.received,
            "goods_received": b.goods_received,
            "allocated": b.allocated,
            "spent": b.spent,
            "available": b.available,
        }
        for b in sel.fund_balances(sel.funds_visible(user).order_by("region_id", "code"))
    ]


class Period(Schema):
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


class FundFlowOut(Schema):
    code: str
    name: str
    received: Decimal
    goods_received: Decimal
    allocated: Decimal
    spent: Decimal
    available_at_end: Decimal
    orders: int


class ProjectFlowOut(Schema):
    code: str
    name: str
    budget: Decimal
    allocated: Decimal
    spent: Decimal
    remaining_at_end: Decimal
    orders: int


class UnpostedOut(Schema):
    order_id: int
    service_date: datetime.date
    household: str
    amount: Decimal
    reason: str


class ReconciliationOut(Schema):
    region_code: str
    date_from: datetime.date
    date_to: datetime.date
    funds: list[FundFlowOut]
    projects: list[ProjectFlowOut]
    households: int
    unposted: list[UnpostedOut]
    total_posted: Decimal
    total_orders: Decimal
    total_households: Decimal
    balanced: bool


@router.get("/reconciliation", response=ReconciliationOut)
def reconciliation(request: HttpRequest, params: Query[Period]) -> dict[str, Any]:
    user = _reader(request)
    today = timezone.localdate()
    start = params.date_from or today.replace(month=1, day=1)
    end = max(start, params.date_to or today)
    rec = sel.reconciliation(county_code=user.region_id or "", start=start, end=end)
    return {
        "region_code": rec.county_code,
        "date_from": start,
        "date_to": end,
        "funds": [
            {
                "code": f.fund.code,
                "name": f.fund.name,
                "received": f.received,
                "goods_received": f.goods_received,
                "allocated": f.allocated,
                "spent": f.spent,
                "available_at_end": f.available_at_end,
                "orders": len(f.orders),
            }
            for f in rec.funds
        ],
        "projects": [
            {
                "code": p.project.code,
                "name": p.project.name,
                "budget": p.budget,
                "allocated": p.allocated,
                "spent": p.spent,
                "remaining_at_end": p.remaining_at_end,
                "orders": len(p.orders),
            }
            for p in rec.projects
        ],
        "households": len(rec.households),
        "unposted": [u.__dict__ for u in rec.unposted],
        "total_posted": rec.total_posted,
        "total_orders": rec.total_orders,
        "total_households": rec.total_households,
        "balanced": rec.balanced,
    }


class DonationIn(Schema):
    kind: str
    donor_name: str = ""
    amount: Decimal
    received_on: datetime.date
    goods: str = ""
    quantity: Decimal | None = None
    unit: str = ""
    note: str = ""


class DonationOut(Schema):
    id: int
    fund_id: int
    kind: str
    donor_name: str
    amount: Decimal
    goods: str
    quantity: Decimal | None
    unit: str
    received_on: datetime.date


@router.post("/{int:fund_id}/donations", response={201: DonationOut})
def donation_new(request: HttpRequest, fund_id: int, body: DonationIn) -> Status[dict[str, Any]]:
    user = request_user(request)
    if not user_has_perm(user, Perm.MANAGE_FUNDS):
        raise Http404("Not found")
    fund = sel.funds_visible(user).filter(pk=fund_id).first()
    if fund is None:
        raise Http404("Not found")
    with service_errors():
        donation = donation_receive(
            actor=user, fund=fund, kind=body.kind, donor_name=body.donor_name,
            amount=body.amount, received_on=body.received_on, goods=body.goods,
            quantity=body.quantity, unit=body.unit, note=body.note,
        )  # fmt: skip
    return Status(
        201,
        {
            "id": donation.pk, "fund_id": fund.pk, "kind": donation.kind,
            "donor_name": donation.donor_name, "amount": donation.amount,
            "goods": donation.goods, "quantity": donation.quantity, "unit": donation.unit,
            "received_on": donation.received_on,
        },
    )  # fmt: skip
