"""The public policy guide (一码通): no login, one page per county for a phone, readable by
elders. It shows policies only, never anything about a person.

The questionnaire "which policies might fit me" stores nothing: its answers travel in a
POST body (never in a URL, so not in access logs or browser history), are read in this
request and forgotten; the view touches no session, sets no cookie, writes no row, logs
nothing, and its answer carries ``Cache-Control: no-store``. It changes nothing either,
which is why it alone is exempt from CSRF (a token would mean a cookie). The guide's pages
use their own shell (policies/guide_base.html) without the staff page's CSRF token.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from jiuzhu.policies.guide import (
    QUESTIONS,
    YES,
    PhoneNumber,
    answers_from,
    phone_numbers,
    qr_png,
    qr_svg,
    rank,
    tag_labels,
)
from jiuzhu.policies.models import Policy, Theme
from jiuzhu.policies.selectors import guide_county, guide_policies
from jiuzhu.regions.models import Region


@dataclass(frozen=True)
class Card:
    """A policy as the guide shows it."""

    policy: Policy
    phones: list[PhoneNumber]
    fits: list[str]  # labels of the answers it fits (questionnaire results only)


def _card(policy: Policy, fits: Iterable[str] = ()) -> Card:
    return Card(policy, phone_numbers(policy.phone) or [], tag_labels(list(fits)))


def _by_theme(policies: Iterable[Policy]) -> list[tuple[str, str, list[Card]]]:
    groups: dict[str, list[Card]] = {}
    for policy in policies:
        groups.setdefault(policy.theme, []).append(_card(policy))
    labels = dict(Theme.choices)
    return [(theme, str(labels[theme]), groups[theme]) for theme in Theme.values if theme in groups]


def _common(county: Region) -> dict[str, object]:
    return {
        "county": county,
        "hotline": phone_numbers(settings.JIUZHU_SUPERVISION_PHONE) or [],
        "hotline_text": settings.JIUZHU_SUPERVISION_PHONE,
        "apply_url": reverse("self_apply", args=[county.code]),
        "guide_url": reverse("guide:home", args=[county.code]),
        "check_url": reverse("guide:check", args=[county.code]),
    }


def _guide_url(request: HttpRequest, county: Region) -> str:
    return request.build_absolute_uri(reverse("guide:home", args=[county.code]))


@require_GET
@cache_control(max_age=300, public=True)
def guide_home(request: HttpRequest, county_code: str) -> HttpResponse:
    """The county's policies by theme, with conditions and a phone to tap."""
    county = guide_county(county_code)
    themes = _by_theme(guide_policies(county, timezone.localdate()))
    return render(
        request,
        "policies/guide/home.html",
        {**_common(county), "themes": themes, "total": sum(len(t[2]) for t in themes)},
    )


@require_GET
@cache_control(max_age=300, public=True)
def guide_policy(request: HttpRequest, county_code: str, code: str) -> HttpResponse:
    county = guide_county(county_code)
    policies = guide_policies(county, timezone.localdate()).filter(code=code)
    # the county's own text before a national one of the same code
    policy = policies.filter(region__isnull=False).first() or policies.first()
    if policy is None:
        return render(request, "policies/guide/not_found.html", _common(county), status=404)
    return render(
        request,
        "policies/guide/policy.html",
        {**_common(county), "card": _card(policy), "theme": policy.get_theme_display()},
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
@cache_control(no_store=True, private=True)
def guide_check(request: HttpRequest, county_code: str) -> HttpResponse:
    """The questionnaire; the POST answers with the policies that fit, most first."""
    county = guide_county(county_code)
    context = {**_common(county), "questions": QUESTIONS, "yes": YES}
    if request.method != "POST":
        return render(request, "policies/guide/check.html", context)
    answers = answers_from(request.POST)
    fits = rank(guide_policies(county, timezone.localdate()), answers)
    return render(
        request,
        "policies/guide/check_result.html",
        {
            **context,
            "answered": bool(answers),
            "cards": [_card(f.policy, f.fits) for f in fits],
        },
    )


@require_GET
@cache_control(max_age=3600, public=True)
def guide_qr(request: HttpRequest, county_code: str) -> HttpResponse:
    """The QR code that opens the county's guide (PNG, for leaflets and screens)."""
    county = guide_county(county_code)
    response = HttpResponse(qr_png(_guide_url(request, county)), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="guide-{county.code}.png"'
    return response


@require_GET
@cache_control(max_age=300, public=True)
def guide_poster(request: HttpRequest, county_code: str) -> HttpResponse:
    """An A4 poster for notice boards and service halls: the title, the QR code large,
    the themes with their number of policies, and the hotline."""
    county = guide_county(county_code)
    counts = Counter(p.theme for p in guide_policies(county, timezone.localdate()))
    labels = dict(Theme.choices)
    url = _guide_url(request, county)
    return render(
        request,
        "policies/guide/poster.html",
        {
            **_common(county),
            "url": url,
            # segno's own SVG of a URL we built: no user input reaches it unescaped
            "qr": mark_safe(qr_svg(url)),  # noqa: S308
            "themes": [(labels[t], counts[t]) for t in Theme.values if counts[t]],
            "total": sum(counts.values()),
        },
    )
