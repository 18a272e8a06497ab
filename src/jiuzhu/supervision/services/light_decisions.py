"""Changes of a provider's traffic light and what follows from them (红绿灯准入退出).

Every change is a ``LightDecision`` (append-only: who — None for the monthly scorecard
run —, when, from → to, why), and the light is copied to ``services.Provider.light`` (the
column dispatch reads) through ``services.services.directory.provider_set_light``.

The policy, whoever decides:

- **yellow** opens a ``Rectification`` (what must be rectified, due in the county's
  ``rectification_days``) unless one is open;
- **red** opens an ``ExitReview`` unless one is open; dispatch stops at once because
  dispatch offers nothing to a red provider. A rectification still open is closed as
  rejected ("superseded"): the exit review decides now.
- A *better* light never lifts a provider out of yellow while its rectification is open,
  nor out of red while its exit review is open or after it was expelled: the scorecard
  run leaves the light alone and staff decide (``rectification_close``,
  ``exit_review_decide``); an override cannot skip those decisions either.

Human decisions need ``DECIDE_LIGHTS`` over the provider's region and a reason. The
provider's managers and the county's deciding staff are told of each decision in the
app, after the commit.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import ROLE_PERMS, Perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.channels.notifications import notify
from jiuzhu.services import choices as sc
from jiuzhu.services.models import Provider, ProviderContract, ProviderMember
from jiuzhu.services.services.directory import contract_end, provider_set_active, provider_set_light
from jiuzhu.supervision import choices as c
from jiuzhu.supervision import light_selectors as sel
from jiuzhu.supervision.models import (
    ExitReview,
    LightDecision,
    ProviderScore,
    Rectification,
)
from jiuzhu.supervision.scorecards import is_better


def light_label(light: str) -> str:
    return str(sc.Light(light).label) if light in sc.Light.values else light


# --- telling people ----------------------------------------------------------------------


def deciding_staff(county_code: str) -> list[User]:
    """Active users who decide lights in the county (their region within it)."""
    roles = [role for role, perms in ROLE_PERMS.items() if Perm.DECIDE_LIGHTS in perms]
    return list(
        User.objects.filter(
            role__in=roles, is_active=True, region__code__startswith=county_code
        ).order_by("pk")
    )


def provider_managers(provider: Provider) -> list[User]:
    return [
        m.user
        for m in ProviderMember.objects.filter(
            provider=provider, is_manager=True, is_active=True, user__is_active=True
        ).select_related("user")
    ]


def _tell(provider: Provider, *, kind: str, subject: str, body: str) -> None:
    """The provider's managers (link: their own page) and the county's deciding staff
    (link: the provider's supervision page), after the commit."""
    managers = provider_managers(provider)
    staff = deciding_staff(provider.region_id[:6])
    own = reverse("supervision:lights_mine")
    record = reverse("supervision:lights_provider", args=[provider.pk])

    def send() -> None:
        for user in managers:
            notify(kind=kind, subject=subject, body=body, user=user, link=own)
        for user in staff:
            notify(kind=kind, subject=subject, body=body, user=user, link=record)

    transaction.on_commit(send)


# --- the decision itself -----------------------------------------------------------------


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def _require_decider(actor: User | None, provider: Provider) -> User:
    if actor is None or not sel.may_decide(actor, provider):
        raise PermissionDenied(_("You may not decide the traffic lights of this provider."))
    return actor


def _reason(text: str, name: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({name: _("Say why.")})
    return text[:2000]


def _supersede_rectification(provider: Provider, actor: User | None) -> None:
    open_one = sel.open_rectification(provider)
    if open_one is None:
        return
    open_one.status = c.RectificationStatus.REJECTED
    open_one.conclusion = _("Superseded: the light turned red and the exit review decides.")
    open_one.closed_at = timezone.now()
    open_one.closed_by = actor
    open_one.save(update_fields=["status", "conclusion", "closed_at", "closed_by"])


def _open_rectification(
    provider: Provider, decision: LightDecision, issues: str, today: datetime.date
) -> Rectification | None:
    if sel.open_rectification(provider) is not None:
        return None
    config = sel.config_of(provider.region_id[:6])
    return Rectification.objects.create(
        provider=provider,
        decision=decision,
        issues=issues,
        due_date=today + datetime.timedelta(days=config.rectification_days),
    )


def decide(
    *,
    provider: Provider,
    to_light: str,
    kind: str,
    reason: str,
    actor: User | None,
    score: ProviderScore | None = None,
    today: datetime.date | None = None,
    follow_policy: bool = True,
) -> LightDecision:
    """Record the decision, set the light, open what the new light opens, tell people.
    The caller has checked who may decide and whether the change is allowed; the
    provider row must be locked by the caller's transaction."""
    day = _today(today)
    before = provider.light
    decision = LightDecision.objects.create(
        provider=provider,
        score=score,
        kind=kind,
        from_light=before,
        to_light=to_light,
        reason=reason,
        decided_by=actor,
    )
    provider_set_light(provider=provider, light=to_light, reason=reason[:200], actor=actor)
    provider.light = to_light
    if follow_policy and to_light == sc.Light.YELLOW:
        _open_rectification(provider, decision, reason, day)
    if follow_policy and to_light == sc.Light.RED:
        _supersede_rectification(provider, actor)
        if sel.open_exit_review(provider) is None:
            ExitReview.objects.create(provider=provider, decision=decision)
    if before != to_light:
        _tell(
            provider,
            kind="provider_light",
            subject=_("Traffic light: %(from)s → %(to)s")
            % {"from": light_label(before), "to": light_label(to_light)},
            body=_("%(provider)s: %(reason)s")
            % {"provider": provider.name, "reason": reason[:300]},
        )
    return decision


def lift_blocked(provider: Provider, to_light: str) -> str:
    """Why a better light may not be given now ("" when it may)."""
    if not is_better(to_light, provider.light):
        return ""
    if provider.light == sc.Light.RED:
        if sel.open_exit_review(provider) is not None:
            return _("An exit review is open: decide it to lift the red light.")
        if sel.is_expelled(provider) and not provider.is_active:
            return _("The provider was expelled: it must be reactivated in the directory first.")
    if provider.light == sc.Light.YELLOW and sel.open_rectification(provider) is not None:
        return _("A rectification is open: close it to lift the yellow light.")
    return ""


def _locked(provider: Provider) -> Provider:
    return Provider.objects.select_for_update().get(pk=provider.pk)


def _audit(
    actor: User | None, object_type: str, object_id: Any, region: str, **detail: Any
) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=object_type,
        object_id=object_id,
        region_code=region,
        detail=detail,
    )


# --- human decisions ---------------------------------------------------------------------


@transaction.atomic
def light_override(
    *,
    actor: User,
    provider: Provider,
    light: str,
    reason: str,
    today: datetime.date | None = None,
) -> LightDecision:
    """Staff set the light themselves (kind ``override``), with the same consequences
    as a computed change: yellow opens a rectification, red an exit review."""
    _require_decider(actor, provider)
    if light not in sc.Light.values:
        raise ValidationError({"light": _("Unknown traffic light.")})
    text = _reason(reason)
    provider = _locked(provider)
    if provider.light == light:
        raise ValidationError({"light": _("The provider already has this light.")})
    blocked = lift_blocked(provider, light)
    if blocked:
        raise ValidationError({"light": blocked})
    return decide(
        provider=provider,
        to_light=light,
        kind=c.DecisionKind.OVERRIDE,
        reason=text,
        actor=actor,
        today=today,
    )


@transaction.atomic
def rectification_submit(
    *, actor: User, rectification: Rectification, report: str
) -> Rectification:
    """The provider's manager reports what was rectified (again, if a report is already
    waiting: the new one replaces it)."""
    member = sel.manager_of(actor)
    if member is None or member.provider_id != rectification.provider_id:
        raise PermissionDenied(_("Only a manager of the provider may report its rectification."))
    rectification = Rectification.objects.select_for_update().get(pk=rectification.pk)
    if rectification.status not in sel.OPEN_RECTIFICATION:
        raise ValidationError(_("This rectification is closed."))
    text = (report or "").strip()
    if len(text) < 10:
        raise ValidationError(
            {"report": _("Describe what was rectified (at least 10 characters).")}
        )
    rectification.report = text[:5000]
    rectification.status = c.RectificationStatus.SUBMITTED
    rectification.submitted_at = timezone.now()
    rectification.submitted_by = actor
    rectification.save(update_fields=["report", "status", "submitted_at", "submitted_by"])
    provider = rectification.provider
    _audit(
        actor,
        "supervision.rectification",
        rectification.pk,
        provider.region_id,
        status="submitted",
    )
    _tell(
        provider,
        kind="rectification_submitted",
        subject=_("Rectification report submitted"),
        body=_("%(provider)s has reported its rectification; please review it.")
        % {"provider": provider.name},
    )
    return rectification


@transaction.atomic
def rectification_close(
    *,
    actor: User,
    rectification: Rectification,
    accepted: bool,
    conclusion: str,
    today: datetime.date | None = None,
) -> Rectification:
    """Accept the rectification (the light turns green, kind ``rectified``) or reject it
    (the light stays yellow; staff may then override to red)."""
    provider = _locked(rectification.provider)
    _require_decider(actor, provider)
    text = _reason(conclusion, "conclusion")
    rectification = Rectification.objects.select_for_update().get(pk=rectification.pk)
    if rectification.status not in sel.OPEN_RECTIFICATION:
        raise ValidationError(_("This rectification is closed."))
    if accepted and rectification.status != c.RectificationStatus.SUBMITTED:
        raise ValidationError(
            {"accepted": _("A rectification is accepted only after the provider's report.")}
        )
    rectification.status = (
        c.RectificationStatus.ACCEPTED if accepted else c.RectificationStatus.REJECTED
    )
    rectification.conclusion = text
    rectification.closed_at = timezone.now()
    rectification.closed_by = actor
    rectification.save(update_fields=["status", "conclusion", "closed_at", "closed_by"])
    _audit(
        actor,
        "supervision.rectification",
        rectification.pk,
        provider.region_id,
        status=rectification.status,
    )
    if accepted and provider.light == sc.Light.YELLOW:
        decide(
            provider=provider,
            to_light=sc.Light.GREEN,
            kind=c.DecisionKind.RECTIFIED,
            reason=text,
            actor=actor,
            today=today,
        )
    else:
        _tell(
            provider,
            kind="rectification_closed",
            subject=_("Rectification accepted") if accepted else _("Rectification rejected"),
            body=_("%(provider)s: %(conclusion)s")
            % {"provider": provider.name, "conclusion": text[:300]},
        )
    return rectification


@transaction.atomic
def exit_review_decide(
    *,
    actor: User,
    review: ExitReview,
    expel: bool,
    conclusion: str,
    today: datetime.date | None = None,
) -> ExitReview:
    """Expel (the provider is deactivated, its contracts in force ended, the light stays
    red) or reinstate (yellow, with a new rectification). Expelling also needs the right
    to manage providers (the directory's own check)."""
    provider = _locked(review.provider)
    _require_decider(actor, provider)
    text = _reason(conclusion, "conclusion")
    review = ExitReview.objects.select_for_update().get(pk=review.pk)
    if review.status != c.ExitReviewStatus.OPEN:
        raise ValidationError(_("This exit review is decided already."))
    review.status = c.ExitReviewStatus.EXPELLED if expel else c.ExitReviewStatus.REINSTATED
    review.conclusion = text
    review.decided_at = timezone.now()
    review.decided_by = actor
    review.save(update_fields=["status", "conclusion", "decided_at", "decided_by"])
    _audit(actor, "supervision.exit_review", review.pk, provider.region_id, status=review.status)
    if expel:
        why = _("Expelled after the exit review: %(conclusion)s") % {"conclusion": text}
        decide(
            provider=provider,
            to_light=sc.Light.RED,
            kind=c.DecisionKind.EXIT_REVIEW,
            reason=text,
            actor=actor,
            today=today,
            follow_policy=False,
        )
        if provider.is_active:
            provider_set_active(actor=actor, provider=provider, active=False, reason=why[:200])
        contracts = ProviderContract.objects.filter(provider=provider).filter(
            Q(status=sc.ContractStatus.ACTIVE) | Q(status=sc.ContractStatus.SUSPENDED)
        )
        for contract in contracts.order_by("pk"):
            contract_end(actor=actor, contract=contract, reason=why[:200])
        _tell(
            provider,
            kind="provider_expelled",
            subject=_("Provider expelled"),
            body=_("%(provider)s: %(conclusion)s")
            % {"provider": provider.name, "conclusion": text[:300]},
        )
    else:
        decide(
            provider=provider,
            to_light=sc.Light.YELLOW,
            kind=c.DecisionKind.EXIT_REVIEW,
            reason=text,
            actor=actor,
            today=today,
        )
    return review
