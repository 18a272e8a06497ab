"""Worklist, warning page with contact and verification, dashboard, rule thresholds."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import region_in_scope, user_has_perm
from jiuzhu.core.http import need_perm, not_found, request_user
from jiuzhu.monitoring.models import Level, Outcome, Warning
from jiuzhu.monitoring.selectors import (
    WorklistFilter,
    dashboard,
    overrides_history,
    warning_get,
    worklist,
)
from jiuzhu.monitoring.services import (
    current_overrides,
    parameter_override_set,
    rule_pack,
    warning_contact_record,
    warning_verify,
)
from jiuzhu.regions.models import Region
from jiuzhu.registry.choices import Category


@login_required
def worklist_view(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    filters = WorklistFilter(
        status=request.GET.get("status", "active"),
        level=request.GET.get("level", "") if request.GET.get("level") in Level.values else "",
        rule_id=request.GET.get("rule", "")[:64],
        region_code=request.GET.get("region", "")[:12],
        mine=request.GET.get("mine") == "1",
    )
    page = Paginator(worklist(user=request.user, filters=filters), 30).get_page(
        request.GET.get("page")
    )
    pack = rule_pack()
    rules = {r.id: r for r in pack.rules}
    return render(
        request,
        "monitoring/worklist.html",
        {
            "page": page,
            "rows": [(w, rules[w.rule_id]) for w in page if w.rule_id in rules],
            "filters": filters,
            "rules": rules,
            "levels": Level.choices,
            "now": timezone.now(),
        },
    )


@login_required
def warning_detail(request: HttpRequest, warning_id: int) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    warning = warning_get(user=request.user, warning_id=warning_id)
    return _detail(request, warning)


def _detail(
    request: HttpRequest, warning: Warning, errors: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    rule = rule_pack().rule(warning.rule_id)
    evidence = [
        (
            rule.evidence_labels.get(key, (key, key, ""))[0],
            value,
            rule.evidence_labels.get(key, ("", "", ""))[2],
        )
        for key, value in warning.evidence.items()
        if key != "person_id"
    ]
    return render(
        request,
        "monitoring/warning.html",
        {
            "warning": warning,
            "rule": rule,
            "evidence": evidence,
            "events": warning.events.select_related("actor"),
            "contacts": warning.contacts.select_related("caller"),
            "visit": getattr(warning, "visit", None),
            "outcomes": Outcome.choices,
            "categories": Category.choices,
            "can_act": user_has_perm(request.user, Perm.EDIT_REGISTRY)
            and warning.status != Warning.Status.CLOSED,
            "is_water": warning.rule_id == "water_anomaly",
            "can_apply": user_has_perm(request.user, Perm.ENTER_APPLICATIONS),
            "errors": errors or {},
            "form": request.POST if errors else {},
            "now": timezone.localtime(),
        },
        status=status,
    )


@login_required
@require_POST
def contact_view(request: HttpRequest, warning_id: int) -> HttpResponse:
    need_perm(request, Perm.EDIT_REGISTRY)
    warning = warning_get(user=request.user, warning_id=warning_id)
    try:
        warning_contact_record(
            warning=warning,
            user=request_user(request),
            reached=request.POST.get("reached") == "1",
            person_safe=request.POST.get("person_safe") == "1",
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        return _detail(request, warning, {"contact": exc.messages}, status=422)
    return redirect("monitoring:detail", warning_id=warning.pk)


def _decimal(text: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValidationError({"latitude": _("Coordinates must be numbers.")}) from exc


@login_required
@require_POST
def verify_view(request: HttpRequest, warning_id: int) -> HttpResponse:
    need_perm(request, Perm.EDIT_REGISTRY)
    warning = warning_get(user=request.user, warning_id=warning_id)
    try:
        try:
            visited_at = datetime.datetime.fromisoformat(request.POST.get("visited_at", ""))
        except ValueError as exc:
            raise ValidationError(
                {"visited_at": _("Enter the date and time of the visit.")}
            ) from exc
        if timezone.is_naive(visited_at):
            visited_at = timezone.make_aware(visited_at)
        warning_verify(
            warning=warning,
            user=request_user(request),
            visited_at=visited_at,
            findings=request.POST.get("findings", ""),
            outcome=request.POST.get("outcome", ""),
            latitude=_decimal(request.POST.get("latitude", "")),
            longitude=_decimal(request.POST.get("longitude", "")),
            category=request.POST.get("category", ""),
            reason=request.POST.get("reason", ""),
            need_summary=request.POST.get("need_summary", ""),
            photos=request.FILES.getlist("photos"),
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return _detail(request, warning, errors, status=422)
    return redirect("monitoring:detail", warning_id=warning.pk)


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    data = dashboard(user=request.user)
    names = dict(Region.objects.filter(code__in=list(data["by_town"])).values_list("code", "name"))
    towns = [(code, names.get(code, code), counts) for code, counts in data["by_town"].items()]
    rules = {r.id: r for r in rule_pack().rules}
    return render(
        request,
        "monitoring/dashboard.html",
        {"data": data, "towns": towns, "rules": rules, "outcome_labels": dict(Outcome.choices)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def rules_view(request: HttpRequest) -> HttpResponse:
    """The rules with their parameters; a county admin sets values for part of the area."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    can_manage = user_has_perm(request.user, Perm.MANAGE_RULES)
    errors: list[str] = []
    if request.method == "POST":
        if not can_manage:
            not_found(request)
        code = request.POST.get("region", "").strip()
        region = Region.objects.filter(code=code).first()
        if region is None or not region_in_scope(request.user, code):
            errors.append(_("Choose a region in your area."))
        else:
            try:
                parameter_override_set(
                    user=request_user(request),
                    rule_id=request.POST.get("rule", ""),
                    parameter=request.POST.get("parameter", ""),
                    region=region,
                    value=request.POST.get("value", "").strip(),
                    reason=request.POST.get("reason", ""),
                )
                return redirect("monitoring:rules")
            except ValidationError as exc:
                errors.extend(exc.messages)
    return render(
        request,
        "monitoring/rules.html",
        {
            "pack": rule_pack(),
            "overrides": current_overrides(),
            "history": overrides_history()[:200],
            "can_manage": can_manage,
            "errors": errors,
        },
        status=422 if errors else 200,
    )
