from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm


def audit_events_visible_to(user: Any) -> QuerySet[AuditEvent]:
    """Supervisors (and county admins) read the audit log of their area: events about
    data of that area, and logins and tokens of users who belong to it. Failed logins
    for unknown usernames carry no region and are for the platform's operators."""
    if not user_has_perm(user, Perm.VIEW_AUDIT) or not user.region_id:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(region_code__startswith=user.region_id)


def audit_search(
    *,
    user: Any,
    actor: str = "",
    action: str = "",
    object_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    qs = audit_events_visible_to(user)
    if actor:
        qs = qs.filter(actor_username__icontains=actor)
    if action:
        qs = qs.filter(action=action)
    if object_id:
        qs = qs.filter(object_id=object_id)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz))
    return qs


def user_get_by_username(*, username: str) -> User | None:
    return User.objects.filter(username=username).first()
