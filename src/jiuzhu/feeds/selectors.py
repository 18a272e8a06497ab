"""Reads of the import history. Department feed clients see the batches they sent."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import duckdb
from django.db.models import QuerySet
from django.http import Http404

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.feeds.models import FeedBatch
from jiuzhu.feeds.schema import catalogue
from jiuzhu.feeds.storage import arrow_schema, feed_directory


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


def records_of_persons(
    feed_id: str, person_ids: Sequence[int], *, since: datetime.date | None = None
) -> list[dict[str, Any]]:
    """The stored records of these persons in one feed (optionally from ``since`` on the
    feed's event date), oldest first — for a household's economic check. Persons by the
    registry id the importer stored (ADR 13); the blind index is not returned."""
    feed = catalogue()[feed_id]
    files = sorted(str(p) for p in feed_directory(feed).glob("period=*/batch-*.parquet"))
    if not files or not person_ids:
        return []
    event = feed.event_date_column
    columns = [c for c in arrow_schema(feed).names if c not in ("person_index", "key_hash")]
    where = "person_id IN (SELECT unnest($persons::BIGINT[]))"
    params: dict[str, Any] = {"files": files, "persons": [int(p) for p in person_ids]}
    if since is not None:
        where += f" AND {event} >= $since"
        params["since"] = since
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        # hive_partitioning off: the folders are period=…, and a feed may have a column
        # of that name.
        sql = (
            f"SELECT {', '.join(columns)} FROM read_parquet($files, union_by_name = true, "  # noqa: S608
            f"hive_partitioning = false) WHERE {where} ORDER BY {event}, batch_id"
        )
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
