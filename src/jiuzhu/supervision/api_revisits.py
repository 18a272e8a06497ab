"""/api/v1/supervision/ endpoints of the revisits part.

- ``GET revisits`` (``REVISIT``): the queue of the caller's area, mine first
  (``mine=true`` for only mine; ``method``; ``status``, default pending);
- ``GET revisits/{id}``; ``POST revisits/{id}/result``: what the revisit found
  (``status`` done or unreachable, the two answers, satisfaction, comment);
- ``GET complaints`` (``REVISIT`` or ``SUPERVISE``), ``POST complaints`` (``REVISIT``),
  ``POST complaints/{id}/decision`` (``REVISIT``).

Outside the caller's area, or a role without the permission: 404. A refused write: 422
with the messages by field; an act the caller may not do: 403. Names are masked.
"""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import get_scoped_or_404, user_has_perm
from jiuzhu.core.api_errors import service_errors
from jiuzhu.core.http import request_user
from jiuzhu.registry.models import Household
from jiuzhu.services.models import Provider, ServiceOrder
from jiuzhu.supervision import revisit_selectors as sel
from jiuzhu.supervision.models import Complaint, Revisit
from jiuzhu.supervision.services.complaints import complaint_decide, complaint_record
from jiuzhu.supervision.services.revisits import revisit_record

router = Router(tags=["supervision: revisits and complaints"])


def _user(request: HttpRequest, *perms: Perm) -> User:
    user = request_user(request)
    if not any(user_has_perm(user, perm) for perm in perms):
        raise Http404("Not found")
    return user


class RevisitOut(Schema):
    id: int
    batch_id: int | None
    source: str
    method: str
    status: str
    due_date: datetime.date
    order_id: int
    household_id: int
    region_code: str
    beneficiary_masked: str
    item_name: str
    service_date: datetime.date
    provider_id: int
    provider_name: str
    assigned_to: str | None
    mine: bool
    attempts: int
    service_happened: bool | None
    matches_record: bool | None
    satisfaction: int | None
    passed: bool | None
    comment: str
    done_at: datetime.datetime | None


def _revisit_out(revisit: Revisit, user: Any) -> dict[str, Any]:
    order = revisit.order
    return {
        "id": revisit.pk,
        "batch_id": revisit.batch_id,
        "source": revisit.source,
        "method": revisit.method,
        "status": revisit.status,
        "due_date": revisit.due_date,
        "order_id": order.pk,
        "household_id": revisit.household_id,
        "region_code": revisit.region_id,
        "beneficiary_masked": (
            order.person.name_masked if order.person else revisit.household.head_name_masked
        ),
        "item_name": order.item.name_zh,
        "service_date": order.service_date,
        "provider_id": revisit.provider_id,
        "provider_name": revisit.provider.name,
        "assigned_to": revisit.assigned_to.username if revisit.assigned_to else None,
        "mine": revisit.assigned_to_id == user.pk,
        "attempts": revisit.attempts,
        "service_happened": revisit.service_happened,
        "matches_record": revisit.matches_record,
        "satisfaction": revisit.satisfaction,
        "passed": revisit.passed,
        "comment": revisit.comment,
        "done_at": revisit.done_at,
    }


class RevisitParams(Schema):
    mine: bool = False
    method: str = ""
    status: str = "pending"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


@router.get("/revisits", response=list[RevisitOut])
def revisits_list(request: HttpRequest, params: Query[RevisitParams]) -> list[dict[str, Any]]:
    user = _user(request, Perm.REVISIT)
    rows = sel.revisit_queue(user, method=params.method, status=params.status, mine=params.mine)
    return [_revisit_out(r, user) for r in rows[params.offset : params.offset + params.limit]]


@router.get("/revisits/{revisit_id}", response=RevisitOut)
def revisit_get(request: HttpRequest, revisit_id: int) -> dict[str, Any]:
    user = _user(request, Perm.REVISIT, Perm.SUPERVISE)
    return _revisit_out(sel.revisit_for_user(user, revisit_id), user)


class ResultIn(Schema):
    status: str
    service_happened: bool | None = None
    matches_record: bool | None = None
    satisfaction: int | None = None
    comment: str = ""
    at: datetime.datetime | None = None


@router.post("/revisits/{revisit_id}/result", response=RevisitOut)
def revisit_result(request: HttpRequest, revisit_id: int, body: ResultIn) -> dict[str, Any]:
    user = _user(request, Perm.REVISIT)
    revisit = sel.revisit_for_user(user, revisit_id)
    with service_errors():
        revisit_record(
            actor=user,
            revisit=revisit,
            status=body.status,
            service_happened=body.service_happened,
            matches_record=body.matches_record,
            satisfaction=body.satisfaction,
            comment=body.comment,
            at=body.at,
        )
    return _revisit_out(sel.revisit_for_user(user, revisit_id), user)


class ComplaintOut(Schema):
    id: int
    provider_id: int
    provider_name: str
    order_id: int | None
    household_id: int | None
    revisit_id: int | None
    region_code: str
    channel: str
    text: str
    status: str
    finding: str
    received_at: datetime.datetime
    handled_at: datetime.datetime | None


def _complaint_out(complaint: Complaint) -> dict[str, Any]:
    return {
        "id": complaint.pk,
        "provider_id": complaint.provider_id,
        "provider_name": complaint.provider.name,
        "order_id": complaint.order_id,
        "household_id": complaint.household_id,
        "revisit_id": complaint.revisit_id,
        "region_code": complaint.region_id,
        "channel": complaint.channel,
        "text": complaint.text,
        "status": complaint.status,
        "finding": complaint.finding,
        "received_at": complaint.received_at,
        "handled_at": complaint.handled_at,
    }


class ComplaintParams(Schema):
    status: str = ""
    provider_id: int | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


@router.get("/complaints", response=list[ComplaintOut])
def complaints_list(request: HttpRequest, params: Query[ComplaintParams]) -> list[dict[str, Any]]:
    user = _user(request, Perm.REVISIT, Perm.SUPERVISE)
    rows = sel.complaints_filtered(user, status=params.status, provider=params.provider_id)
    return [_complaint_out(c) for c in rows[params.offset : params.offset + params.limit]]


class ComplaintIn(Schema):
    provider_id: int
    text: str
    channel: str
    order_id: int | None = None
    household_id: int | None = None
    revisit_id: int | None = None
    received_at: datetime.datetime | None = None


@router.post("/complaints", response={201: ComplaintOut})
def complaint_create(request: HttpRequest, body: ComplaintIn) -> Status[dict[str, Any]]:
    user = _user(request, Perm.REVISIT)
    revisit = sel.revisit_for_user(user, body.revisit_id) if body.revisit_id else None
    order = (
        get_scoped_or_404(user, ServiceOrder.objects.all(), pk=body.order_id)
        if body.order_id
        else None
    )
    household = (
        get_scoped_or_404(user, Household.objects.all(), pk=body.household_id)
        if body.household_id
        else None
    )
    provider = Provider.objects.filter(pk=body.provider_id).first()
    if provider is None:
        raise Http404("Not found")
    with service_errors():
        complaint = complaint_record(
            actor=user,
            provider=provider,
            text=body.text,
            channel=body.channel,
            order=order,
            household=household,
            received_at=body.received_at,
            revisit=revisit,
        )
    return Status(201, _complaint_out(sel.complaint_for_user(user, complaint.pk)))


class DecisionIn(Schema):
    upheld: bool
    finding: str


@router.post("/complaints/{complaint_id}/decision", response=ComplaintOut)
def complaint_decision(request: HttpRequest, complaint_id: int, body: DecisionIn) -> dict[str, Any]:
    user = _user(request, Perm.REVISIT)
    complaint = sel.complaint_for_user(user, complaint_id)
    with service_errors():
        complaint_decide(actor=user, complaint=complaint, upheld=body.upheld, finding=body.finding)
    return _complaint_out(sel.complaint_for_user(user, complaint_id))
