"""The import history and the quarantine, for the bureau and for the department that sent
the file: every refused row with its reason (ID numbers masked)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.http import not_found
from jiuzhu.feeds.schema import catalogue
from jiuzhu.feeds.selectors import batch_get, batches_visible


def _allowed(request: HttpRequest) -> None:
    if not (
        user_has_perm(request.user, Perm.VIEW_FEEDS) or user_has_perm(request.user, Perm.PUSH_FEEDS)
    ):
        not_found(request)


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    feeds = catalogue()
    qs = batches_visible(request.user)
    feed = request.GET.get("feed", "")
    if feed in feeds:
        qs = qs.filter(feed=feed)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "feeds/batches.html",
        {"page": page, "feeds": feeds, "feed": feed},
    )


@login_required
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    _allowed(request)
    batch = batch_get(request.user, batch_id)
    definition = catalogue().get(batch.feed)
    labels = {c.name: c.label_zh for c in definition.columns} if definition else {}
    rows = Paginator(batch.quarantine.all(), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "feeds/batch.html",
        {"batch": batch, "definition": definition, "labels": labels, "rows": rows},
    )
