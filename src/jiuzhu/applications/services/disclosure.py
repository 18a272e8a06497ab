"""Public disclosure (公示): publish, objections, automatic take-down, confirmation."""

from __future__ import annotations

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.applications.disclosure import benefit_start
from jiuzhu.applications.models import Application, Decision, Disclosure, Objection
from jiuzhu.applications.services.common import (
    application_timeline,
    audit_application,
    require_perm,
)
from jiuzhu.applications.services.payments import application_confirm

# No 0/O/1/I/L: references are read aloud on the phone and typed from a notice board.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _reference() -> str:
    return "GS" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


@transaction.atomic
def disclosure_publish(
    *, actor: User, application: Application, starts_on: datetime.date | None = None
) -> Disclosure:
    """Put a decided application with approved kinds on public display for the longest
    disclosure period of those kinds."""
    require_perm(actor, Perm.DECIDE_APPLICATIONS, application.region_id)
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status != Application.Status.DECIDED:
        raise ValidationError(_("Only a decided application can be put on disclosure."))
    approved = Decision.objects.filter(
        application=application,
        outcome=Decision.Outcome.APPROVED,
        status=Decision.Status.FINAL,
    ).select_related("requested__kind")
    days = max((d.requested.kind.disclosure_days for d in approved), default=0)
    if days == 0:
        raise ValidationError(_("Nothing approved here is disclosed."))
    starts_on = starts_on or timezone.localdate()
    disclosure = Disclosure.objects.create(
        application=application,
        region_id=application.region_id,
        starts_on=starts_on,
        ends_on=starts_on + datetime.timedelta(days=days - 1),
        published_by=actor,
        reference=_reference(),
    )
    application.status = Application.Status.DISCLOSED
    application.save(update_fields=["status"])
    audit_application(
        actor,
        application,
        AuditAction.CREATE,
        disclosure=disclosure.reference,
        starts_on=str(disclosure.starts_on),
        ends_on=str(disclosure.ends_on),
    )
    application_timeline(
        application,
        "applications.disclosed",
        _("On public disclosure %(start)s – %(end)s (%(reference)s)")
        % {
            "start": disclosure.starts_on.isoformat(),
            "end": disclosure.ends_on.isoformat(),
            "reference": disclosure.reference,
        },
        actor,
    )
    return disclosure


@transaction.atomic
def objection_record(
    *,
    actor: User,
    disclosure: Disclosure,
    content: str,
    channel: str,
    received_at: datetime.datetime | None = None,
) -> Objection:
    """An objection received by phone, letter or in person during the disclosure."""
    require_perm(actor, Perm.ENTER_APPLICATIONS, disclosure.region_id)
    if disclosure.status != Disclosure.Status.RUNNING:
        raise ValidationError(_("This disclosure is not on display."))
    if not content.strip() or not channel.strip():
        raise ValidationError(_("Record what the objection says and how it came in."))
    objection = Objection.objects.create(
        disclosure=disclosure,
        received_at=received_at or timezone.now(),
        channel=channel.strip()[:40],
        content=content.strip(),
        recorded_by=actor,
    )
    audit_application(actor, disclosure.application, AuditAction.CREATE, objection=objection.pk)
    application_timeline(
        disclosure.application,
        "applications.objection",
        _("Objection received during disclosure"),
        actor,
    )
    return objection


@transaction.atomic
def objection_resolve(
    *, actor: User, objection: Objection, resolution: str, notes: str
) -> Objection:
    """Resolve an objection. Upheld: the disclosure is withdrawn, the approvals revoked and
    the case goes back to be decided again. Dismissed: the case goes on; if the period
    has ended and nothing else is open, it is confirmed."""
    objection = (
        Objection.objects.select_for_update().select_related("disclosure").get(pk=objection.pk)
    )
    disclosure = objection.disclosure
    application = disclosure.application
    require_perm(actor, Perm.DECIDE_APPLICATIONS, application.region_id)
    if objection.resolution:
        raise ValidationError(_("This objection has been resolved already."))
    if resolution not in Objection.Resolution.values or not notes.strip():
        raise ValidationError(_("Choose upheld or dismissed and say why."))
    objection.resolution = resolution
    objection.resolution_notes = notes.strip()
    objection.resolved_by = actor
    objection.resolved_at = timezone.now()
    objection.save(update_fields=["resolution", "resolution_notes", "resolved_by", "resolved_at"])
    audit_application(
        actor, application, AuditAction.UPDATE, objection=objection.pk, resolution=resolution
    )
    if resolution == Objection.Resolution.UPHELD:
        disclosure.status = Disclosure.Status.WITHDRAWN
        disclosure.taken_down_at = timezone.now()
        disclosure.save(update_fields=["status", "taken_down_at"])
        Decision.objects.filter(
            application=application,
            outcome=Decision.Outcome.APPROVED,
            status=Decision.Status.FINAL,
        ).update(status=Decision.Status.REVOKED)
        Application.objects.filter(pk=application.pk).update(
            status=Application.Status.SUBMITTED, decided_at=None
        )
        application_timeline(
            application,
            "applications.objection_upheld",
            _("Objection upheld: disclosure withdrawn, the case is decided again"),
            actor,
        )
    else:
        application_timeline(
            application, "applications.objection_dismissed", _("Objection dismissed"), actor
        )
        if disclosure.status == Disclosure.Status.ENDED:
            _confirm(application, actor)
    return objection


def _confirm(application: Application, actor: User | None) -> None:
    """The disclosure ended with no open objection: the case is confirmed and enrolled
    from the first day of the month after the period."""
    disclosure = application.disclosures.filter(status=Disclosure.Status.ENDED).first()
    assert disclosure is not None
    application_confirm(
        application=application,
        actor=actor,
        from_status=Application.Status.DISCLOSED,
        benefit_start=benefit_start(disclosure),
    )


def disclosures_end_due(*, today: datetime.date | None = None) -> dict[str, int]:
    """Take down every disclosure whose period has ended (each claimed by a conditional
    UPDATE) and confirm the cases with no open objection."""
    today = today or timezone.localdate()
    ended = confirmed = 0
    for disclosure in Disclosure.objects.filter(
        status=Disclosure.Status.RUNNING, ends_on__lt=today
    ).select_related("application"):
        now = timezone.now()
        if not Disclosure.objects.filter(pk=disclosure.pk, status=Disclosure.Status.RUNNING).update(
            status=Disclosure.Status.ENDED, taken_down_at=now
        ):
            continue
        ended += 1
        application = disclosure.application
        audit_application(
            None, application, AuditAction.UPDATE, disclosure=disclosure.reference, taken_down=True
        )
        application_timeline(
            application,
            "applications.disclosure_ended",
            _("Disclosure period ended; taken down"),
            None,
        )
        if not disclosure.objections.filter(resolution="").exists():
            _confirm(application, None)
            confirmed += 1
    return {"taken_down": ended, "confirmed": confirmed}
