"""Staff pages of the policy library (政策库): the list with filters, one policy with its
rule and history, create and edit (a county admin, their county's policies), activate and
retire. Plain views: a refused save re-renders the form with the service's messages on
their fields, status 422, and everything typed kept."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.applications.models import AssistanceKind
from jiuzhu.applications.selectors import kinds_available
from jiuzhu.core.http import need_perm, not_found, request_user
from jiuzhu.policies.forms import PolicyForm
from jiuzhu.policies.guide import phone_numbers, tag_labels
from jiuzhu.policies.models import Policy, Theme
from jiuzhu.policies.selectors import (
    departments,
    may_edit,
    policies_visible,
    policy_get,
    policy_history,
    user_county,
)
from jiuzhu.policies.services.library import policy_create, policy_set_active, policy_update


@login_required
def library_view(request: HttpRequest) -> HttpResponse:
    """The library: the county's own policies and the national ones, filtered."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    visible = policies_visible(request.user)
    queryset = visible
    theme = request.GET.get("theme", "")
    if theme in Theme.values:
        queryset = queryset.filter(theme=theme)
    department = request.GET.get("department", "").strip()[:60]
    if department:
        queryset = queryset.filter(department=department)
    text = request.GET.get("q", "").strip()[:60]
    if text:
        queryset = queryset.filter(
            Q(name__icontains=text)
            | Q(summary__icontains=text)
            | Q(conditions_text__icontains=text)
            | Q(department__icontains=text)
            | Q(code__icontains=text)
        )
    has_rule = request.GET.get("rule", "")
    if has_rule == "yes":
        queryset = queryset.exclude(rule_sql="")
    elif has_rule == "no":
        queryset = queryset.filter(rule_sql="")
    active = request.GET.get("active", "yes")
    if active == "yes":
        queryset = queryset.filter(is_active=True)
    elif active == "no":
        queryset = queryset.filter(is_active=False)
    page = Paginator(queryset.order_by("theme", "name", "pk"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "policies/library.html",
        {
            "page": page,
            "themes": Theme.choices,
            "departments": departments(visible),
            "active": active,
            "can_edit": may_edit(request.user),
            "county": user_county(request.user),
            "active_nav": "policies",
        },
    )


@login_required
def detail_view(request: HttpRequest, policy_id: int) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    policy = policy_get(user=request.user, policy_id=policy_id)
    kind = (
        AssistanceKind.objects.filter(code=policy.assistance_kind).first()
        if policy.assistance_kind
        else None
    )
    return render(
        request,
        "policies/detail.html",
        {
            "policy": policy,
            "phones": phone_numbers(policy.phone) or [],
            "tags": tag_labels(policy.guide_tags),
            "history": policy_history(policy),
            "kind": kind,
            "can_edit": may_edit(request.user, policy),
            "active_nav": "policies",
        },
    )


def _editable(request: HttpRequest, policy_id: int) -> Policy:
    need_perm(request, Perm.MANAGE_POLICIES)
    policy = policy_get(user=request.user, policy_id=policy_id)
    if not may_edit(request.user, policy):
        raise PermissionDenied(_("National policies are read-only here."))
    return policy


@login_required
@require_http_methods(["GET", "POST"])
def new_view(request: HttpRequest) -> HttpResponse:
    """A new policy of the admin's county."""
    need_perm(request, Perm.MANAGE_POLICIES)
    county = user_county(request.user)
    if county is None or not may_edit(request.user):
        not_found(request)
    kinds = list(kinds_available(county))
    if request.method == "POST":
        form = PolicyForm(request.POST, kinds=kinds, creating=True)
        if form.is_valid():
            try:
                policy = policy_create(
                    actor=request_user(request),
                    region_code=county,
                    code=form.cleaned_data["code"],
                    fields=form.policy_fields(),
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, _("The policy is in the library."))
                return redirect("policies:detail", policy.pk)
            except ValidationError as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
    else:
        form = PolicyForm(initial={"is_public": True}, kinds=kinds, creating=True)
    return _form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def edit_view(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _editable(request, policy_id)
    kinds = list(kinds_available(policy.region_id or ""))
    if request.method == "POST":
        form = PolicyForm(request.POST, kinds=kinds, creating=False)
        if form.is_valid():
            try:
                before = policy.revision
                policy = policy_update(
                    actor=request_user(request),
                    policy=policy,
                    fields=form.policy_fields(),
                    reason=form.cleaned_data["reason"],
                )
                if policy.revision == before:
                    messages.info(request, _("Nothing was changed."))
                else:
                    messages.success(
                        request,
                        _("Saved as revision %(number)s.") % {"number": policy.revision},
                    )
                return redirect("policies:detail", policy.pk)
            except ValidationError as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
    else:
        form = PolicyForm(initial=PolicyForm.initial_of(policy), kinds=kinds, creating=False)
    return _form_page(request, form, policy)


def _form_page(request: HttpRequest, form: PolicyForm, policy: Policy | None) -> HttpResponse:
    return render(
        request,
        "policies/edit.html",
        {"form": form, "policy": policy, "active_nav": "policies"},
        status=422 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def active_view(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Retire a policy or bring it back."""
    policy = _editable(request, policy_id)
    active = request.POST.get("active") == "1"
    policy = policy_set_active(
        actor=request_user(request),
        policy=policy,
        active=active,
        reason=request.POST.get("reason", "")[:200],
    )
    messages.success(
        request,
        _("The policy is active again.") if policy.is_active else _("The policy is retired."),
    )
    return redirect("policies:detail", policy.pk)
