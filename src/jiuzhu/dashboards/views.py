"""The statistics pages (plain views): the county (or the user's area), a town, a provider.

Who may open what:

* ``/statistics/``: SUPERVISE staff see their area (a town officer lands on their town's
  page); a provider's manager lands on their provider's page; anyone else gets 403.
* ``/statistics/town/<code>/``: SUPERVISE staff whose area holds the town; else 404.
* ``/statistics/provider/<id>/``: SUPERVISE staff for a provider serving their area
  (figures of the orders in that area), or the provider's own managers (all its orders);
  another provider's page answers 404.

Each page takes a period (this month, last month, the last 30 days, or from/until; a
refused period answers 422 with the message) and ``export=xlsx`` for every table of the
page in one workbook (audited).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.http import not_found, request_user
from jiuzhu.regions.models import Level, Region
from jiuzhu.services.directory_selectors import member_of_user
from jiuzhu.services.models import Provider, ServiceOrder

from . import selectors as sel
from . import tables
from .periods import CHOICES, Period, period_from_query
from .services import statistics_export

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def staff_area(user: Any) -> str | None:
    """The region code a SUPERVISE user's statistics cover; None for anyone else."""
    if not user_has_perm(user, Perm.SUPERVISE) or not getattr(user, "region_id", None):
        return None
    return str(user.region_id)


def managed_provider_id(user: Any) -> int | None:
    """The provider whose statistics the user may see as its manager."""
    member = member_of_user(user)
    if member is None or not member.is_manager:
        return None
    return int(member.provider_id)


def provider_in_area(provider: Provider, area: str) -> bool:
    return (
        sel.providers_in_area(area).filter(pk=provider.pk).exists()
        or ServiceOrder.objects.filter(provider=provider, region__code__startswith=area).exists()
    )


def _query_without_export(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("export", None)
    return query.urlencode()


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _region_crumbs(area: str, code: str) -> list[dict[str, str | None]]:
    """The user's area and the regions down to ``code``; the last one is not a link."""
    codes = [code[:n] for n in (6, 9, 12) if len(code) >= n and len(code[:n]) >= len(area)]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    crumbs: list[dict[str, str | None]] = []
    for c in codes:
        url = None
        if c != code:
            url = reverse("dashboards:area") if c == area else reverse("dashboards:town", args=[c])
        crumbs.append({"text": names.get(c, c), "url": url})
    return crumbs


def _render_area(request: HttpRequest, *, area: str, code: str) -> HttpResponse:
    period = period_from_query(request.GET, timezone.localdate())
    dashboard = sel.area_dashboard(region_prefix=code, start=period.start, end=period.end)
    page = tables.area_page(dashboard)
    if request.GET.get("export") == "xlsx" and not period.errors:
        content, name = statistics_export(
            actor=request_user(request),
            page=page,
            heading=_heading(dashboard.region_name, period),
            object_type="dashboards.area",
            region_code=code,
            start=period.start,
            end=period.end,
            request=request,
        )
        return _xlsx(content, name)
    return render(
        request,
        "dashboards/area.html",
        {
            "dashboard": dashboard,
            "page": page,
            **_period_context(request, period),
            "breadcrumbs": _region_crumbs(area, code),
            "active_nav": "dashboards",
        },
        status=422 if period.errors else 200,
    )


def _heading(name: str, period: Period) -> str:
    return _("%(name)s: statistics from %(start)s until %(end)s") % {
        "name": name,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


def _period_context(request: HttpRequest, period: Period) -> dict[str, Any]:
    return {
        "period": period,
        "period_choices": CHOICES,
        "query": _query_without_export(request),
    }


@login_required
def area_view(request: HttpRequest) -> HttpResponse:
    """The statistics of the user's area (the county); a town officer goes to their
    town's page, a provider's manager to their provider's page."""
    area = staff_area(request.user)
    suffix = f"?{request.GET.urlencode()}" if request.GET else ""
    if area is None:
        provider_id = managed_provider_id(request.user)
        if provider_id is not None:
            return redirect(reverse("dashboards:provider", args=[provider_id]) + suffix)
        raise PermissionDenied(_("You may not see the statistics."))
    if len(area) == 9:
        return redirect(reverse("dashboards:town", args=[area]) + suffix)
    return _render_area(request, area=area, code=area)


@login_required
def town_view(request: HttpRequest, code: str) -> HttpResponse:
    """One town of the user's area: its figures and its villages."""
    area = staff_area(request.user)
    if (
        area is None
        or len(code) != 9
        or not code.startswith(area)
        or not Region.objects.filter(code=code, level=Level.TOWN).exists()
    ):
        not_found(request)
    return _render_area(request, area=area, code=code)


@login_required
def provider_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    """One provider: orders, on time, satisfaction, no-shows, revisits, its light and its
    history, the monthly trend."""
    provider = Provider.objects.filter(pk=provider_id).first()
    if provider is None:
        not_found(request)
    area = staff_area(request.user)
    if area is not None and provider_in_area(provider, area):
        prefix = area
    elif managed_provider_id(request.user) == provider.pk:
        prefix = ""
    else:
        not_found(request)
    period = period_from_query(request.GET, timezone.localdate())
    dashboard = sel.provider_dashboard(
        provider=provider, region_prefix=prefix, start=period.start, end=period.end
    )
    page = tables.provider_page(dashboard)
    if request.GET.get("export") == "xlsx" and not period.errors:
        content, name = statistics_export(
            actor=request_user(request),
            page=page,
            heading=_heading(provider.name, period),
            object_type="dashboards.provider",
            object_id=provider.pk,
            region_code=prefix,
            start=period.start,
            end=period.end,
            request=request,
        )
        return _xlsx(content, name)
    area_name = ""
    breadcrumbs: list[dict[str, str | None]] = []
    if prefix:
        area_name = Region.objects.filter(code=prefix).values_list("name", flat=True).first() or ""
        breadcrumbs = [{"text": area_name, "url": reverse("dashboards:area")}]
        breadcrumbs.append({"text": provider.name, "url": None})
    return render(
        request,
        "dashboards/provider.html",
        {
            "provider": provider,
            "dashboard": dashboard,
            "page": page,
            "light_label": tables.light_label(provider.light),
            "supervision_url": tables.supervision_provider_url(provider.pk) if prefix else None,
            "area_name": area_name,
            "breadcrumbs": breadcrumbs,
            **_period_context(request, period),
            "active_nav": "dashboards",
        },
        status=422 if period.errors else 200,
    )
