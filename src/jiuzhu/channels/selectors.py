"""Channels' reads: who is told, the inbox, call tickets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import F, QuerySet

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import ROLE_PERMS, Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.channels import choices as c
from jiuzhu.channels.models import CallTicket, Notification
from jiuzhu.regions.selectors import region_prefixes

# Those told about calls and overdue needs: staff who manage needs or dispatch.
STAFF_PERMS = (Perm.MANAGE_NEEDS, Perm.DISPATCH)


def _roles_with(perms: Iterable[Perm]) -> list[str]:
    wanted = set(perms)
    return sorted(str(role) for role, granted in ROLE_PERMS.items() if granted & wanted)


def staff_covering(region_code: str, perms: Iterable[Perm] = STAFF_PERMS) -> QuerySet[User]:
    """Active users with one of ``perms`` whose area covers ``region_code`` (the region
    itself and every region above it)."""
    return User.objects.filter(
        is_active=True, role__in=_roles_with(perms), region_id__in=region_prefixes(region_code)
    ).order_by("id")


def staff_at(region_code: str, perms: Iterable[Perm] = STAFF_PERMS) -> QuerySet[User]:
    """Active users with one of ``perms`` whose area is exactly ``region_code``."""
    return User.objects.filter(
        is_active=True, role__in=_roles_with(perms), region_id=region_code
    ).order_by("id")


# --- the inbox -----------------------------------------------------------------------------


def inbox(user: Any) -> QuerySet[Notification]:
    """The user's in-app notifications: unread first, then newest."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(user=user, channel=c.NotificationChannel.IN_APP).order_by(
        F("read_at").desc(nulls_first=True), "-created_at", "-id"
    )


def unread_count(user: Any) -> int:
    """For the navigation: how many in-app notifications the user has not read."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(
        user=user, channel=c.NotificationChannel.IN_APP, read_at__isnull=True
    ).count()


# --- call tickets --------------------------------------------------------------------------


def tickets_visible(user: Any) -> QuerySet[CallTicket]:
    """Tickets of the user's county (see CallTicket.scope_q); nothing without
    MANAGE_NEEDS and VIEW_PERSONAL_DATA."""
    if not (
        user_has_perm(user, Perm.MANAGE_NEEDS) and user_has_perm(user, Perm.VIEW_PERSONAL_DATA)
    ):
        return CallTicket.objects.none()
    condition = CallTicket.scope_q(user)
    if condition is None:
        return CallTicket.objects.none()
    return CallTicket.objects.filter(condition).select_related(
        "event", "county", "household", "household__region", "need"
    )


def tickets_list(user: Any, *, status: str = c.TicketStatus.OPEN) -> QuerySet[CallTicket]:
    tickets = tickets_visible(user)
    if status in c.TicketStatus.values:
        tickets = tickets.filter(status=status)
    return tickets.order_by("-created_at", "-id")


def ticket_get(user: Any, ticket_id: int) -> CallTicket | None:
    return tickets_visible(user).filter(pk=ticket_id).first()


def ticket_repeats(ticket: CallTicket) -> int:
    """How many more times the caller pressed within the de-duplication window."""
    return ticket.event.repeats.count()
