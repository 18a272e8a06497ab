"""Public pages, no login: disclosure (公示; only :class:`disclosure.PublicEntry` data) and
the applicant's own form (自助申请)."""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods

from jiuzhu.applications.disclosure import public_entries
from jiuzhu.applications.selectors import kinds_available
from jiuzhu.applications.services.self_service import self_application_receive
from jiuzhu.regions.models import Level, Region


def _region(code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None or len(code) < 6:  # a county, town or village; not a province
        raise Http404("no such area")
    return region


@cache_control(max_age=60, public=True)
def disclosure_board(request: HttpRequest, region_code: str) -> HttpResponse:
    """What is on display today in a village, or in all villages of a town or county."""
    region = _region(region_code)
    entries = public_entries(region.code, timezone.localdate())
    return render(
        request,
        "applications/disclosure_board.html",
        {
            "region": region,
            "entries": entries,
            "today": timezone.localdate(),
            "supervision_phone": settings.JIUZHU_SUPERVISION_PHONE,
        },
    )


@cache_control(max_age=3600, public=True)
def disclosure_qr(request: HttpRequest, region_code: str) -> HttpResponse:
    """The QR code printed on the notice board: it opens the same list online."""
    region = _region(region_code)
    url = request.build_absolute_uri(reverse("disclosure:board", args=[region.code]))
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


@require_http_methods(["GET", "POST"])
def self_apply(request: HttpRequest, county_code: str) -> HttpResponse:
    """The applicant's own form (自助申请), on a phone, no login. Whatever is sent, the
    answer is the same reference and promise of a call: nothing tells whether the person
    is already known."""
    county = Region.objects.filter(code=county_code).first()
    if county is None or len(county.code) != 6:
        raise Http404("no such county")
    villages = Region.objects.filter(code__startswith=county.code, level=Level.VILLAGE)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            received = self_application_receive(
                village_code=request.POST.get("village", ""),
                name=request.POST.get("name", "")[:50],
                id_number=request.POST.get("id_number", "")[:20],
                phone=request.POST.get("phone", "")[:20],
                kinds=request.POST.getlist("kinds"),
                reason=request.POST.get("reason", "")[:2000],
                consent=request.POST.get("consent") == "1",
                client_address=request.META.get("REMOTE_ADDR", ""),
            )
            return render(
                request,
                "applications/self_apply_done.html",
                {"county": county, "reference": received.reference},
            )
        except ValidationError as exc:
            errors = exc.message_dict
    return render(
        request,
        "applications/self_apply.html",
        {
            "county": county,
            "villages": villages.order_by("code"),
            "kinds": kinds_available(county.code),
            "errors": errors,
            # what was typed comes back, except the ID number (not echoed into a page)
            "form": request.POST if errors else {},
            "supervision_phone": settings.JIUZHU_SUPERVISION_PHONE,
        },
        status=422 if errors else 200,
    )
