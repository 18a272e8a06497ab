"""What every stage of the applications services shares."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import region_in_scope, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.applications.models import Application, UrgentRelief
from jiuzhu.registry.timeline import timeline_add


def require_perm(actor: User | None, perm: Perm, region_code: str) -> None:
    if actor is None or not user_has_perm(actor, perm) or not region_in_scope(actor, region_code):
        raise PermissionDenied(_("You may not do this for this household."))


def audit_application(
    actor: User | None, application: Application, action: str, **detail: Any
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="applications.application",
        object_id=application.pk,
        region_code=application.region_id,
        detail=detail,
    )


def application_timeline(
    application: Application, kind: str, summary: str, actor: User | None
) -> None:
    """One entry on the household's timeline about this application."""
    timeline_add(
        household_id=application.household_id,
        kind=kind,
        summary=summary,
        object_type="applications.application",
        object_id=application.pk,
        actor=actor,
    )


def urgent_relief_complete(*, application: Application) -> UrgentRelief | None:
    """Close the 先行救助 follow-up task once the complete file is handed in."""
    relief = UrgentRelief.objects.filter(application=application, completed_at=None).first()
    if relief is None:
        return None
    relief.completed_at = timezone.now()
    relief.save(update_fields=["completed_at"])
    audit_application(None, application, AuditAction.UPDATE, urgent_relief="file completed")
    application_timeline(
        application,
        "applications.urgent_completed",
        _("先行救助 file completed for %(number)s") % {"number": application.number},
        None,
    )
    return relief
