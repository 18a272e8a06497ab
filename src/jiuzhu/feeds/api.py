"""/api/v1/feeds/: department clients push files; anyone signed in may read the catalogue."""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime

from django.http import Http404, HttpRequest
from ninja import File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.http import request_user
from jiuzhu.feeds.schema import catalogue
from jiuzhu.feeds.services import MAX_BYTES, FeedImportError, feed_import

router = Router(tags=["feeds"])


class FeedOut(Schema):
    id: str
    version: int
    name_zh: str
    name_en: str
    department_zh: str
    columns: list[str]


class QuarantineOut(Schema):
    row_number: int
    errors: dict[str, str]
    values: dict[str, str]


class BatchOut(Schema):
    id: int
    feed: str
    feed_version: int
    status: str
    message: str
    created_at: datetime.datetime
    rows_total: int
    rows_accepted: int
    rows_quarantined: int
    rows_already_stored: int
    quarantine: list[QuarantineOut]


@router.get("/", response=list[FeedOut])
def feeds(request: HttpRequest) -> list[FeedOut]:
    return [
        FeedOut(
            id=f.id,
            version=f.version,
            name_zh=f.name_zh,
            name_en=f.name_en,
            department_zh=f.department_zh,
            columns=[c.name for c in f.columns],
        )
        for f in catalogue().values()
    ]


@router.post("/{feed_id}/batches", response={201: BatchOut})
def push(request: HttpRequest, feed_id: str, file: File[UploadedFile]):  # type: ignore[no-untyped-def]
    """Upload one file (CSV, XLSX or Parquet) of one feed. The answer lists every
    quarantined row with its reasons; the same file again answers status "duplicate"."""
    user = request_user(request)
    if not user_has_perm(user, Perm.PUSH_FEEDS):
        raise HttpError(403, "只有部门数据接口账号可以推送数据")
    if feed_id not in catalogue():
        raise Http404
    if file.size is not None and file.size > MAX_BYTES:
        raise HttpError(413, "文件超过200MB，请分批推送")
    try:
        batch = feed_import(
            feed_id=feed_id,
            file_name=file.name or "upload",
            actor=user,
            content=file.read(),
            source="api",
        )
    except FeedImportError as exc:
        raise HttpError(422, str(exc)) from exc
    return Status(201, BatchOut.from_orm(batch))
