"""Claims on the market (红哨子 / 微心愿 认领): claim, approve or reject, withdraw, expire,
deliver and confirm.

When many claim one need at once exactly one wins: ``claim_create`` moves the need from
published to claimed with one conditional UPDATE (``WHERE status = 'published'``), and
only the caller whose UPDATE changed the row writes a claim. The database's partial
unique index ``one_active_claim_per_need`` is the backstop. A claim holds the need until
``expires_at``; staff approve it before the protected details are released.

Status of the claim: pending → approved → delivered → completed; pending/approved →
rejected (staff), withdrawn (the claimant) or expired (nobody delivered in time). Each
of the last three puts the need back on the market.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.services import audit_record
from jiuzhu.channels.notifications import notify
from jiuzhu.core.uploads import upload_checked
from jiuzhu.registry.timeline import timeline_add
from jiuzhu.services import choices as c
from jiuzhu.services.models import Claim, Need
from jiuzhu.services.need_selectors import claimant_of, staff_to_tell
from jiuzhu.services.services.needs import need_mark_fulfilled, require_need_perm

MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png"}


class ClaimConflict(ValidationError):
    """Someone else holds the need (or it is no longer open): pages answer 409."""


def hold_hours() -> float:
    """How long a claim holds its need (JIUZHU_CLAIM_HOLD_HOURS, default 48)."""
    value = getattr(settings, "JIUZHU_CLAIM_HOLD_HOURS", None)
    if value is None:
        value = os.environ.get("JIUZHU_CLAIM_HOLD_HOURS", "48")
    hours = float(value)
    if hours <= 0:
        raise ValueError("JIUZHU_CLAIM_HOLD_HOURS must be above 0")
    return hours


def auto_approve() -> bool:
    """Whether claims are approved as they are made (JIUZHU_CLAIM_AUTO_APPROVE, default
    false: staff look at who claimed before the details are released)."""
    value = getattr(settings, "JIUZHU_CLAIM_AUTO_APPROVE", None)
    if value is None:
        value = os.environ.get("JIUZHU_CLAIM_AUTO_APPROVE", "")
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _kind_label(claim: Claim) -> str:
    return str(c.ClaimantKind(claim.claimant_kind).label)


def _timeline(
    claim: Claim, kind: str, summary: str, actor: User | None, when: datetime.datetime
) -> None:
    # The claimant's kind only: the household's file never names who claimed.
    timeline_add(
        household_id=claim.need.household_id,
        kind=kind,
        summary=summary,
        occurred_at=when,
        detail={"claimant_kind": claim.claimant_kind},
        object_type="services.need",
        object_id=claim.need_id,
        actor=actor,
    )


def _audit(actor: User | None, claim: Claim, action: str, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="services.claim",
        object_id=claim.pk,
        region_code=claim.need.region_id,
        detail={"need": claim.need_id, **detail},
    )


def _tell_claimant(claim: Claim, kind: str, subject: str, body: str) -> None:
    notify(
        kind=kind,
        subject=subject,
        body=body,
        user=claim.claimant,
        link=reverse("services:needs_market_claim", args=[claim.pk]),
    )


def _tell_staff(need: Need, kind: str, subject: str, body: str) -> None:
    for user in staff_to_tell(need):
        notify(
            kind=kind,
            subject=subject,
            body=body,
            user=user,
            link=reverse("services:needs_detail", args=[need.pk]),
        )


def _locked_claim(claim: Claim) -> Claim:
    return (
        Claim.objects.select_for_update()
        .select_related("need__household", "need__region", "claimant")
        .get(pk=claim.pk)
    )


def _reopen(need: Need, now: datetime.datetime) -> None:
    """The need goes back on the market, if it is still held (not cancelled meanwhile)."""
    Need.objects.filter(pk=need.pk, status=c.NeedStatus.CLAIMED).update(
        status=c.NeedStatus.PUBLISHED, updated_at=now
    )


def claim_create(
    *, actor: User, need: Need, message: str = "", now: datetime.datetime | None = None
) -> Claim:
    """Claim a published need. Exactly one of many simultaneous claimants wins; the
    others get ``ClaimConflict``."""
    now = now or timezone.now()
    claimant = claimant_of(actor)
    if claimant is None:
        raise PermissionDenied(
            _("Only verified volunteers, donors and organisations in good standing may claim.")
        )
    if need.route != c.Route.CLAIM:
        raise ValidationError({"need": _("This need is not on the claim market.")})
    if Claim.objects.filter(need=need, claimant=actor, status=c.ClaimStatus.REJECTED).exists():
        raise ValidationError({"need": _("Your claim on this need was turned down before.")})
    approve = auto_approve()
    try:
        with transaction.atomic():
            # The one line that decides the race: only one UPDATE finds the need published.
            won = Need.objects.filter(
                pk=need.pk, status=c.NeedStatus.PUBLISHED, route=c.Route.CLAIM
            ).update(status=c.NeedStatus.CLAIMED, claimed_at=now, updated_at=now)
            if won != 1:
                raise ClaimConflict(
                    {"need": _("Someone else claimed this need first, or it is no longer open.")}
                )
            claim = Claim.objects.create(
                need=need,
                claimant=actor,
                claimant_kind=claimant.kind,
                provider=claimant.provider,
                status=c.ClaimStatus.APPROVED if approve else c.ClaimStatus.PENDING,
                message=message.strip()[:300],
                expires_at=now + datetime.timedelta(hours=hold_hours()),
                decided_at=now if approve else None,
            )
            # claimed_at is auto_now_add; the need and the claim must carry the same time.
            Claim.objects.filter(pk=claim.pk).update(claimed_at=now)
            claim.claimed_at = now
            need.refresh_from_db()
            claim.need = need
            _audit(actor, claim, AuditAction.CREATE, claimant_kind=claimant.kind)
            _timeline(
                claim,
                "services.need_claimed",
                _("Claimed on the market (claimant: %(kind)s)") % {"kind": _kind_label(claim)},
                actor,
                now,
            )
            if approve:
                _timeline(
                    claim,
                    "services.claim_approved",
                    _("Claim approved (automatically)"),
                    None,
                    now,
                )
    except IntegrityError as exc:
        # The partial unique index caught what the conditional UPDATE should have.
        raise ClaimConflict(
            {"need": _("Someone else claimed this need first, or it is no longer open.")}
        ) from exc
    _tell_staff(
        need,
        "claim_created",
        _("A need was claimed"),
        _("%(title)s was claimed (claimant: %(kind)s).")
        % {"title": need.public_title or need.title, "kind": _kind_label(claim)},
    )
    if approve:
        _tell_claimant(
            claim,
            "claim_approved",
            _("Your claim was approved"),
            _("You may now see the details of %(title)s.") % {"title": need.public_title},
        )
    return claim


@transaction.atomic
def claim_approve(
    *, actor: User, claim: Claim, note: str = "", now: datetime.datetime | None = None
) -> Claim:
    """Staff approve a pending claim: the claimant now sees the protected details, and
    the hold starts again so that they have the whole of it to deliver."""
    require_need_perm(actor, claim.need.household)
    claim = _locked_claim(claim)
    now = now or timezone.now()
    if claim.status != c.ClaimStatus.PENDING:
        raise ValidationError({"status": _("Only a claim awaiting approval can be approved.")})
    claim.status = c.ClaimStatus.APPROVED
    claim.decided_at = now
    claim.decided_by = actor
    claim.decision_note = note.strip()[:200]
    claim.expires_at = max(claim.expires_at, now + datetime.timedelta(hours=hold_hours()))
    claim.save(update_fields=["status", "decided_at", "decided_by", "decision_note", "expires_at"])
    _audit(actor, claim, AuditAction.UPDATE, status=["pending", "approved"])
    _timeline(
        claim,
        "services.claim_approved",
        _("Claim approved (claimant: %(kind)s)") % {"kind": _kind_label(claim)},
        actor,
        now,
    )
    transaction.on_commit(
        lambda: _tell_claimant(
            claim,
            "claim_approved",
            _("Your claim was approved"),
            _("You may now see the details of %(title)s.") % {"title": claim.need.public_title},
        )
    )
    return claim


@transaction.atomic
def claim_reject(
    *, actor: User, claim: Claim, reason: str, now: datetime.datetime | None = None
) -> Claim:
    """Staff turn a claim down; the need goes back on the market."""
    require_need_perm(actor, claim.need.household)
    claim = _locked_claim(claim)
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the claim is turned down.")})
    if claim.status not in (c.ClaimStatus.PENDING, c.ClaimStatus.APPROVED):
        raise ValidationError(
            {"status": _("Only a claim awaiting approval or approved can be turned down.")}
        )
    old = claim.status
    claim.status = c.ClaimStatus.REJECTED
    claim.decided_at = now
    claim.decided_by = actor
    claim.decision_note = reason[:200]
    claim.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    _reopen(claim.need, now)
    _audit(actor, claim, AuditAction.UPDATE, status=[old, "rejected"], reason=reason[:200])
    _timeline(
        claim,
        "services.claim_rejected",
        _("Claim turned down (claimant: %(kind)s); the need is open again")
        % {"kind": _kind_label(claim)},
        actor,
        now,
    )
    transaction.on_commit(
        lambda: _tell_claimant(
            claim,
            "claim_rejected",
            _("Your claim was turned down"),
            _("Your claim on %(title)s was turned down: %(reason)s")
            % {"title": claim.need.public_title, "reason": reason[:200]},
        )
    )
    return claim


@transaction.atomic
def claim_withdraw(
    *, actor: User, claim: Claim, reason: str = "", now: datetime.datetime | None = None
) -> Claim:
    """The claimant gives the need back before delivering it."""
    if claim.claimant_id != actor.pk:
        raise PermissionDenied(_("Only the claimant may withdraw a claim."))
    claim = _locked_claim(claim)
    now = now or timezone.now()
    if claim.status not in (c.ClaimStatus.PENDING, c.ClaimStatus.APPROVED):
        raise ValidationError({"status": _("This claim can no longer be withdrawn.")})
    old = claim.status
    claim.status = c.ClaimStatus.WITHDRAWN
    claim.decided_at = now
    claim.decision_note = reason.strip()[:200]
    claim.save(update_fields=["status", "decided_at", "decision_note"])
    _reopen(claim.need, now)
    _audit(actor, claim, AuditAction.UPDATE, status=[old, "withdrawn"])
    _timeline(
        claim,
        "services.claim_withdrawn",
        _("Claim withdrawn (claimant: %(kind)s); the need is open again")
        % {"kind": _kind_label(claim)},
        actor,
        now,
    )
    need = claim.need
    transaction.on_commit(
        lambda: _tell_staff(
            need,
            "claim_withdrawn",
            _("A claim was withdrawn"),
            _("%(title)s is open for claiming again.") % {"title": need.public_title},
        )
    )
    return claim


def claims_expire(*, now: datetime.datetime | None = None) -> int:
    """Claims past their hold with nothing delivered expire and their needs go back on
    the market. For the scheduler; safe to run in several processes at once (rows are
    claimed with SKIP LOCKED where the database has it)."""
    now = now or timezone.now()
    expired = 0
    due = Claim.objects.filter(
        status__in=(c.ClaimStatus.PENDING, c.ClaimStatus.APPROVED),
        expires_at__lt=now,
        delivered_at__isnull=True,
    ).values_list("pk", flat=True)
    for pk in list(due[:1000]):
        with transaction.atomic():
            claim = (
                Claim.objects.select_for_update(skip_locked=True)
                .select_related("need__household", "need__region", "claimant")
                .filter(
                    pk=pk,
                    status__in=(c.ClaimStatus.PENDING, c.ClaimStatus.APPROVED),
                    expires_at__lt=now,
                    delivered_at__isnull=True,
                )
                .first()
            )
            if claim is None:
                continue
            old = claim.status
            claim.status = c.ClaimStatus.EXPIRED
            claim.decided_at = now
            claim.save(update_fields=["status", "decided_at"])
            _reopen(claim.need, now)
            _audit(None, claim, AuditAction.UPDATE, status=[old, "expired"])
            _timeline(
                claim,
                "services.claim_expired",
                _(
                    "Claim expired, nothing delivered in time (claimant: %(kind)s); "
                    "the need is open again"
                )
                % {"kind": _kind_label(claim)},
                None,
                now,
            )
            expired += 1
        _tell_claimant(
            claim,
            "claim_expired",
            _("Your claim expired"),
            _("Nothing was delivered for %(title)s in time; it is open for claiming again.")
            % {"title": claim.need.public_title},
        )
        _tell_staff(
            claim.need,
            "claim_expired",
            _("A claim expired"),
            _("%(title)s is open for claiming again.") % {"title": claim.need.public_title},
        )
    return expired


def _photo_checked(upload: UploadedFile) -> tuple[str, str]:
    return upload_checked(
        upload,
        kinds=PHOTO_TYPES,
        max_bytes=MAX_PHOTO_BYTES,
        too_large=_("A photo may be at most 10 MB."),
        wrong_kind=_("Photos must be JPEG or PNG images."),
        field="photo",
    )


@transaction.atomic
def claim_deliver(
    *,
    actor: User,
    claim: Claim,
    note: str,
    photo: UploadedFile | None = None,
    now: datetime.datetime | None = None,
) -> Claim:
    """The claimant says it was delivered (what, with an optional photo); staff then
    confirm with the beneficiary."""
    if claim.claimant_id != actor.pk:
        raise PermissionDenied(_("Only the claimant records the delivery."))
    if claimant_of(actor) is None:
        # Suspended (or no longer with a provider that may claim): the bureau decides.
        raise PermissionDenied(_("You may not claim needs at the moment."))
    claim = _locked_claim(claim)
    now = now or timezone.now()
    note = note.strip()
    errors: dict[str, str] = {}
    if claim.status == c.ClaimStatus.PENDING:
        raise ValidationError({"status": _("Wait until the claim is approved.")})
    if claim.status != c.ClaimStatus.APPROVED:
        raise ValidationError({"status": _("This claim is not open for delivery.")})
    if not note:
        errors["note"] = _("Say what was delivered or done.")
    checked = None
    if photo is not None:
        try:
            checked = _photo_checked(photo)
        except ValidationError as exc:
            errors["photo"] = exc.message_dict["photo"][0]
    if errors:
        raise ValidationError(errors)
    claim.status = c.ClaimStatus.DELIVERED
    claim.delivered_at = now
    claim.delivery_note = note[:300]
    if photo is not None and checked is not None:
        digest, suffix = checked
        claim.delivery_photo.save(f"{digest[:16]}{suffix}", photo, save=False)
    claim.save(update_fields=["status", "delivered_at", "delivery_note", "delivery_photo"])
    _audit(actor, claim, AuditAction.UPDATE, status=["approved", "delivered"])
    _timeline(
        claim,
        "services.claim_delivered",
        _("Delivered (claimant: %(kind)s), awaiting confirmation") % {"kind": _kind_label(claim)},
        actor,
        now,
    )
    need = claim.need
    transaction.on_commit(
        lambda: _tell_staff(
            need,
            "claim_delivered",
            _("A claim was delivered"),
            _("Please confirm %(title)s with the beneficiary.") % {"title": need.public_title},
        )
    )
    return claim


@transaction.atomic
def claim_confirm(
    *,
    actor: User,
    claim: Claim,
    confirmed_by: str,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Claim:
    """Staff confirm the need was met: the beneficiary said so (recorded by staff, by
    phone or in person), or staff saw it themselves. The claim is completed and the need
    fulfilled. A delivery the claimant did not record yet is taken as delivered now."""
    require_need_perm(actor, claim.need.household)
    claim = _locked_claim(claim)
    now = now or timezone.now()
    if confirmed_by not in c.ConfirmedBy.values:
        raise ValidationError(
            {"confirmed_by": _("Say who confirmed it: the beneficiary or staff.")}
        )
    if claim.status not in (c.ClaimStatus.APPROVED, c.ClaimStatus.DELIVERED):
        raise ValidationError(
            {"status": _("Only an approved or delivered claim can be confirmed.")}
        )
    old = claim.status
    fields = ["status", "completed_at"]
    if claim.delivered_at is None:
        claim.delivered_at = now
        fields.append("delivered_at")
    if note.strip():
        claim.decision_note = note.strip()[:200]
        fields.append("decision_note")
    claim.status = c.ClaimStatus.COMPLETED
    claim.completed_at = now
    claim.save(update_fields=fields)
    _audit(actor, claim, AuditAction.UPDATE, status=[old, "completed"], confirmed_by=confirmed_by)
    need_mark_fulfilled(need=claim.need, confirmed_by=confirmed_by, actor=actor, now=now)
    transaction.on_commit(
        lambda: _tell_claimant(
            claim,
            "claim_completed",
            _("Thank you: the need was met"),
            _("%(title)s was confirmed as fulfilled.") % {"title": claim.need.public_title},
        )
    )
    return claim


def claims_end_for_cancelled_need(
    *, actor: User | None, need: Need, reason: str, now: datetime.datetime
) -> None:
    """A cancelled need ends the claim that held it (called inside need_cancel)."""
    for claim in Claim.objects.select_for_update().filter(
        need=need, status__in=c.ACTIVE_CLAIM_STATUSES
    ):
        claim.need = need
        old = claim.status
        claim.status = c.ClaimStatus.REJECTED
        claim.decided_at = now
        claim.decided_by = actor if actor is not None and actor.pk else None
        claim.decision_note = reason[:200]
        claim.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        _audit(actor, claim, AuditAction.UPDATE, status=[old, "rejected"], reason="need cancelled")
        claimed = claim
        transaction.on_commit(
            lambda claimed=claimed: _tell_claimant(  # type: ignore[misc]
                claimed,
                "claim_rejected",
                _("The need you claimed was cancelled"),
                _("%(title)s was cancelled: %(reason)s")
                % {"title": need.public_title, "reason": reason[:200]},
            )
        )
