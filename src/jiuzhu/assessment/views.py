"""Pages of needs assessment: the list, a new assessment (on a phone), one assessment, and
the instruments with their version history, edits and county copies. Plain views: each
parses the form, calls one service and redirects; a refusal re-renders the page with the
service's messages and status 422, and nothing typed is lost."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import get_scoped_or_404, user_has_perm
from jiuzhu.assessment import services
from jiuzhu.assessment.definition import COLOURS, Change, diff
from jiuzhu.assessment.models import Assessment, Instrument, InstrumentVersion
from jiuzhu.assessment.selectors import (
    assessment_get,
    assessments_of_household,
    assessments_visible,
    instrument_get,
    instrument_versions,
    instruments_for_region,
    instruments_visible,
    latest_version,
    may_edit_instrument,
    parsed,
)
from jiuzhu.assessment.services import COLOUR_LABELS
from jiuzhu.core.http import need_perm, not_found, request_user
from jiuzhu.monitoring.selectors import warning_get
from jiuzhu.regions.models import Region
from jiuzhu.registry.choices import Category
from jiuzhu.registry.models import Enrolment, Household, Person
from jiuzhu.registry.selectors import household_members

ENTITY_LABELS = {
    "scoring": gettext_lazy("scoring"),
    "dimension": gettext_lazy("dimension"),
    "indicator": gettext_lazy("indicator"),
    "option": gettext_lazy("answer"),
    "tier": pgettext_lazy("assessment", "tier"),
}
FIELD_LABELS = {
    "method": gettext_lazy("method"),
    "description": gettext_lazy("description"),
    "label": gettext_lazy("label"),
    "label_en": gettext_lazy("English label"),
    "weight": gettext_lazy("weight"),
    "dimension": gettext_lazy("dimension"),
    "points": gettext_lazy("points"),
    "needs_help": gettext_lazy("needs help"),
    "counted": gettext_lazy("counted"),
    "colour": gettext_lazy("colour"),
    "min_score": gettext_lazy("cut-off (lowest score)"),
    "min_count": gettext_lazy("lowest count"),
    "max_count": gettext_lazy("highest count"),
}
TEKUN = (Category.TEKUN_DISPERSED, Category.TEKUN_CENTRALISED)


def _errors(exc: ValidationError | PermissionDenied) -> dict[str, list[str]]:
    if isinstance(exc, PermissionDenied):
        return {"__all__": [str(exc) or _("You may not do this.")]}
    if hasattr(exc, "error_dict"):
        return dict(exc.message_dict)
    return {"__all__": list(exc.messages)}


def _date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        return None


# --- the list ----------------------------------------------------------------------------


@login_required
def list_view(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    user = request_user(request)
    queryset = assessments_visible(user)
    region = request.GET.get("region", "").strip()[:12]
    if region.isdigit():
        queryset = queryset.filter(region__code__startswith=region)
    instrument = request.GET.get("instrument", "").strip()[:40]
    if instrument:
        queryset = queryset.filter(instrument_version__instrument__code=instrument)
    tier = request.GET.get("tier", "").strip()[:24]
    if tier:
        queryset = queryset.filter(tier=tier)
    colour = request.GET.get("colour", "")
    if colour in COLOURS:
        queryset = queryset.filter(colour=colour)
    since, until = _date(request.GET.get("from", "")), _date(request.GET.get("to", ""))
    if since:
        queryset = queryset.filter(assessed_at__date__gte=since)
    if until:
        queryset = queryset.filter(assessed_at__date__lte=until)
    if request.GET.get("latest") == "1":
        queryset = queryset.filter(next_assessments__isnull=True)
    page = Paginator(queryset.order_by("-assessed_at", "-id"), 30).get_page(request.GET.get("page"))
    user_region = user.region_id or ""
    areas = (
        Region.objects.filter(code__startswith=user_region, level__gte=4).order_by("code")
        if user_region
        else Region.objects.none()
    )
    instruments = {i.code: i for i in instruments_visible(user).order_by("code", "region_id")}
    tiers: dict[str, str] = {}
    for item in instruments.values():
        version = latest_version(item)
        if version is not None:
            for t in parsed(version).tiers:
                tiers.setdefault(t.code, t.label)
    return render(
        request,
        "assessment/list.html",
        {
            "page": page,
            "rows": [(a, parsed(a.instrument_version).tier(a.tier)) for a in page],
            "areas": [a for a in areas if len(a.code) in (9, 12)][:500],
            "instruments": list(instruments.values()),
            "tiers": sorted(tiers.items()),
            "colours": [(c, COLOUR_LABELS[c]) for c in COLOURS],
            "can_assess": user_has_perm(user, Perm.ASSESS_NEEDS),
            "can_manage": user_has_perm(user, Perm.MANAGE_INSTRUMENTS),
            "active_nav": "assessment",
        },
    )


# --- a new assessment --------------------------------------------------------------------


def _tekun_members(household_id: int) -> set[int]:
    """Members enrolled in 特困 (or the whole household, when enrolled as one)."""
    rows = list(
        Enrolment.objects.filter(
            household_id=household_id, category__in=TEKUN, status="active"
        ).values_list("person_id", flat=True)
    )
    return {p for p in rows if p is not None} | ({-1} if None in rows else set())


@login_required
@require_http_methods(["GET", "POST"])
def new_view(request: HttpRequest) -> HttpResponse:
    """Assess a household (``?household=``), possibly from a verified warning
    (``&warning=``), with the instrument of its county (``&instrument=``)."""
    need_perm(request, Perm.ASSESS_NEEDS)
    user = request_user(request)
    params = request.POST if request.method == "POST" else request.GET
    warning = None
    if params.get("warning", "").isdigit():
        warning = warning_get(user=user, warning_id=int(params["warning"]))
    household_id = params.get("household", "")
    if household_id.isdigit():
        household = get_scoped_or_404(
            user, Household.objects.select_related("region"), pk=int(household_id)
        )
    elif warning is not None:
        household = warning.household
    else:
        not_found(request)
    if warning is not None and warning.household_id != household.pk:
        not_found(request)
    instruments = instruments_for_region(household.region_id)
    code = params.get("instrument", "")
    instrument = next((i for i in instruments if i.code == code), None)
    if instrument is None:
        instrument = next(
            (i for i in instruments if i.kind == Instrument.Kind.HOUSEHOLD),
            instruments[0] if instruments else None,
        )
    version = latest_version(instrument) if instrument is not None else None
    if instrument is None or version is None:
        messages.error(request, _("No assessment instrument is in use here."))
        return redirect("registry:file", household.pk)
    members = [m for m in household_members(household_id=household.pk) if not m.is_deceased]
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        answers = {i.code: request.POST.get(f"a_{i.code}", "") for i in parsed(version).indicators}
        person: Person | None = None
        person_id = request.POST.get("person", "")
        if instrument.kind == Instrument.Kind.PERSON and person_id.isdigit():
            person = next((m for m in members if m.pk == int(person_id)), None)
        try:
            assessment = services.assessment_create(
                actor=user,
                household=household,
                instrument_code=instrument.code,
                answers=answers,
                person=person,
                warning=warning,
                note=request.POST.get("note", "")[:2000],
            )
        except (ValidationError, PermissionDenied) as exc:
            errors = _errors(exc)
            status = 422
        else:
            messages.success(request, services.assessment_summary(assessment))
            return redirect("assessment:detail", assessment.pk)
    tekun = _tekun_members(household.pk)
    chosen_person = params.get("person", "")
    if not chosen_person:
        default = next((m for m in members if m.pk in tekun), None)
        if default is None and len(members) == 1:
            default = members[0]
        chosen_person = str(default.pk) if default else ""
    definition = parsed(version)
    indicator_codes = {i.code for i in definition.indicators}
    previous = (
        assessments_of_household(user=user, household_id=household.pk)
        .filter(instrument_version__instrument__code=instrument.code)
        .first()
    )
    return render(
        request,
        "assessment/new.html",
        {
            "household": household,
            "warning": warning,
            "instruments": instruments,
            "instrument": instrument,
            "version": version,
            "definition": definition,
            "members": [(m, m.pk in tekun or -1 in tekun) for m in members],
            "chosen_person": chosen_person,
            "answers": {i.code: params.get(f"a_{i.code}", "") for i in definition.indicators},
            "errors": errors,
            "general_errors": [m for k, v in errors.items() if k not in indicator_codes for m in v],
            "note": params.get("note", ""),
            "previous": previous,
            "previous_tier": parsed(previous.instrument_version).tier(previous.tier)
            if previous is not None
            else None,
            "active_nav": "assessment",
        },
        status=status,
    )


# --- one assessment ----------------------------------------------------------------------


@login_required
def detail_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    user = request_user(request)
    assessment = assessment_get(user=user, assessment_id=assessment_id)
    version = assessment.instrument_version
    definition = parsed(version)
    previous = assessment.previous
    previous_answers = previous.answers if previous is not None else {}
    dimensions = []
    for dimension in definition.dimensions:
        rows = []
        for indicator in dimension.indicators:
            option = indicator.option(assessment.answers.get(indicator.code, ""))
            before = None
            if previous is not None:
                before_indicator = parsed(previous.instrument_version).indicator(indicator.code)
                if before_indicator is not None:
                    before = before_indicator.option(previous_answers.get(indicator.code, ""))
            rows.append(
                {
                    "indicator": indicator,
                    "option": option,
                    "needs_help": indicator.code in assessment.needs,
                    "before": before,
                    "changed": before is not None
                    and option is not None
                    and before.code != option.code,
                }
            )
        dimensions.append((dimension, rows))
    labels = {i.code: i.label for i in definition.indicators}
    later = assessments_visible(user).filter(previous=assessment).first()
    history = assessments_of_household(user=user, household_id=assessment.household_id).filter(
        instrument_version__instrument__code=version.instrument.code
    )
    if assessment.person_id is None:
        history = history.filter(person__isnull=True)
    else:
        history = history.filter(person_id=assessment.person_id)
    return render(
        request,
        "assessment/detail.html",
        {
            "assessment": assessment,
            "version": version,
            "definition": definition,
            "tier": definition.tier(assessment.tier),
            "previous": previous,
            "previous_tier": parsed(previous.instrument_version).tier(previous.tier)
            if previous is not None
            else None,
            "later": later,
            "dimensions": dimensions,
            "needs": [(code, labels.get(code, code)) for code in assessment.needs],
            "history": [(h, parsed(h.instrument_version).tier(h.tier)) for h in history],
            "can_assess": user_has_perm(user, Perm.ASSESS_NEEDS),
            "active_nav": "assessment",
        },
    )


# --- instruments -------------------------------------------------------------------------


@login_required
def instruments_view(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    user = request_user(request)
    rows = []
    for instrument in instruments_visible(user).order_by("code", "region_id"):
        version = latest_version(instrument)
        rows.append((instrument, version, may_edit_instrument(user, instrument)))
    in_use = {i.pk for i in instruments_for_region(user.region_id)} if user.region_id else set()
    return render(
        request,
        "assessment/instruments.html",
        {
            "rows": rows,
            "in_use": in_use,
            "can_manage": user_has_perm(user, Perm.MANAGE_INSTRUMENTS),
            "active_nav": "assessment",
        },
    )


def _changes(old: InstrumentVersion | None, new: InstrumentVersion) -> list[dict[str, Any]]:
    if old is None:
        return []
    return [_change_row(c) for c in diff(parsed(old), parsed(new))]


def _change_row(change: Change) -> dict[str, Any]:
    return {
        "kind": change.kind,
        "entity": ENTITY_LABELS.get(change.entity, change.entity),
        "code": change.code,
        "field": FIELD_LABELS.get(change.field, change.field),
        "old": change.old,
        "new": change.new,
    }


def _copyable(user: Any, instrument: Instrument) -> bool:
    region = (user.region_id or "")[:6]
    return (
        user_has_perm(user, Perm.MANAGE_INSTRUMENTS)
        and len(region) == 6
        and (instrument.region_id is None or len(instrument.region_id) < 6)
        and not Instrument.objects.filter(code=instrument.code, region_id=region).exists()
    )


@login_required
def instrument_view(request: HttpRequest, instrument_id: int) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    user = request_user(request)
    instrument = instrument_get(user=user, instrument_id=instrument_id)
    versions = instrument_versions(instrument)
    if not versions:
        not_found(request)
    number = request.GET.get("version", "")
    shown = next((v for v in versions if str(v.number) == number), versions[0])
    history = []
    for n, version in enumerate(versions):
        older = versions[n + 1] if n + 1 < len(versions) else None
        history.append((version, _changes(older, version)))
    return render(
        request,
        "assessment/instrument.html",
        {
            "instrument": instrument,
            "shown": shown,
            "definition": parsed(shown),
            "history": history,
            "assessments": Assessment.objects.filter(
                instrument_version__instrument=instrument
            ).count(),
            "can_edit": may_edit_instrument(user, instrument),
            "can_copy": _copyable(user, instrument),
            "colour_labels": COLOUR_LABELS,
            "active_nav": "assessment",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def instrument_edit_view(request: HttpRequest, instrument_id: int) -> HttpResponse:
    """The definition as JSON in a text box, with the reason for the change. Every
    problem is listed; nothing is saved until it is all right."""
    need_perm(request, Perm.MANAGE_INSTRUMENTS)
    user = request_user(request)
    instrument = instrument_get(user=user, instrument_id=instrument_id)
    if not may_edit_instrument(user, instrument):
        not_found(request)
    current = latest_version(instrument)
    errors: dict[str, list[str]] = {}
    status = 200
    text = json.dumps(current.definition if current else {}, ensure_ascii=False, indent=2)
    reason = ""
    if request.method == "POST":
        text = request.POST.get("definition", "")
        reason = request.POST.get("reason", "")
        try:
            version = services.instrument_version_create(
                actor=user, instrument=instrument, definition=text, reason=reason
            )
        except (ValidationError, PermissionDenied) as exc:
            errors = _errors(exc)
            status = 422
        else:
            messages.success(request, _("Version %(number)s saved.") % {"number": version.number})
            return redirect("assessment:instrument", instrument.pk)
    return render(
        request,
        "assessment/instrument_edit.html",
        {
            "instrument": instrument,
            "current": current,
            "text": text,
            "reason": reason,
            "errors": errors,
            "colours": COLOURS,
            "active_nav": "assessment",
        },
        status=status,
    )


@login_required
@require_POST
def instrument_copy_view(request: HttpRequest, instrument_id: int) -> HttpResponse:
    need_perm(request, Perm.MANAGE_INSTRUMENTS)
    user = request_user(request)
    instrument = instrument_get(user=user, instrument_id=instrument_id)
    try:
        copy = services.instrument_copy(actor=user, instrument=instrument)
    except (ValidationError, PermissionDenied) as exc:
        for message_list in _errors(exc).values():
            for message in message_list:
                messages.error(request, message)
        return redirect("assessment:instrument", instrument.pk)
    messages.success(request, _("The county now uses its own copy; edit it as needed."))
    return redirect("assessment:instrument", copy.pk)
