"""Pages of revisits (回访) and complaints.

- ``/supervision/revisits/`` (``REVISIT``): the queue — mine first, then my area's
  (unassigned before a colleague's), earliest due first; tabs for home visits, the phone
  queue and what is finished. Made for a village assistant's phone.
- ``/supervision/revisits/<id>/``: what the record says (item, date, times, provider,
  worker), then the questions; a phone revisit shows the numbers masked, revealed through
  the registry's audited reveal. ``SUPERVISE`` may read it; only ``REVISIT`` records.
- ``/supervision/revisits/batches/`` (``SUPERVISE``): the monthly draws and their figures;
  county staff with ``REVISIT`` draw a month there.
- ``/supervision/complaints/``: the list, a new complaint (prefilled from a revisit or an
  order), one complaint with its decision and the ad-hoc revisit it may open.

Plain views: parse the form, call one service, redirect; a refusal renders the page again
with the messages, status 422 and what was typed. A page a role may not use answers 404,
like anything outside the user's area.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import get_scoped_or_404, scoped, user_has_perm
from jiuzhu.core.form_input import error_messages, int_or_none, local_datetime
from jiuzhu.core.http import need_perm, not_found, request_user
from jiuzhu.registry.models import Household
from jiuzhu.services.models import Provider, ServiceOrder
from jiuzhu.supervision import choices as c
from jiuzhu.supervision import revisit_selectors as sel
from jiuzhu.supervision.models import Revisit
from jiuzhu.supervision.services import complaints as complaint_svc
from jiuzhu.supervision.services import revisits as revisit_svc

TABS = ("home", "phone", "done")


def _need_any(request: HttpRequest, *perms: Perm) -> None:
    if not any(user_has_perm(request.user, perm) for perm in perms):
        not_found(request)


# --- revisits ---------------------------------------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.REVISIT)
    tab = request.GET.get("tab", "home")
    tab = tab if tab in TABS else "home"
    mine = request.GET.get("mine") == "1"
    if tab == "done":
        revisits = sel.revisit_queue(request.user, status="", mine=mine).exclude(
            status=c.RevisitStatus.PENDING
        )
    else:
        revisits = sel.revisit_queue(request.user, method=tab, mine=mine)
    page = Paginator(revisits, 30).get_page(request.GET.get("page"))
    pending = sel.revisit_queue(request.user)
    return render(
        request,
        "supervision/revisits/queue.html",
        {
            "page": page,
            "tab": tab,
            "mine": mine,
            "today": timezone.localdate(),
            "counts": {
                "home": pending.filter(method=c.RevisitMethod.HOME).count(),
                "phone": pending.filter(method=c.RevisitMethod.PHONE).count(),
            },
            "active_nav": "revisits",
        },
    )


def _revisit_page(
    request: HttpRequest,
    revisit: Revisit,
    *,
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    may_record = (
        user_has_perm(request.user, Perm.REVISIT) and revisit.status == c.RevisitStatus.PENDING
    )
    return render(
        request,
        "supervision/revisits/revisit.html",
        {
            "revisit": revisit,
            "order": revisit.order,
            "who": (
                revisit.order.person.name_masked
                if revisit.order.person
                else revisit.household.head_name_masked
            ),
            "contacts": sel.contacts(revisit)
            if revisit.method == c.RevisitMethod.PHONE or may_record
            else [],
            "can_unmask": user_has_perm(request.user, Perm.UNMASK),
            "may_record": may_record,
            "offers_complaint": sel.offers_complaint(revisit)
            and user_has_perm(request.user, Perm.REVISIT),
            "complaints": list(revisit.complaints.order_by("received_at")),
            "scores": range(1, 6),
            "errors": errors or [],
            "form": form or {},
            "active_nav": "revisits",
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def revisit(request: HttpRequest, revisit_id: int) -> HttpResponse:
    _need_any(request, Perm.REVISIT, Perm.SUPERVISE)
    item = sel.revisit_for_user(request.user, revisit_id)
    if request.method != "POST":
        return _revisit_page(request, item)
    need_perm(request, Perm.REVISIT)
    keys = ("status", "service_happened", "matches_record", "satisfaction", "comment", "at")
    form = {key: request.POST.get(key, "") for key in keys}
    try:
        try:
            at = local_datetime(form["at"])
        except ValueError as exc:
            raise ValidationError({"at": _("Enter the date and time of the revisit.")}) from exc
        revisit_svc.revisit_record(
            actor=request_user(request),
            revisit=item,
            status=form["status"],
            service_happened=_yes_no(form["service_happened"]),
            matches_record=_yes_no(form["matches_record"]),
            satisfaction=int_or_none(form["satisfaction"]),
            comment=form["comment"],
            at=at,
        )
    except (ValidationError, PermissionDenied) as exc:
        item.refresh_from_db()
        return _revisit_page(request, item, errors=error_messages(exc), form=form, status=422)
    messages.success(request, _("The revisit is recorded."))
    return redirect("supervision:revisit", item.pk)


def _yes_no(text: str) -> bool | None:
    return {"1": True, "0": False}.get(text)


@login_required
@require_POST
def revisit_add(request: HttpRequest) -> HttpResponse:
    """An ad-hoc revisit of an order, from its supervision record."""
    need_perm(request, Perm.REVISIT)
    order = get_scoped_or_404(
        request.user, ServiceOrder.objects.all(), pk=int_or_none(request.POST.get("order"))
    )
    try:
        item = revisit_svc.revisit_add(
            actor=request_user(request), order=order, method=request.POST.get("method", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        for text in error_messages(exc):
            messages.error(request, text)
        return redirect("supervision:console_order", order.pk)
    return redirect("supervision:revisit", item.pk)


# --- batches -----------------------------------------------------------------------------


def _month(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(f"{text.strip()}-01")
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def batches(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.SUPERVISE)
    user = request_user(request)
    county = (user.region_id or "")[: revisit_svc.COUNTY_CODE_LENGTH]
    may_draw = (
        user_has_perm(user, Perm.REVISIT)
        and len(user.region_id or "") == revisit_svc.COUNTY_CODE_LENGTH
    )
    errors: list[str] = []
    form = {"month": request.POST.get("month", "")}
    if request.method == "POST":
        if not may_draw:
            not_found(request)
        period = _month(form["month"])
        try:
            if period is None:
                raise ValidationError({"period": _("Enter the month as YYYY-MM.")})
            batch = revisit_svc.revisit_batch_draw(actor=user, county=county, period=period)
        except (ValidationError, PermissionDenied) as exc:
            errors = error_messages(exc)
        else:
            return redirect("supervision:revisit_batch", batch.pk)
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    return render(
        request,
        "supervision/revisits/batches.html",
        {
            "batches": [
                (batch, sel.batch_progress(user, batch))
                for batch in sel.batches_visible(user).order_by("-period", "region_id")[:36]
            ],
            "may_draw": may_draw,
            "suggested": f"{last_month:%Y-%m}",
            "errors": errors,
            "form": form,
            "active_nav": "supervision",
        },
        status=422 if errors else 200,
    )


@login_required
def batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    need_perm(request, Perm.SUPERVISE)
    item = sel.batch_for_user(request.user, batch_id)
    figures = sel.batch_figures(item)
    return render(
        request,
        "supervision/revisits/batch.html",
        {
            "batch": item,
            "figures": figures,
            "rate_percent": item.rate * 100,
            "home_total": sum(f.home for f in figures),
            "phone_total": sum(f.phone for f in figures),
            "progress": sel.batch_progress(request.user, item),
            "active_nav": "supervision",
        },
    )


# --- complaints --------------------------------------------------------------------------


@login_required
def complaints(request: HttpRequest) -> HttpResponse:
    _need_any(request, Perm.REVISIT, Perm.SUPERVISE)
    status = request.GET.get("status", "")
    provider = int_or_none(request.GET.get("provider"))
    rows = sel.complaints_filtered(request.user, status=status, provider=provider)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/revisits/complaints.html",
        {
            "page": page,
            "status": status,
            "provider": provider,
            "statuses": c.ComplaintStatus.choices,
            "providers": Provider.objects.filter(
                pk__in=sel.complaints_visible(request.user).values("provider_id")
            ).order_by("name"),
            "may_record": user_has_perm(request.user, Perm.REVISIT),
            "active_nav": "revisits",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.REVISIT)
    source = request.POST if request.method == "POST" else request.GET
    revisit_id = int_or_none(source.get("revisit"))
    order_id = int_or_none(source.get("order"))
    household_id = int_or_none(source.get("household"))
    related = sel.revisit_for_user(request.user, revisit_id) if revisit_id else None
    order = (
        related.order
        if related is not None
        else get_scoped_or_404(request.user, ServiceOrder.objects.all(), pk=order_id)
        if order_id
        else None
    )
    household = (
        order.household
        if order is not None
        else get_scoped_or_404(request.user, Household.objects.all(), pk=household_id)
        if household_id
        else None
    )
    provider_choices = Provider.objects.filter(is_active=True).order_by("name")
    form = {
        "provider": source.get("provider", "")
        or (str(order.provider_id) if order is not None and order.provider_id else ""),
        "channel": source.get("channel", "")
        or (c.ComplaintChannel.REVISIT if related is not None else ""),
        "text": source.get("text", "") or (related.comment if related is not None else ""),
        "received_at": source.get("received_at", ""),
    }
    errors: list[str] = []
    if request.method == "POST":
        try:
            provider = provider_choices.filter(pk=int_or_none(form["provider"]) or 0).first()
            if provider is None:
                raise ValidationError({"provider": _("Choose the provider.")})
            try:
                received_at = local_datetime(form["received_at"])
            except ValueError as exc:
                raise ValidationError(
                    {"received_at": _("Enter when the complaint came in.")}
                ) from exc
            complaint = complaint_svc.complaint_record(
                actor=request_user(request),
                provider=provider,
                text=form["text"],
                channel=form["channel"],
                order=order,
                household=household,
                received_at=received_at,
                revisit=related,
            )
        except (ValidationError, PermissionDenied) as exc:
            errors = error_messages(exc)
        else:
            return redirect("supervision:complaint", complaint.pk)
    return render(
        request,
        "supervision/revisits/complaint_new.html",
        {
            "revisit": related,
            "order": order,
            "household": household,
            "providers": provider_choices if order is None else [order.provider],
            "channels": c.ComplaintChannel.choices,
            "form": form,
            "errors": errors,
            "active_nav": "revisits",
        },
        status=422 if errors else 200,
    )


def _complaint_page(
    request: HttpRequest,
    complaint_id: int,
    *,
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    item = sel.complaint_for_user(request.user, complaint_id)
    revisits = (
        list(scoped(request.user, Revisit.objects.filter(order=item.order)).order_by("id"))
        if item.order_id
        else []
    )
    may_handle = user_has_perm(request.user, Perm.REVISIT)
    return render(
        request,
        "supervision/revisits/complaint.html",
        {
            "complaint": item,
            "revisits": revisits,
            "may_decide": may_handle and item.status == c.ComplaintStatus.OPEN,
            "may_revisit": may_handle
            and item.order_id is not None
            and not any(r.status == c.RevisitStatus.PENDING for r in revisits),
            "methods": c.RevisitMethod.choices,
            "errors": errors or [],
            "form": form or {},
            "active_nav": "revisits",
        },
        status=status,
    )


@login_required
def complaint(request: HttpRequest, complaint_id: int) -> HttpResponse:
    _need_any(request, Perm.REVISIT, Perm.SUPERVISE)
    return _complaint_page(request, complaint_id)


@login_required
@require_POST
def complaint_decide(request: HttpRequest, complaint_id: int) -> HttpResponse:
    need_perm(request, Perm.REVISIT)
    item = sel.complaint_for_user(request.user, complaint_id)
    form = {"upheld": request.POST.get("upheld", ""), "finding": request.POST.get("finding", "")}
    try:
        if form["upheld"] not in ("1", "0"):
            raise ValidationError({"upheld": _("Say whether the complaint is upheld.")})
        complaint_svc.complaint_decide(
            actor=request_user(request),
            complaint=item,
            upheld=form["upheld"] == "1",
            finding=form["finding"],
        )
    except (ValidationError, PermissionDenied) as exc:
        return _complaint_page(
            request, complaint_id, errors=error_messages(exc), form=form, status=422
        )
    return redirect("supervision:complaint", item.pk)


@login_required
@require_POST
def complaint_revisit(request: HttpRequest, complaint_id: int) -> HttpResponse:
    need_perm(request, Perm.REVISIT)
    item = sel.complaint_for_user(request.user, complaint_id)
    try:
        new = complaint_svc.complaint_open_revisit(
            actor=request_user(request), complaint=item, method=request.POST.get("method", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        return _complaint_page(request, complaint_id, errors=error_messages(exc), status=422)
    return redirect("supervision:revisit", new.pk)
