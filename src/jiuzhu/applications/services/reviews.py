"""Reviews of enrolments (动态管理): scheduled by kind and household type, re-checks
opened by new department data, graded exits (渐退) and silent certification (静默认证)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.applications.models import AssistanceKind, Decision, EconomicCheck, Review
from jiuzhu.applications.services.common import (
    application_timeline,
    audit_application,
    require_perm,
)
from jiuzhu.applications.services.intake import check_record
from jiuzhu.core.dates import add_months, last_of_month, years_between
from jiuzhu.feeds.selectors import records_of_persons
from jiuzhu.monitoring.selectors import warnings_of_rules
from jiuzhu.registry.selectors import household_members, living_members_of
from jiuzhu.registry.services import enrolment_end

# Monitoring rules whose warnings on an enrolled household open a re-check.
RECHECK_RULES = ("enrolled_new_assets",)
WORKING_AGE = (18, 60)


def _has_workers(household_id: int, on: datetime.date) -> bool:
    for member in household_members(household_id=household_id):
        age = years_between(member.birth_date, on)
        able = member.labour_capacity in ("full", "partial")
        if not member.is_deceased and able and WORKING_AGE[0] <= age < WORKING_AGE[1]:
            return True
    return False


def _live_approvals() -> Any:
    return Decision.objects.filter(
        outcome=Decision.Outcome.APPROVED,
        status=Decision.Status.FINAL,
        enrolment__status="active",
        enrolment__end_date__isnull=True,
    ).select_related("application", "requested__kind", "enrolment")


def reviews_schedule(*, today: datetime.date | None = None) -> int:
    """Open the next review of every live approval whose kind is reviewed: every
    ``review_months`` after the enrolment start or the last review, or every
    ``review_months_with_workers`` when a member of working age can work."""
    today = today or timezone.localdate()
    opened = 0
    for decision in _live_approvals().filter(requested__kind__review_months__gt=0):
        if Review.objects.filter(decision=decision, outcome="").exists():
            continue
        kind = decision.requested.kind
        last = (
            Review.objects.filter(decision=decision)
            .exclude(done_at=None)
            .order_by("-done_at")
            .first()
        )
        since = timezone.localtime(last.done_at).date() if last else decision.enrolment.start_date
        horizon = today + datetime.timedelta(days=30)  # opened a month ahead, not sooner
        shortest = min(filter(None, (kind.review_months_with_workers, kind.review_months)))
        if add_months(since, shortest) > horizon:
            continue  # not due even at the shorter period: no need to look at the members
        months = (
            kind.review_months_with_workers
            if kind.review_months_with_workers
            and _has_workers(decision.application.household_id, today)
            else kind.review_months
        )
        due = add_months(since, months)
        if due > horizon:
            continue
        Review.objects.create(
            decision=decision,
            region_id=decision.application.region_id,
            trigger=Review.Trigger.SCHEDULED,
            reason=_("every %(months)s months") % {"months": months},
            due_on=due,
        )
        opened += 1
    return opened


def reviews_open_rechecks(*, today: datetime.date | None = None) -> int:
    """New department data that may change eligibility opens a re-check due within 30
    days: an exit-review warning on an enrolled household (a new vehicle, property or
    business), once per warning; or a member's social-insurance wage base above what the
    household's latest check knew (a new job or a raise), once per rise."""
    today = today or timezone.localdate()
    approvals = {d.application.household_id: d for d in _live_approvals()}
    seen = set(
        Review.objects.exclude(source_warning=None).values_list("source_warning_id", flat=True)
    )
    opened = 0
    for warning in warnings_of_rules(rule_ids=RECHECK_RULES, household_ids=list(approvals)):
        if warning.pk in seen:
            continue
        decision = approvals[warning.household_id]
        opened += _recheck(decision, warning.explanation[:300], today, warning=warning)
        seen.add(warning.pk)
    for household_id, reason in _wage_rises(approvals, today).items():
        opened += _recheck(approvals[household_id], reason, today)
    return opened


def _recheck(decision: Decision, reason: str, today: datetime.date, warning: Any = None) -> int:
    """Open a re-check of an approval, or make its open review one (one open review per
    approval: the new data join it and make it due sooner). 1 when something changed."""
    open_review = Review.objects.filter(decision=decision, outcome="").first()
    if open_review is not None:
        if open_review.trigger == Review.Trigger.RECHECK and warning is None:
            return 0  # already being re-checked; the check will read the new data
        open_review.trigger = Review.Trigger.RECHECK
        open_review.reason = reason
        open_review.source_warning = warning or open_review.source_warning
        open_review.due_on = min(open_review.due_on, today + datetime.timedelta(days=30))
        open_review.save(update_fields=["trigger", "reason", "source_warning", "due_on"])
        return 1
    Review.objects.create(
        decision=decision,
        region_id=decision.application.region_id,
        trigger=Review.Trigger.RECHECK,
        reason=reason,
        source_warning=warning,
        due_on=today + datetime.timedelta(days=30),
    )
    return 1


def _wage_rises(approvals: dict[int, Decision], today: datetime.date) -> dict[int, str]:
    """Households of income-tested approvals where a member's newest employee-pension
    wage base, for a month after the household's latest check, is above the last one that
    check could know (none: a new job) by more than 10 % and 100 yuan a month. Once the
    re-check has run, its check knows the new base, so the same rise opens nothing again."""
    tested = {
        h: d
        for h, d in approvals.items()
        if d.requested.kind.income_test != AssistanceKind.IncomeTest.NONE
    }
    if not tested:
        return {}
    checked_on = dict(
        EconomicCheck.objects.filter(application__household_id__in=list(tested))
        .values_list("application__household_id")
        .annotate(latest=Max("as_of"))
    )
    persons = living_members_of(household_ids=list(tested))
    earliest = min(checked_on.values(), default=today) - datetime.timedelta(days=366)
    base: dict[int, Decimal] = {}  # last base each person had by the household's check
    newest: dict[int, tuple[datetime.date, Decimal]] = {}
    for row in records_of_persons("social_insurance_contribution", list(persons), since=earliest):
        person = int(row["person_id"])
        if row.get("scheme") != "employee_pension" or row.get("wage_base") is None:
            continue
        period = _as_date(row["period"])
        household_check = checked_on.get(persons[person])
        if household_check is None or period > today:
            continue
        wage = Decimal(str(row["wage_base"]))
        if period <= household_check:
            base[person] = wage  # oldest first: the last one wins
        elif person not in newest or period >= newest[person][0]:
            newest[person] = (period, wage)
    rises: dict[int, str] = {}
    for person, (period, wage) in newest.items():
        before = base.get(person, Decimal(0))
        if wage > before * Decimal("1.1") and wage - before >= 100:
            rises[persons[person]] = _(
                "Social insurance: a member's monthly wage base rose from %(before)s to "
                "%(after)s yuan (%(month)s)"
            ) % {"before": before, "after": wage, "month": f"{period:%Y-%m}"}
    return rises


def _as_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


@transaction.atomic
def review_run(*, actor: User | None, review: Review, today: datetime.date | None = None) -> Review:
    """Check the household again and settle the review. Still eligible: continues.
    Income above the line with assets in limits: a graded exit — the benefit runs for the
    kind's ``graded_exit_months`` more, to the end of that month. Otherwise it ends now.

    ``actor`` None is the system's silent certification: it settles only a scheduled
    review whose check finds the household eligible with nothing declared and found in
    disagreement, and leaves every other review open for a worker."""
    today = today or timezone.localdate()
    # lock the review row only: the enrolment is on the nullable side of a join
    review = (
        Review.objects.select_for_update(of=("self",))
        .select_related(
            "decision__application__household", "decision__requested__kind", "decision__enrolment"
        )
        .get(pk=review.pk)
    )
    decision = review.decision
    application = decision.application
    kind = decision.requested.kind
    if actor is not None:
        require_perm(actor, Perm.RUN_ECONOMIC_CHECK, application.region_id)
    if review.outcome:
        raise ValidationError(_("This review has been settled already."))
    record = check_record(application=application, actor=actor, as_of=today, kinds_only=[kind.code])
    verdict = record.report["verdicts"].get(kind.code) or {}
    tests = verdict.get("tests", [])
    income_passed = all(t["passed"] for t in tests if t["test"].startswith("per_capita_income"))
    assets_passed = all(t["passed"] for t in tests if not t["test"].startswith("per_capita_income"))
    eligible = verdict.get("eligible") is not False
    if actor is None and not (
        review.trigger == Review.Trigger.SCHEDULED
        and eligible
        and not record.report["discrepancies"]
    ):
        return review  # the data do not suffice: a worker takes it
    review.economic_check = record
    review.done_by = actor
    review.done_at = timezone.now()
    review.silent = actor is None
    if eligible:
        review.outcome = Review.Outcome.CONTINUE
        summary = _("Review: still eligible, the benefit continues")
        if review.silent:
            summary = _("Silent certification (静默认证): still eligible from the data")
    elif not income_passed and assets_passed and kind.graded_exit_months > 0:
        review.outcome = Review.Outcome.GRADED_EXIT
        review.exit_on = last_of_month(add_months(today, kind.graded_exit_months))
        summary = _("Review: income above the line; graded exit, paid until %(day)s") % {
            "day": review.exit_on.isoformat()
        }
    else:
        review.outcome = Review.Outcome.ENDED
        assert decision.enrolment is not None  # only live approvals are reviewed
        # a review before the first payment month ends it on its first day
        review.exit_on = max(today, decision.enrolment.start_date)
        enrolment_end(
            actor=None,
            enrolment=decision.enrolment,
            end_date=review.exit_on,
            reason=_("Review: no longer eligible"),
        )
        review.exit_done_at = timezone.now()
        summary = _("Review: no longer eligible; the benefit ends")
    review.save()
    audit_application(
        actor,
        application,
        AuditAction.UPDATE,
        review=review.pk,
        outcome=review.outcome,
        silent=review.silent,
        exit_on=str(review.exit_on or ""),
    )
    application_timeline(application, "applications.reviewed", summary, actor)
    return review


def graded_exits_end(*, today: datetime.date | None = None) -> int:
    """End the enrolments whose graded-exit period is over (each claimed once)."""
    today = today or timezone.localdate()
    ended = 0
    for review in Review.objects.filter(
        outcome=Review.Outcome.GRADED_EXIT, exit_done_at=None, exit_on__lt=today
    ).select_related("decision__enrolment", "decision__application"):
        enrolment, exit_on = review.decision.enrolment, review.exit_on
        if enrolment is None or exit_on is None:
            continue
        if not Review.objects.filter(pk=review.pk, exit_done_at=None).update(
            exit_done_at=timezone.now()
        ):
            continue
        enrolment_end(
            actor=None,
            enrolment=enrolment,
            end_date=exit_on,
            reason=_("Graded exit (渐退) completed"),
        )
        ended += 1
    return ended


def reviews_tick(*, today: datetime.date | None = None) -> dict[str, int]:
    """The daily round: schedule reviews, open re-checks, certify silently what the data
    settle, and end graded exits that are over."""
    today = today or timezone.localdate()
    scheduled = reviews_schedule(today=today)
    rechecks = reviews_open_rechecks(today=today)
    silent = 0
    for review in Review.objects.filter(
        outcome="", trigger=Review.Trigger.SCHEDULED, due_on__lte=today
    ):
        if review_run(actor=None, review=review, today=today).silent:
            silent += 1
    return {
        "scheduled": scheduled,
        "rechecks": rechecks,
        "silent": silent,
        "exits_ended": graded_exits_end(today=today),
    }
