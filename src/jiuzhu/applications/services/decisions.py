"""Decisions (审核确认) with maker-checker, referral to the county (提级复审), exceptions
with a second approver (一事一议), urgent help paid first (先行救助), and escalation of
overdue steps."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.applications.amounts import AmountError, compute_amount
from jiuzhu.applications.models import (
    Application,
    AssistanceKind,
    Decision,
    EconomicCheck,
    RequestedKind,
    UrgentRelief,
)
from jiuzhu.applications.selectors import standard_in_force
from jiuzhu.applications.services.common import (
    application_timeline,
    audit_application,
    require_perm,
)
from jiuzhu.applications.services.payments import application_confirm
from jiuzhu.core.dates import first_of_next_month
from jiuzhu.core.workdays import add_working_days

COUNTY_CODE_LENGTH = 6


def _not_the_maker(actor: User, application: Application) -> None:
    if application.entered_by_id == actor.pk:
        raise PermissionDenied(
            _("Whoever entered an application cannot decide it; another officer must.")
        )


def _at_tier(actor: User, application: Application) -> bool:
    """A case referred to the county is decided there, not by a town officer."""
    at_county = len(actor.region_id or "") <= COUNTY_CODE_LENGTH
    return application.tier == Application.Tier.TOWN or at_county


def _may_decide_at_tier(actor: User, application: Application) -> None:
    if not _at_tier(actor, application):
        raise PermissionDenied(_("This application is with the county for review."))


def may_decide(actor: User, application: Application) -> bool:
    """Whether the user may decide this application at all (decision right, not its
    maker, the right tier): for pages to offer the forms. Area and status are checked by
    the page's lookup and by the services."""
    return (
        user_has_perm(actor, Perm.DECIDE_APPLICATIONS)
        and application.entered_by_id != actor.pk
        and _at_tier(actor, application)
    )


def _finish_if_decided(application: Application) -> None:
    requested = application.kinds.count()
    final = Decision.objects.filter(application=application, status=Decision.Status.FINAL).count()
    if requested and final == requested and application.status == Application.Status.SUBMITTED:
        application.status = Application.Status.DECIDED
        application.decided_at = timezone.now()
        application.save(update_fields=["status", "decided_at"])
        application_timeline(
            application,
            "applications.decided",
            _("Application %(number)s decided") % {"number": application.number},
            None,
        )
        approved = Decision.objects.filter(
            application=application, outcome=Decision.Outcome.APPROVED
        ).select_related("requested__kind")
        if approved and all(d.requested.kind.disclosure_days == 0 for d in approved):
            # nothing to put on public display (临时救助): confirmed at once
            application_confirm(
                application=application,
                actor=None,
                from_status=Application.Status.DECIDED,
                benefit_start=first_of_next_month(timezone.localdate()),
            )


def _amount(
    requested: RequestedKind,
    latest: EconomicCheck | None,
    *,
    one_off: Decimal | None,
    persons_supported: int,
) -> tuple[Decimal, Decimal, str]:
    kind = requested.kind
    application = requested.application
    household = application.household
    standard = standard_in_force(
        "dibao_monthly",
        region_code=household.region_id,
        area_type=household.area_type,
        on=timezone.localdate(),
    ).value
    try:
        amount = compute_amount(
            kind.amount_rule,
            kind.amount_parameters,
            standard=standard,
            per_capita_income=latest.per_capita_monthly_income if latest else Decimal(0),
            members=latest.members if latest else 1,
            persons_supported=persons_supported,
            requested=one_off if one_off is not None else requested.requested_amount,
        )
    except AmountError as exc:
        raise ValidationError({"amount": str(exc)}) from exc
    return amount.monthly, amount.one_off, amount.explanation


@transaction.atomic
def decision_make(
    *,
    actor: User,
    application: Application,
    kind: str,
    outcome: str,
    reasons: str,
    exception: bool = False,
    one_off_amount: Decimal | None = None,
    persons_supported: int = 1,
) -> Decision:
    """Decide one kind asked for. Approval of a means-tested kind needs a check that
    supports it — or an exception (一事一议) with reasons, which waits for a second
    approver."""
    require_perm(actor, Perm.DECIDE_APPLICATIONS, application.region_id)
    application = Application.objects.select_for_update().get(pk=application.pk)
    _not_the_maker(actor, application)
    _may_decide_at_tier(actor, application)
    if application.status != Application.Status.SUBMITTED:
        raise ValidationError(_("Only a submitted application can be decided."))
    requested = (
        RequestedKind.objects.select_related("kind", "application__household")
        .filter(application=application, kind__code=kind)
        .first()
    )
    errors: dict[str, str] = {}
    if requested is None:
        errors["kind"] = _("This kind of help was not asked for.")
    elif (
        Decision.objects.filter(requested=requested)
        .exclude(status=Decision.Status.REVOKED)
        .exists()
    ):
        errors["kind"] = _("This kind of help has been decided already.")
    if outcome not in Decision.Outcome.values:
        errors["outcome"] = _("Choose approve or reject.")
    if not reasons.strip():
        errors["reasons"] = _("Every decision needs its reasons.")
    if errors:
        raise ValidationError(errors)
    assert requested is not None
    latest = application.checks.first()
    tested = requested.kind.income_test != AssistanceKind.IncomeTest.NONE
    if outcome == Decision.Outcome.APPROVED and tested and not exception:
        verdict = (latest.report.get("verdicts", {}).get(kind) or {}) if latest else {}
        if latest is None:
            raise ValidationError({"kind": _("Run the household economic check before approving.")})
        if verdict.get("eligible") is not True:
            raise ValidationError(
                {
                    "kind": _(
                        "The check does not support this; approve it as an exception "
                        "(一事一议) with reasons and a second approver, or reject it."
                    )
                }
            )
    monthly = one_off = Decimal(0)
    explanation = ""
    if outcome == Decision.Outcome.APPROVED:
        monthly, one_off, explanation = _amount(
            requested, latest, one_off=one_off_amount, persons_supported=persons_supported
        )
    decision = Decision.objects.create(
        requested=requested,
        application=application,
        outcome=outcome,
        status=Decision.Status.AWAITING_SECOND if exception else Decision.Status.FINAL,
        tier=application.tier,
        is_exception=exception,
        reasons=reasons.strip(),
        economic_check=latest,
        monthly_amount=monthly,
        one_off_amount=one_off,
        amount_explanation=explanation,
        made_by=actor,
    )
    audit_application(
        actor,
        application,
        AuditAction.CREATE,
        decision=decision.pk,
        kind=kind,
        outcome=outcome,
        exception=exception,
        monthly=str(monthly),
        one_off=str(one_off),
    )
    application_timeline(
        application,
        "applications.decision",
        _("%(kind)s: %(outcome)s%(exception)s")
        % {
            "kind": requested.kind.name_zh,
            "outcome": decision.get_outcome_display(),
            "exception": _(" (exception, awaiting a second approver)") if exception else "",
        },
        actor,
    )
    _finish_if_decided(application)
    return decision


@transaction.atomic
def decision_second_approve(*, actor: User, decision: Decision, reasons: str) -> Decision:
    """The second approver of an exception (一事一议): neither its maker nor whoever
    entered the application."""
    decision = (
        Decision.objects.select_for_update().select_related("application").get(pk=decision.pk)
    )
    application = decision.application
    require_perm(actor, Perm.DECIDE_APPLICATIONS, application.region_id)
    if decision.status != Decision.Status.AWAITING_SECOND:
        raise ValidationError(_("This decision does not wait for a second approver."))
    if actor.pk in (decision.made_by_id, application.entered_by_id):
        raise PermissionDenied(
            _("The second approver must be someone other than the maker and the entrant.")
        )
    if not reasons.strip():
        raise ValidationError({"reasons": _("Every decision needs its reasons.")})
    decision.status = Decision.Status.FINAL
    decision.second_approver = actor
    decision.second_reasons = reasons.strip()
    decision.second_at = timezone.now()
    decision.save(update_fields=["status", "second_approver", "second_reasons", "second_at"])
    audit_application(actor, application, AuditAction.UPDATE, decision=decision.pk, second=True)
    application_timeline(
        application,
        "applications.decision_confirmed",
        _("Exception confirmed by a second approver"),
        actor,
    )
    _finish_if_decided(application)
    return decision


@transaction.atomic
def application_refer_up(*, actor: User, application: Application, reasons: str) -> Application:
    """提级复审: a town officer sends a hard case to the county."""
    require_perm(actor, Perm.DECIDE_APPLICATIONS, application.region_id)
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status != Application.Status.SUBMITTED:
        raise ValidationError(_("Only a submitted application can be referred."))
    if application.tier != Application.Tier.TOWN:
        raise ValidationError(_("This application is with the county already."))
    if not reasons.strip():
        raise ValidationError({"reasons": _("Say why the county should review it.")})
    application.tier = Application.Tier.COUNTY
    application.referred_up_at = timezone.now()
    application.referral_reason = reasons.strip()
    application.save(update_fields=["tier", "referred_up_at", "referral_reason"])
    audit_application(actor, application, AuditAction.UPDATE, tier="county", reasons=reasons)
    application_timeline(
        application,
        "applications.referred_up",
        _("Referred to the county for review (提级复审)"),
        actor,
    )
    return application


@transaction.atomic
def urgent_relief_pay(
    *, actor: User, application: Application, amount: Decimal, reasons: str
) -> UrgentRelief:
    """先行救助: pay urgent temporary help now, even before the file is complete, and open
    the task of completing it within ``JIUZHU_URGENT_FILE_DAYS`` working days."""
    require_perm(actor, Perm.DECIDE_APPLICATIONS, application.region_id)
    application = Application.objects.select_for_update().get(pk=application.pk)
    _not_the_maker(actor, application)
    requested = (
        RequestedKind.objects.select_related("kind")
        .filter(application=application, kind__amount_rule=AssistanceKind.AmountRule.ONE_OFF)
        .first()
    )
    if requested is None:
        raise ValidationError({"kind": _("Urgent help is paid on a request for temporary help.")})
    if UrgentRelief.objects.filter(application=application).exists():
        raise ValidationError(_("Urgent help has been paid on this application already."))
    if not reasons.strip():
        raise ValidationError({"reasons": _("Every decision needs its reasons.")})
    decision = _urgent_decision(actor, application, requested, amount, reasons)
    due = add_working_days(timezone.localdate(), settings.JIUZHU_URGENT_FILE_DAYS)
    relief = UrgentRelief.objects.create(
        application=application,
        decision=decision,
        amount=decision.one_off_amount,
        reasons=reasons.strip(),
        paid_by=actor,
        file_due=due,
    )
    audit_application(
        actor, application, AuditAction.CREATE, urgent_relief=str(amount), file_due=str(due)
    )
    application_timeline(
        application,
        "applications.urgent_paid",
        _("先行救助: %(amount)s yuan paid; file to be completed by %(due)s")
        % {"amount": decision.one_off_amount, "due": due.isoformat()},
        actor,
    )
    return relief


def _urgent_decision(
    actor: User,
    application: Application,
    requested: RequestedKind,
    amount: Decimal,
    reasons: str,
) -> Decision:
    try:
        computed = compute_amount(
            requested.kind.amount_rule,
            requested.kind.amount_parameters,
            standard=Decimal(0),
            per_capita_income=Decimal(0),
            members=1,
            requested=amount,
        )
    except AmountError as exc:
        raise ValidationError({"amount": str(exc)}) from exc
    return Decision.objects.create(
        requested=requested,
        application=application,
        outcome=Decision.Outcome.APPROVED,
        status=Decision.Status.FINAL,
        tier=application.tier,
        reasons=reasons.strip(),
        one_off_amount=computed.one_off,
        amount_explanation=f"先行救助，{computed.explanation}",
        made_by=actor,
    )


def applications_escalate_overdue(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Overdue decisions go from the town to the county; 先行救助 files not completed in
    time are reported. Each row is claimed by a conditional UPDATE, so two schedulers
    never escalate the same thing twice."""
    now = now or timezone.now()
    escalated = 0
    for application in Application.objects.filter(
        status=Application.Status.SUBMITTED, tier=Application.Tier.TOWN, due_at__lt=now
    ):
        claimed = Application.objects.filter(
            pk=application.pk, tier=Application.Tier.TOWN, status=Application.Status.SUBMITTED
        ).update(
            tier=Application.Tier.COUNTY,
            referred_up_at=now,
            referral_reason="超过法定办理时限，自动提交县级审核",
        )
        if not claimed:
            continue
        escalated += 1
        audit_application(None, application, AuditAction.UPDATE, tier="county", overdue=True)
        application_timeline(
            application,
            "applications.escalated",
            _("Decision overdue: escalated to the county"),
            None,
        )
    reported = 0
    for relief in UrgentRelief.objects.filter(
        completed_at=None, overdue_at=None, file_due__lt=timezone.localdate(now)
    ).select_related("application"):
        if not UrgentRelief.objects.filter(pk=relief.pk, overdue_at=None).update(overdue_at=now):
            continue
        reported += 1
        audit_application(None, relief.application, AuditAction.UPDATE, urgent_overdue=True)
        application_timeline(
            relief.application,
            "applications.urgent_overdue",
            _("先行救助 file not completed in time"),
            None,
        )
    return {"escalated": escalated, "urgent_overdue": reported}
