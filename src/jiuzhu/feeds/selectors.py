"""Reads of the import history. Department feed clients see the batches they sent."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.feeds.models import FeedBatch


def batches_visible(user: Any) -> QuerySet[FeedBatch]:
    if user_has_perm(user, Perm.VIEW_FEEDS):
        return FeedBatch.objects.select_related("imported_by")
    if user_has_perm(user, Perm.PUSH_FEEDS):
        return FeedBatch.objects.filter(imported_by=user)
    return FeedBatch.objects.none()


def batch_get(user: Any, batch_id: int) -> FeedBatch:
    batch = batches_visible(user).filter(pk=batch_id).first()
    if batch is None:
        raise Http404("Not found")
    return batch
