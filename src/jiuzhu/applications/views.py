"""Public disclosure pages (公示): no login, only :class:`disclosure.PublicEntry` data."""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control

from jiuzhu.applications.disclosure import public_entries
from jiuzhu.regions.models import Region


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
