"""Complaints about a provider's service (supervision phone 监督电话, a revisit, a visit,
online), and their decision.

Who: people who do revisits (``REVISIT``: county administrators, town officers, village
assistants) take complaints and decide them, for their own area. Deciding a complaint is
a town-level finding of fact ("was the complaint true?"); what it means for the provider
is decided later, on its scorecard, by the county (``DECIDE_LIGHTS``). An upheld
complaint counts in the provider's complaint rate (status ``upheld``, ``received_at``).

The complaint's region is its order's, else its household's; a complaint about a
provider in general (no order, no household) takes the provider's region when that is in
the taker's area, else the taker's own region, so the one who took it can follow it up.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import scoped, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.channels.notifications import notify
from jiuzhu.channels.selectors import staff_at
from jiuzhu.channels.services import link_to
from jiuzhu.registry.models import Household
from jiuzhu.registry.timeline import timeline_add
from jiuzhu.services.models import Provider, ServiceOrder
from jiuzhu.supervision import choices as c
from jiuzhu.supervision.models import Complaint, Revisit
from jiuzhu.supervision.services.revisits import COUNTY_CODE_LENGTH, COUNTY_PERMS, revisit_add

TEXT_MAX = 2000


def _covers(actor: User | None, region_code: str) -> bool:
    return actor is None or bool(actor.region_id and region_code.startswith(actor.region_id))


def _require_revisit(actor: User | None) -> None:
    if actor is not None and not user_has_perm(actor, Perm.REVISIT):
        raise PermissionDenied(_("You may not take complaints."))


@transaction.atomic
def complaint_record(
    *,
    actor: User | None,
    provider: Provider,
    text: str,
    channel: str,
    order: ServiceOrder | None = None,
    household: Household | None = None,
    received_at: datetime.datetime | None = None,
    revisit: Revisit | None = None,
) -> Complaint:
    """Record a complaint about ``provider`` (see the module for its region)."""
    _require_revisit(actor)
    errors: dict[str, str] = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = _("Write down what the complaint says.")
    elif len(text) > TEXT_MAX:
        errors["text"] = _("At most %(n)s characters.") % {"n": TEXT_MAX}
    if channel not in c.ComplaintChannel.values:
        errors["channel"] = _("Choose how the complaint came in.")
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + datetime.timedelta(minutes=5):
        errors["received_at"] = _("A complaint cannot be received in the future.")
    if revisit is not None and order is None:
        order = revisit.order
    if revisit is not None and revisit.order_id != order.pk:  # type: ignore[union-attr]
        errors["revisit"] = _("The revisit is of another order.")
    if order is not None:
        if household is not None and household.pk != order.household_id:
            errors["household"] = _("The order is of another household.")
        household = order.household
        if order.provider_id != provider.pk:
            errors["provider"] = _("The order was served by another provider.")
    if errors:
        raise ValidationError(errors)
    if order is not None:
        region_code = order.region_id
    elif household is not None:
        region_code = household.region_id
    elif _covers(actor, provider.region_id):
        region_code = provider.region_id
    else:
        assert actor is not None
        region_code = actor.region_id or provider.region_id
    if actor is not None:
        in_scope = (
            scoped(actor, ServiceOrder.objects.filter(pk=order.pk)).exists()
            if order is not None
            else scoped(actor, Household.objects.filter(pk=household.pk)).exists()
            if household is not None
            else _covers(actor, region_code)
        )
        if not in_scope:
            raise PermissionDenied(_("This is outside your area."))
    complaint = Complaint.objects.create(
        provider=provider,
        order=order,
        household=household,
        region_id=region_code,
        channel=channel,
        revisit=revisit,
        text=text,
        received_at=received_at,
        received_by=actor,
    )
    if household is not None:
        timeline_add(
            household_id=household.pk,
            kind="supervision.complaint_received",
            summary=_("Complaint about %(provider)s received") % {"provider": provider.name},
            occurred_at=received_at,
            detail={"channel": channel, "order": order.pk if order else None},
            object_type="supervision.complaint",
            object_id=complaint.pk,
            actor=actor,
        )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="supervision.complaint",
        object_id=complaint.pk,
        region_code=region_code,
        detail={"provider": provider.pk, "channel": channel, "order": order.pk if order else None},
    )
    return complaint


def complaint_in_scope(actor: User | None, complaint: Complaint) -> bool:
    return actor is None or scoped(actor, Complaint.objects.filter(pk=complaint.pk)).exists()


@transaction.atomic
def complaint_decide(
    *, actor: User | None, complaint: Complaint, upheld: bool, finding: str
) -> Complaint:
    """Uphold or dismiss an open complaint, with the finding (what was checked and what
    it showed). An upheld complaint counts against the provider and tells the county."""
    _require_revisit(actor)
    if not complaint_in_scope(actor, complaint):
        raise PermissionDenied(_("This is outside your area."))
    complaint = (
        Complaint.objects.select_for_update().select_related("provider").get(pk=complaint.pk)
    )
    if complaint.status != c.ComplaintStatus.OPEN:
        raise ValidationError({"status": _("This complaint is already decided.")})
    finding = (finding or "").strip()
    if not finding:
        raise ValidationError({"finding": _("Write down what was found.")})
    complaint.status = c.ComplaintStatus.UPHELD if upheld else c.ComplaintStatus.DISMISSED
    complaint.finding = finding
    complaint.handled_at = timezone.now()
    complaint.handled_by = actor
    complaint.save(update_fields=["status", "finding", "handled_at", "handled_by"])
    if complaint.household_id is not None:
        timeline_add(
            household_id=complaint.household_id,
            kind="supervision.complaint_decided",
            summary=(
                _("Complaint about %(provider)s upheld")
                if upheld
                else _("Complaint about %(provider)s dismissed")
            )
            % {"provider": complaint.provider.name},
            occurred_at=complaint.handled_at,
            detail={"upheld": upheld},
            object_type="supervision.complaint",
            object_id=complaint.pk,
            actor=actor,
        )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="supervision.complaint",
        object_id=complaint.pk,
        region_code=complaint.region_id,
        detail={"status": ["open", complaint.status]},
    )
    if upheld:
        link = link_to("supervision:complaint", complaint.pk)
        for user in staff_at(complaint.region_id[:COUNTY_CODE_LENGTH], COUNTY_PERMS):
            notify(
                kind="complaint_upheld",
                subject=_("A complaint was upheld"),
                body=_("A complaint about %(provider)s was upheld: %(finding)s")
                % {"provider": complaint.provider.name, "finding": finding[:200]},
                user=user,
                link=link,
            )
    return complaint


def complaint_open_revisit(*, actor: User | None, complaint: Complaint, method: str) -> Revisit:
    """An ad-hoc revisit of the complaint's order (source "complaint")."""
    if complaint.order is None:
        raise ValidationError({"order": _("The complaint names no order to revisit.")})
    return revisit_add(
        actor=actor, order=complaint.order, method=method, source=c.RevisitSource.COMPLAINT
    )
