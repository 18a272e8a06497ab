"""/api/v1/supervision/ endpoints of the console part (``SUPERVISE``, the caller's area):

- ``GET console/orders``: the console's list with its filters (provider, item, town,
  state, date_from, date_to, flagged, overdue), overdue first, then the newest;
- ``GET console/orders/{id}``: one order's supervision record.

Names are masked; coordinates are not returned (the distances from the household are).
Outside the area, or without the permission: 404.
"""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.http import request_user
from jiuzhu.services import order_selectors as osel
from jiuzhu.services.models import ServiceOrder
from jiuzhu.supervision import console_selectors as sel

router = Router(tags=["supervision: console"])


def _supervisor(request: HttpRequest) -> User:
    user = request_user(request)
    if not user_has_perm(user, Perm.SUPERVISE):
        raise Http404("Not found")
    return user


class ConsoleOrderOut(Schema):
    id: int
    household_id: int
    region_code: str
    beneficiary_masked: str
    item_code: str
    item_name: str
    service_date: datetime.date
    status: str
    provider_id: int | None
    provider_name: str | None
    created_at: datetime.datetime
    accepted_at: datetime.datetime | None
    check_in_at: datetime.datetime | None
    check_out_at: datetime.datetime | None
    check_in_distance_km: float | None
    rating: int | None
    overdue: bool
    flagged: bool


def _row(order: ServiceOrder) -> dict[str, Any]:
    distance = osel.check_in_distance(order)
    return {
        "id": order.pk,
        "household_id": order.household_id,
        "region_code": order.region_id,
        "beneficiary_masked": sel.who(order),
        "item_code": order.item.code,
        "item_name": order.item.name_zh,
        "service_date": order.service_date,
        "status": order.status,
        "provider_id": order.provider_id,
        "provider_name": order.provider.name if order.provider else None,
        "created_at": order.created_at,
        "accepted_at": order.accepted_at,
        "check_in_at": order.check_in_at,
        "check_out_at": order.check_out_at,
        "check_in_distance_km": round(distance, 2) if distance is not None else None,
        "rating": order.rating,
        "overdue": bool(getattr(order, "is_overdue", False)),
        "flagged": bool(getattr(order, "is_flagged", False)),
    }


class ConsoleParams(Schema):
    provider: int | None = None
    item: int | None = None
    town: str = ""
    state: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    flagged: bool = False
    overdue: bool = False
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


@router.get("/console/orders", response=list[ConsoleOrderOut])
def console_orders(request: HttpRequest, params: Query[ConsoleParams]) -> list[dict[str, Any]]:
    user = _supervisor(request)
    filters = sel.ConsoleFilters(
        provider=params.provider,
        item=params.item,
        town=params.town[:12],
        state=params.state,
        date_from=params.date_from,
        date_to=params.date_to,
        flagged=params.flagged,
        overdue=params.overdue,
    )
    rows = sel.console_orders(user, filters)[params.offset : params.offset + params.limit]
    return [_row(order) for order in rows]


class StepOut(Schema):
    action: str
    done: bool
    at: str | None = None
    note: str = ""


class RevisitBrief(Schema):
    id: int
    method: str
    status: str
    passed: bool | None
    satisfaction: int | None
    done_at: datetime.datetime | None


class ComplaintBrief(Schema):
    id: int
    status: str
    received_at: datetime.datetime


class OrderRecordOut(ConsoleOrderOut):
    check_out_distance_km: float | None
    far: bool
    start_due_at: datetime.datetime | None
    finish_due_at: datetime.datetime | None
    overdue_clocks: list[str]
    check_in_photo: bool
    check_out_photo: bool
    checklist: list[StepOut]
    rated_how: str
    rating_comment: str
    revisits: list[RevisitBrief]
    complaints: list[ComplaintBrief]


@router.get("/console/orders/{order_id}", response=OrderRecordOut)
def console_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    user = _supervisor(request)
    record = sel.order_record_for_user(user, order_id)
    order = record.order
    return {
        **_row(order),
        "overdue": bool(record.overdue),
        "flagged": record.flagged,
        "check_out_distance_km": round(record.distance_out, 2)
        if record.distance_out is not None
        else None,
        "far": record.far_in or record.far_out,
        "start_due_at": order.start_due_at,
        "finish_due_at": order.finish_due_at,
        "overdue_clocks": [o.clock for o in record.overdue],
        "check_in_photo": bool(order.check_in_photo),
        "check_out_photo": bool(order.check_out_photo),
        "checklist": [
            {
                "action": str(s.get("action", "")),
                "done": bool(s.get("done")),
                "at": s.get("at"),
                "note": str(s.get("note", "") or ""),
            }
            for s in order.checklist or []
        ],
        "rated_how": order.rated_how,
        "rating_comment": order.rating_comment,
        "revisits": [
            {
                "id": r.pk,
                "method": r.method,
                "status": r.status,
                "passed": r.passed,
                "satisfaction": r.satisfaction,
                "done_at": r.done_at,
            }
            for r in record.revisits
        ],
        "complaints": [
            {"id": c.pk, "status": c.status, "received_at": c.received_at}
            for c in record.complaints
        ],
    }
