"""The supervision console (``SUPERVISE``, the user's area):

- ``/supervision/``: every service order, live and past, filtered by provider, item,
  town, state, service dates, flagged (a failed revisit) and overdue; overdue first, then
  the newest; ``?export=xlsx`` downloads the filtered list (audited, masked);
- ``/supervision/orders/<id>/``: one order's supervision record (times, places and
  distances, photos, checklist, rating, revisits, complaints);
- ``/supervision/households/<id>/``: every order of one household with the same facts
  (a view of the household's file: audited);
- ``/supervision/overdue/``: the overdue needs and orders (services' clocks).

A page a role may not use answers 404, like anything outside the user's area.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.form_input import date_or_none, int_or_none
from jiuzhu.core.http import need_perm, request_user
from jiuzhu.registry.services import household_file_viewed
from jiuzhu.services import choices as sc
from jiuzhu.services.deadline_selectors import overdue_needs, overdue_orders
from jiuzhu.supervision import console_selectors as sel
from jiuzhu.supervision.choices import RevisitMethod
from jiuzhu.supervision.services.console import console_export

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filters_from(params: QueryDict | dict[str, str]) -> sel.ConsoleFilters:
    get = params.get
    state = get("state", "") or ""
    return sel.ConsoleFilters(
        provider=int_or_none(get("provider")),
        item=int_or_none(get("item")),
        town=(get("town", "") or "").strip()[:12],
        state=state if state in sc.OrderStatus.values else "",
        date_from=date_or_none(get("from")),
        date_to=date_or_none(get("to")),
        flagged=get("flagged") == "1",
        overdue=get("overdue") == "1",
    )


@login_required
def console(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.SUPERVISE)
    filters = filters_from(request.GET)
    if request.GET.get("export") == "xlsx":
        need_perm(request, Perm.EXPORT)
        content, name = console_export(actor=request_user(request), filters=filters)
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response
    page = Paginator(sel.console_orders(request.user, filters), 50).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    query["export"] = "xlsx"
    return render(
        request,
        "supervision/console/list.html",
        {
            "page": page,
            "filters": filters,
            "may_export": user_has_perm(request.user, Perm.EXPORT),
            "export_query": query.urlencode(),
            "active_nav": "supervision",
            **sel.console_choices(request.user),
        },
    )


@login_required
def order_record(request: HttpRequest, order_id: int) -> HttpResponse:
    need_perm(request, Perm.SUPERVISE)
    record = sel.order_record_for_user(request.user, order_id)
    return render(
        request,
        "supervision/console/order.html",
        {
            "r": record,
            "order": record.order,
            "may_revisit": user_has_perm(request.user, Perm.REVISIT),
            "methods": sc_methods(),
            "active_nav": "supervision",
        },
    )


def sc_methods() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in RevisitMethod.choices]


@login_required
def household_records(request: HttpRequest, household_id: int) -> HttpResponse:
    need_perm(request, Perm.SUPERVISE)
    household, records = sel.household_records(request.user, household_id)
    # Every order of one household is a view of its file: audited like the registry's page.
    household_file_viewed(
        actor=request_user(request), household=household, request=request, via="supervision"
    )
    return render(
        request,
        "supervision/console/household.html",
        {"household": household, "records": records, "active_nav": "supervision"},
    )


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.SUPERVISE)
    return render(
        request,
        "supervision/console/overdue.html",
        {
            "needs": overdue_needs(request.user, limit=100),
            "orders": overdue_orders(request.user, limit=100),
            "active_nav": "supervision",
        },
    )
