"""Pages of policy matching: the outreach list and the actions on one match.

The actions are posted from the outreach list and from the household file's "may qualify
for" panel; they go back where they came from (``next``), with the service's message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.http import request_user
from jiuzhu.policies.match_selectors import (
    MatchFilter,
    latest_run,
    match_get,
    matches_filtered,
)
from jiuzhu.policies.models import Policy, PolicyMatch
from jiuzhu.policies.services.matching import (
    outreach_export,
    policy_match_apply,
    policy_match_contact,
    policy_match_dismiss,
)


def _need(request: HttpRequest, perm: Perm) -> None:
    if not user_has_perm(request.user, perm):
        raise PermissionDenied(_("Your role may not do this."))


@login_required
def outreach_view(request: HttpRequest) -> HttpResponse:
    _need(request, Perm.VIEW_PERSONAL_DATA)
    wanted = MatchFilter(
        status=request.GET.get("status", "open"),
        kind=request.GET.get("kind", ""),
        policy=request.GET.get("policy", ""),
        region=request.GET.get("region", "").strip(),
        mine=request.GET.get("mine") == "1",
    )
    rows = matches_filtered(request.user, wanted)
    if request.GET.get("export") == "xlsx":
        _need(request, Perm.EXPORT)
        content = outreach_export(actor=request_user(request), rows=rows.iterator())
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = 'attachment; filename="outreach.xlsx"'
        return response
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "policies/matches/outreach.html",
        {
            "page": page,
            "wanted": wanted,
            "query": query.urlencode(),
            "policies": Policy.objects.exclude(rule_sql="")
            .order_by("name")
            .values("code", "name")
            .distinct(),
            "kinds": PolicyMatch.Kind.choices,
            "statuses": PolicyMatch.Status.choices,
            "run": latest_run(),
            "can_export": user_has_perm(request.user, Perm.EXPORT),
            "can_act": user_has_perm(request.user, Perm.ENTER_APPLICATIONS),
            "active_nav": "policies",
        },
    )


def _back(request: HttpRequest, match_row: PolicyMatch) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or reverse("registry:file", args=[match_row.household_id]))


def _refusal(request: HttpRequest, exc: ValidationError) -> None:
    for text in exc.messages:
        messages.error(request, text)


@login_required
@require_POST
def match_contact_view(request: HttpRequest, match_id: int) -> HttpResponse:
    match_row = match_get(user=request.user, match_id=match_id)
    try:
        policy_match_contact(
            actor=request_user(request), match_row=match_row, note=request.POST.get("note", "")
        )
        messages.success(request, _("Contact recorded."))
    except ValidationError as exc:
        _refusal(request, exc)
    return _back(request, match_row)


@login_required
@require_POST
def match_dismiss_view(request: HttpRequest, match_id: int) -> HttpResponse:
    match_row = match_get(user=request.user, match_id=match_id)
    try:
        policy_match_dismiss(
            actor=request_user(request), match_row=match_row, reason=request.POST.get("note", "")
        )
        messages.success(request, _("Set aside; later passes will not put it back."))
    except ValidationError as exc:
        _refusal(request, exc)
    return _back(request, match_row)


@login_required
@require_POST
def match_apply_view(request: HttpRequest, match_id: int) -> HttpResponse:
    match_row = match_get(user=request.user, match_id=match_id)
    applicant = request.POST.get("applicant", "")
    if not applicant.isdigit():
        messages.error(request, _("Choose a member of the household."))
        return _back(request, match_row)
    try:
        application = policy_match_apply(
            actor=request_user(request), match_row=match_row, applicant_id=int(applicant)
        )
    except ValidationError as exc:
        _refusal(request, exc)
        return _back(request, match_row)
    messages.success(request, _("Application started from the policy match."))
    return redirect("applications:detail", application.pk)
