"""Roster (台账) import pages. Placeholder until the importer lands (issue #2 part 8)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.http import not_found


@login_required
def roster_import(request: HttpRequest) -> HttpResponse:
    if not user_has_perm(request.user, Perm.IMPORT_ROSTER):
        not_found(request)
    return HttpResponse(status=501)


@login_required
def roster_template(request: HttpRequest) -> HttpResponse:
    if not user_has_perm(request.user, Perm.IMPORT_ROSTER):
        not_found(request)
    return HttpResponse(status=501)
