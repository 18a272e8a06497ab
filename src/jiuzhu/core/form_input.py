"""What plain views share when they read a form and answer a refusal: the messages of a
service's ValidationError or PermissionDenied as a list for the page, and the lenient
parsing of typed dates, numbers and datetime-local fields."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


def error_messages(exc: ValidationError | PermissionDenied, *, denied: str = "") -> list[str]:
    """Every message of the refusal, in order; ``denied`` stands in for a PermissionDenied
    that gave no reason."""
    if isinstance(exc, PermissionDenied):
        return [str(exc) or denied or _("You may not do this.")]
    if hasattr(exc, "error_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return list(exc.messages)


def date_or_none(text: str | None) -> datetime.date | None:
    """A typed ISO date; None for blank or malformed text (filters ignore it)."""
    try:
        return datetime.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def int_or_none(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def local_datetime(text: str | None) -> datetime.datetime | None:
    """A datetime-local field in the installation's time zone; None when blank,
    ValueError for text that is not a date and time (the caller names the field)."""
    text = (text or "").strip()
    if not text:
        return None
    value = datetime.datetime.fromisoformat(text)
    return timezone.make_aware(value) if timezone.is_naive(value) else value
