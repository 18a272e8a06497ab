from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.http import not_found, request_user
from jiuzhu.registry.choices import Category
from jiuzhu.registry.selectors import (
    HouseholdSearch,
    InvalidSearch,
    household_file_get,
    household_search,
    person_get_scoped,
)
from jiuzhu.registry.services import (
    household_file_viewed,
    household_search_audited,
    person_reveal,
)


@login_required
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """GET searches by name, number, region and category. An ID number comes only by POST,
    so that it never lands in a URL, the browser history or a proxy's access log; such
    searches are audited."""
    if not user_has_perm(request.user, Perm.VIEW_PERSONAL_DATA):
        not_found(request)
    if request.method == "POST":
        query = HouseholdSearch(id_number=request.POST.get("id_number", "").strip()[:20])
    else:
        query = HouseholdSearch(
            text=request.GET.get("q", "").strip()[:50],
            region_code=request.GET.get("region", "").strip()[:12],
            category=request.GET.get("category", ""),
        )
    error, page, truncated = "", None, False
    try:
        result = household_search(user=request.user, query=query)
        page = Paginator(result.households, 25).get_page(request.GET.get("page"))
        truncated = result.truncated
    except InvalidSearch as exc:
        error = str(exc)
    if query.id_number and not error:
        household_search_audited(
            actor=request_user(request),
            query=query,
            found=page.paginator.count if page else 0,
            request=request,
        )
    template = (
        "registry/_results.html"
        if request.headers.get("HX-Request") == "true"
        else "registry/search.html"
    )
    return render(
        request,
        template,
        {
            "page": page,
            "query": query,
            "error": error,
            "truncated": truncated,
            "categories": Category.choices,
            "active_nav": "registry",
        },
    )


@login_required
def household_file(request: HttpRequest, household_id: int) -> HttpResponse:
    file = household_file_get(user=request.user, household_id=household_id)
    household_file_viewed(
        actor=request_user(request),
        household=file.household,
        request=request,
    )
    return render(
        request,
        "registry/household_file.html",
        {
            "file": file,
            "household": file.household,
            "active_nav": "registry",
            "can_unmask": user_has_perm(request.user, Perm.UNMASK),
            "can_apply": user_has_perm(request.user, Perm.ENTER_APPLICATIONS),
        },
    )


@login_required
@require_POST
def person_reveal_view(request: HttpRequest, person_id: int, field: str) -> HttpResponse:
    """htmx: swap a masked number for the full one. Audited by the service."""
    if field not in ("id_number", "phone"):
        not_found(request)
    person = person_get_scoped(user=request.user, person_id=person_id)
    # In scope but without the permission: 403 from PermissionDenied.
    value = person_reveal(
        actor=request_user(request),
        person=person,
        field=field,
        request=request,
    )
    return render(request, "registry/_revealed.html", {"value": value})
