"""Pages of provider scorecards and traffic lights (红绿灯).

- ``/supervision/lights/``: a month's scorecards of the county's providers (``SUPERVISE``),
  red first, each light as a coloured badge with its word, the figures and the reasons;
  open rectifications (overdue first) and exit reviews; Excel export (audited); staff with
  ``DECIDE_LIGHTS`` run the month's scorecards from here.
- ``/supervision/lights/providers/<id>/``: one provider's supervision record: scores,
  decisions (who, when, from → to, why), rectifications and exit reviews, with the
  deciding forms for ``DECIDE_LIGHTS``.
- ``/supervision/lights/mine/``: a provider manager's own record, with the report form of
  an open rectification. Another provider's page answers 404.
- ``/supervision/lights/settings/``: the county's thresholds and revisit settings.

Plain views: each parses the form, calls one service and redirects; a refusal renders the
page again with the messages, status 422 and what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.core.form_input import error_messages
from jiuzhu.core.http import not_found, request_user
from jiuzhu.regions.models import Region
from jiuzhu.services import choices as sc
from jiuzhu.services.models import Provider
from jiuzhu.supervision import light_selectors as sel
from jiuzhu.supervision.lights import DEFAULT_THRESHOLDS
from jiuzhu.supervision.services import config as config_svc
from jiuzhu.supervision.services import light_decisions as svc
from jiuzhu.supervision.services.scorecards import scorecards_export, scorecards_run_detailed

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _supervisor(request: HttpRequest) -> None:
    if not sel.may_supervise(request.user):
        not_found(request)


# --- the month's scorecards ------------------------------------------------------------------


@login_required
def scorecards(request: HttpRequest) -> HttpResponse:
    if not sel.may_supervise(request.user):
        if sel.manager_of(request.user) is not None:
            return redirect("supervision:lights_mine")
        not_found(request)
    user = request_user(request)
    today = timezone.localdate()
    start, end = sel.month_of(request.GET.get("month"), default=sel.previous_month(today))
    if request.GET.get("export") == "xlsx":
        content, name = scorecards_export(actor=user, period_start=start, period_end=end)
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response
    county = sel.county_of(user)
    return render(
        request,
        "supervision/lights/scorecards.html",
        {
            "month": start.strftime("%Y-%m"),
            "period_start": start,
            "period_end": end,
            "rows": [sel.score_view(row) for row in sel.scorecards_of_month(user, start)],
            "rectifications": [
                (r, sel.is_overdue(r, today)) for r in sel.rectifications_open(user, today)
            ],
            "reviews": sel.exit_reviews_open(user),
            "may_decide": sel.may_decide_county(user, county),
            "thresholds": sel.thresholds_view(sel.config_of(county)),
            "active_nav": "supervision",
        },
    )


@login_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    _supervisor(request)
    user = request_user(request)
    county = Region.objects.filter(code=sel.county_of(user)).first()
    if county is None:
        not_found(request)
    today = timezone.localdate()
    start, end = sel.month_of(request.POST.get("month"), default=sel.previous_month(today))
    try:
        result = scorecards_run_detailed(
            county=county, period_start=start, period_end=end, actor=user, today=today
        )
    except (ValidationError, PermissionDenied) as exc:
        for text in error_messages(exc):
            messages.error(request, text)
    else:
        messages.success(
            request,
            _("%(providers)s providers scored, %(decisions)s lights changed.")
            % {"providers": len(result.scores), "decisions": len(result.decisions)},
        )
    return redirect(f"{_url('supervision:lights_scorecards')}?month={start:%Y-%m}")


def _url(name: str, *args: Any) -> str:
    return reverse(name, args=args)


# --- one provider ----------------------------------------------------------------------------


def _provider_page(
    request: HttpRequest,
    provider: Provider,
    *,
    template: str = "supervision/lights/provider.html",
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request_user(request)
    record = sel.provider_record(provider)
    today = timezone.localdate()
    member = sel.manager_of(user)
    return render(
        request,
        template,
        {
            "provider": provider,
            "record": record,
            "scores": [
                sel.score_view(sel.ScoreRow(provider=provider, score=s)) for s in record.scores
            ],
            "overdue": record.open_rectification is not None
            and sel.is_overdue(record.open_rectification, today),
            "may_decide": sel.may_decide(user, provider),
            "may_report": member is not None and member.provider_id == provider.pk,
            "lights": sc.Light.choices,
            "errors": errors or [],
            "form": form or {},
            "active_nav": "supervision",
        },
        status=status,
    )


@login_required
def provider_page(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = sel.provider_supervised_get(user=request.user, provider_id=provider_id)
    return _provider_page(request, provider)


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    member = sel.manager_of(request.user)
    if member is None:
        not_found(request)
    return _provider_page(request, member.provider, template="supervision/lights/mine.html")


def _act(
    request: HttpRequest,
    provider: Provider,
    act: Callable[[], object],
    fields: tuple[str, ...],
    *,
    done: str,
    template: str = "supervision/lights/provider.html",
    back: str = "",
) -> HttpResponse:
    try:
        act()
    except (ValidationError, PermissionDenied) as exc:
        outsider = not sel.may_supervise(request.user) and sel.manager_of(request.user) is None
        if isinstance(exc, PermissionDenied) and outsider:
            not_found(request)
        form = {name: request.POST.get(name, "") for name in fields}
        return _provider_page(
            request,
            provider,
            template=template,
            errors=error_messages(exc),
            form=form,
            status=422,
        )
    messages.success(request, done)
    return redirect(back or _url("supervision:lights_provider", provider.pk))


@login_required
@require_POST
def override(request: HttpRequest, provider_id: int) -> HttpResponse:
    provider = sel.provider_supervised_get(user=request.user, provider_id=provider_id)
    user = request_user(request)
    return _act(
        request,
        provider,
        lambda: svc.light_override(
            actor=user,
            provider=provider,
            light=request.POST.get("light", ""),
            reason=request.POST.get("reason", ""),
        ),
        ("light", "reason"),
        done=_("The traffic light was changed."),
    )


@login_required
@require_POST
def rectification_close(request: HttpRequest, rectification_id: int) -> HttpResponse:
    rectification = sel.rectification_get(user=request.user, rectification_id=rectification_id)
    user = request_user(request)
    return _act(
        request,
        rectification.provider,
        lambda: svc.rectification_close(
            actor=user,
            rectification=rectification,
            accepted=request.POST.get("accepted") == "1",
            conclusion=request.POST.get("conclusion", ""),
        ),
        ("conclusion",),
        done=_("The rectification was closed."),
    )


@login_required
@require_POST
def rectification_submit(request: HttpRequest, rectification_id: int) -> HttpResponse:
    rectification = sel.rectification_get(user=request.user, rectification_id=rectification_id)
    user = request_user(request)
    return _act(
        request,
        rectification.provider,
        lambda: svc.rectification_submit(
            actor=user, rectification=rectification, report=request.POST.get("report", "")
        ),
        ("report",),
        done=_("Your rectification report was submitted."),
        template="supervision/lights/mine.html",
        back=_url("supervision:lights_mine"),
    )


@login_required
@require_POST
def exit_review_decide(request: HttpRequest, review_id: int) -> HttpResponse:
    review = sel.exit_review_get(user=request.user, review_id=review_id)
    user = request_user(request)
    return _act(
        request,
        review.provider,
        lambda: svc.exit_review_decide(
            actor=user,
            review=review,
            expel=request.POST.get("expel") == "1",
            conclusion=request.POST.get("conclusion", ""),
        ),
        ("conclusion",),
        done=_("The exit review was decided."),
    )


# --- settings ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    _supervisor(request)
    user = request_user(request)
    county = sel.county_of(user)
    may_edit = sel.may_decide_county(user, county)
    config = sel.config_of(county)
    values = config_svc.config_snapshot(config)
    errors: list[str] = []
    field_errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if not may_edit:
            not_found(request)
        post = request.POST
        fields = config_svc.ConfigFields(
            min_volume=post.get("min_volume", ""),
            bounds={
                name: (post.get(f"{name}_green", ""), post.get(f"{name}_red", ""))
                for name in DEFAULT_THRESHOLDS.bounds
            },
            revisit_rate=post.get("revisit_rate", ""),
            revisit_minimum=post.get("revisit_minimum", ""),
            phone_minimum=post.get("phone_minimum", ""),
            rectification_days=post.get("rectification_days", ""),
        )
        try:
            config_svc.config_update(actor=user, county_code=county, fields=fields)
        except (ValidationError, PermissionDenied) as exc:
            errors = error_messages(exc)
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                field_errors = exc.message_dict
            values = {key: post.get(key, value) for key, value in values.items()}
            status = 422
        else:
            messages.success(request, _("The settings were saved."))
            return redirect("supervision:lights_config")
    bounds = [
        {
            "name": name,
            "label": sel.figure_label(name),
            "higher_is_better": bound.higher_is_better,
            "green": values[f"{name}_green"],
            "red": values[f"{name}_red"],
            "errors": field_errors.get(f"{name}_green", []) + field_errors.get(f"{name}_red", []),
            "step": "0.01" if name == "satisfaction" else "0.0001",
            "min": "1" if name == "satisfaction" else "0",
            "max": "5" if name == "satisfaction" else "1",
        }
        for name, bound in DEFAULT_THRESHOLDS.bounds.items()
    ]
    return render(
        request,
        "supervision/lights/config.html",
        {
            "values": values,
            "bounds": bounds,
            "field_errors": field_errors,
            "errors": errors,
            "may_edit": may_edit,
            "config": config,
            "active_nav": "supervision",
        },
        status=status,
    )
