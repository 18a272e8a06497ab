from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from jiuzhu.accounts.roles import Perm, Role
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.registry.selectors import registry_overview


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """One home page, with a block per role: what this person does here first."""
    user = request.user
    context = {
        "role": getattr(user, "role", ""),
        "Role": Role,
        "active_nav": "home",
        "can_see_people": user_has_perm(user, Perm.VIEW_PERSONAL_DATA),
    }
    if context["can_see_people"]:
        context["overview"] = registry_overview(user=user)
    return render(request, "core/home.html", context)


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
