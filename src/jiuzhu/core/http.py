from __future__ import annotations

import mimetypes
from typing import Any, NoReturn

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.services import audit_record


def not_found(request: HttpRequest) -> NoReturn:
    """What a user gets for something they may not see: the same as for nothing at all."""
    raise Http404("Not found")


def request_user(request: HttpRequest) -> User:
    """The signed-in user of a view behind @login_required or an authenticated API."""
    user = request.user
    if not isinstance(user, User):
        raise Http404("Not found")
    return user


def need_perm(request: HttpRequest, perm: Perm) -> None:
    """A page a role may not use answers like one that does not exist."""
    if not user_has_perm(request.user, perm):
        not_found(request)


def private_file_response(
    request: HttpRequest,
    file: FieldFile,
    *,
    object_type: str,
    object_id: int,
    region_code: str,
    detail: dict[str, Any],
) -> FileResponse:
    """A stored photo of somebody's home, served only through a view that has checked who
    may see it (media is never served as static files), audited, and never cached."""
    if not file:
        not_found(request)
    audit_record(
        actor=request_user(request),
        action=AuditAction.VIEW,
        request=request,
        object_type=object_type,
        object_id=object_id,
        region_code=region_code,
        detail=detail,
    )
    content_type = mimetypes.guess_type(file.name or "")[0] or "application/octet-stream"
    response = FileResponse(file.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response
