from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.selectors import audit_search, user_get_by_username
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.http import not_found


class LoginView(auth_views.LoginView):
    """Django's login, plus an audit row for every success and failure. Lockout after
    repeated failures is django-axes' job (settings.AXES_*)."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user: User = form.get_user()
        audit_record(
            actor=user,
            action=AuditAction.LOGIN,
            request=self.request,
            region_code=user.region_id or "",
        )
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        username = (form.data.get("username") or "")[:150]
        known = user_get_by_username(username=username)
        audit_record(
            actor=known,
            actor_username=username,
            action=AuditAction.LOGIN_FAILED,
            request=self.request,
            region_code=(known.region_id or "") if known else "",
        )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            user: User = request.user
            audit_record(
                actor=user,
                action=AuditAction.LOGOUT,
                request=request,
                region_code=user.region_id or "",
            )
        return super().post(request, *args, **kwargs)


def _parse_date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not user_has_perm(request.user, Perm.VIEW_AUDIT):
        return not_found(request)
    params = request.GET
    events = audit_search(
        user=request.user,
        actor=params.get("actor", "").strip(),
        action=params.get("action", ""),
        object_id=params.get("object_id", "").strip(),
        date_from=_parse_date(params.get("from")),
        date_to=_parse_date(params.get("to")),
    )
    page = Paginator(events, 50).get_page(params.get("page"))
    return render(
        request,
        "accounts/audit.html",
        {
            "page": page,
            "actions": AuditAction.choices,
            "params": params,
            "active_nav": "audit",
        },
    )
