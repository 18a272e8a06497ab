"""Uploaded files checked by what they contain, not by their name."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile


def upload_checked(
    upload: UploadedFile,
    *,
    kinds: Mapping[bytes, str],
    max_bytes: int,
    too_large: str,
    wrong_kind: str,
    field: str | None = None,
) -> tuple[str, str]:
    """The file's SHA-256 and the value of ``kinds`` whose magic bytes it starts with;
    a ValidationError (on ``field`` when given) if it is too large or of another kind."""

    def refuse(message: str) -> ValidationError:
        return ValidationError({field: message}) if field else ValidationError(message)

    if upload.size is None or upload.size > max_bytes:
        raise refuse(too_large)
    head = upload.read(8)
    upload.seek(0)
    kind = next((value for magic, value in kinds.items() if head.startswith(magic)), None)
    if kind is None:
        raise refuse(wrong_kind)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest(), kind
