"""Roster (台账) import pages: upload and result, the template, the error report.

The service is :mod:`jiuzhu.registry.roster`; these views only move bytes in and out.
The error report holds the rows the user just uploaded (names, ID numbers), so it is
kept encrypted in the cache for an hour, under a random token bound to the user, and
its download is audited like any export.
"""

from __future__ import annotations

import base64
import io
import re
import secrets
from pathlib import PurePath
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from jiuzhu.accounts.models import AuditAction
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.crypto import DecryptionError, field_cipher
from jiuzhu.core.http import not_found
from jiuzhu.registry import roster as service
from jiuzhu.registry.roster import RosterResult

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_FILE_NAME = "救助台账导入模板.xlsx"
REPORT_TTL_SECONDS = 60 * 60
REPORT_COLUMN = "registry.roster.error_report"
ERRORS_SHOWN = 200
MSG_NO_FILE = "请选择要导入的文件。"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _require_perm(request: HttpRequest) -> None:
    if not user_has_perm(request.user, Perm.IMPORT_ROSTER):
        not_found(request)


def _report_key(user_pk: Any, token: str) -> str:
    return f"jiuzhu:roster-report:{user_pk}:{token}"


def _report_store(request: HttpRequest, result: RosterResult) -> str:
    data = service.roster_error_report_xlsx(result=result)
    token = secrets.token_urlsafe(18)
    sealed = field_cipher().encrypt(base64.b64encode(data).decode(), column=REPORT_COLUMN)
    cache.set(
        _report_key(request.user.pk, token),
        {"file_name": result.file_name, "data": sealed},
        REPORT_TTL_SECONDS,
    )
    return token


@login_required
@require_http_methods(["GET", "POST"])
def roster_import(request: HttpRequest) -> HttpResponse:
    _require_perm(request)
    context: dict[str, Any] = {
        "active_nav": "roster",
        "columns": service.TEMPLATE_COLUMNS,
        "max_mb": service.MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        problem = (
            MSG_NO_FILE
            if upload is None
            else service.upload_problem(file_name=upload.name or "", size=upload.size or 0)
        )
        if problem or upload is None:
            context["upload_error"] = problem
            status = 400
        else:
            file_name = PurePath(upload.name or "").name[:200]
            result = service.roster_import(
                actor=request.user,  # type: ignore[arg-type]
                file_name=file_name,
                content=upload.read(),
                dry_run="check" in request.POST,
            )
            context["result"] = result
            context["errors_shown"] = result.errors[:ERRORS_SHOWN]
            context["errors_by_column"] = service.error_counts_by_column(result.errors)
            if result.errors and result.table is not None:
                context["report_token"] = _report_store(request, result)
    return render(request, "registry/roster_import.html", context, status=status)


@login_required
@require_GET
def roster_template(request: HttpRequest) -> FileResponse:
    _require_perm(request)
    return FileResponse(
        io.BytesIO(service.roster_template_xlsx()),
        as_attachment=True,
        filename=TEMPLATE_FILE_NAME,
        content_type=XLSX,
    )


@login_required
@require_GET
def roster_error_report(request: HttpRequest, token: str) -> FileResponse:
    """The uploaded file with an error column; only for the user who uploaded it."""
    _require_perm(request)
    if not TOKEN_PATTERN.fullmatch(token):
        not_found(request)
    stored = cache.get(_report_key(request.user.pk, token))
    if not stored:
        not_found(request)
    try:
        data = base64.b64decode(field_cipher().decrypt(stored["data"], column=REPORT_COLUMN))
    except (DecryptionError, ValueError, KeyError):
        not_found(request)
    audit_record(
        actor=request.user,  # type: ignore[arg-type]
        action=AuditAction.EXPORT,
        request=request,
        object_type="registry.roster",
        region_code=getattr(request.user, "region_id", None) or "",
        detail={"export": "roster_error_report", "file_name": stored["file_name"]},
    )
    stem = PurePath(stored["file_name"]).stem or "roster"
    return FileResponse(
        io.BytesIO(data), as_attachment=True, filename=f"{stem}-错误报告.xlsx", content_type=XLSX
    )
