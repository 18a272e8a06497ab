"""Decisions: maker-checker, exceptions with a second approver, referral and escalation to
the county, urgent help paid first, and the legal time limits."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from jiuzhu.accounts.roles import Role
from jiuzhu.applications.models import Application, Decision, Document, UrgentRelief
from jiuzhu.applications.services import (
    application_refer_up,
    application_submit,
    decision_make,
    decision_second_approve,
    document_add,
    economic_check_run,
    urgent_relief_pay,
)
from jiuzhu.core.workdays import add_working_days
from jiuzhu.registry.models import Income, TimelineEvent
from tests.applications.test_intake import JPEG, _authorise, _start, _upload
from tests.conftest import TOWN, Family, Personas, make_user

AS_OF = datetime.date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _var_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


def _submitted(personas: Personas, family: Family, kinds: list[str]) -> Application:
    """Entered by the village assistant, checked by the town officer."""
    Income.objects.create(
        household=family.household, kind="agriculture", year=2025, annual_amount=Decimal(6000)
    )
    application = _start(personas, family, kinds)
    for kind in (Document.Kind.ID_CARD, Document.Kind.HUKOU, Document.Kind.MEDICAL_BILLS):
        document_add(
            actor=personas.village_assistant,
            application=application,
            kind=kind,
            upload=_upload(JPEG, "scan.jpg"),
        )
    _authorise(personas, family, application)
    application_submit(actor=personas.village_assistant, application=application)
    economic_check_run(actor=personas.town_officer, application=application, as_of=AS_OF)
    application.refresh_from_db()
    return application


def test_whoever_entered_the_case_cannot_approve_it(personas: Personas, family: Family) -> None:
    # given: a town officer enters the application himself
    application = _start(personas, family, ["temporary"])
    application.entered_by = personas.town_officer
    application.status = Application.Status.SUBMITTED
    application.save()
    # then
    with pytest.raises(PermissionDenied):
        decision_make(
            actor=personas.town_officer,
            application=application,
            kind="temporary",
            outcome="approved",
            reasons="急难",
            one_off_amount=Decimal(2000),
        )
    # and the county admin, who did not enter it, can
    decision = decision_make(
        actor=personas.county_admin,
        application=application,
        kind="temporary",
        outcome="approved",
        reasons="住院费用自付部分较高，家庭无力承担",
        one_off_amount=Decimal(2000),
    )
    assert decision.status == Decision.Status.FINAL
    application.refresh_from_db()
    # temporary help is not put on disclosure first: confirmed, and on the registry
    assert application.status == Application.Status.CONFIRMED
    decision.refresh_from_db()
    assert decision.enrolment is not None
    assert decision.enrolment.category == "temporary"


def test_dibao_approved_on_the_check_pays_the_gap(personas: Personas, family: Family) -> None:
    application = _submitted(personas, family, ["dibao"])
    # 6 000 a year for 3 members: 166.67 a month each; 616 − 166.67 = 449.33 → 450 each
    decision = decision_make(
        actor=personas.town_officer,
        application=application,
        kind="dibao",
        outcome="approved",
        reasons="核对结果符合低保条件",
    )
    assert decision.monthly_amount == Decimal(1350)
    assert "450元/人 × 3人" in decision.amount_explanation
    assert decision.economic_check == application.checks.first()
    # a decision needs reasons, and is made once
    with pytest.raises(ValidationError):
        decision_make(
            actor=personas.town_officer,
            application=application,
            kind="dibao",
            outcome="approved",
            reasons="again",
        )


def test_an_exception_needs_a_second_approver_other_than_maker_and_entrant(
    personas: Personas, family: Family
) -> None:
    # given: a household the check finds above the marginal line
    Income.objects.create(
        household=family.household, kind="wages", year=2025, annual_amount=Decimal(60000)
    )
    application = _submitted(personas, family, ["dibao_marginal"])
    with pytest.raises(ValidationError) as error:
        decision_make(
            actor=personas.town_officer,
            application=application,
            kind="dibao_marginal",
            outcome="approved",
            reasons="因病支出大",
        )
    assert "一事一议" in str(error.value)
    # when: approved as an exception
    decision = decision_make(
        actor=personas.town_officer,
        application=application,
        kind="dibao_marginal",
        outcome="approved",
        reasons="主要劳动力重病，收入将大幅下降，经会商一事一议",
        exception=True,
    )
    assert decision.status == Decision.Status.AWAITING_SECOND
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED  # not decided yet
    # then: neither the maker nor the entrant may confirm it — even an entrant who
    # could decide (here a second town officer who entered the case)
    entrant = make_user("officer_2", Role.TOWN_OFFICER, TOWN)
    Application.objects.filter(pk=application.pk).update(entered_by=entrant)
    for actor in (personas.town_officer, entrant):
        with pytest.raises(PermissionDenied):
            decision_second_approve(actor=actor, decision=decision, reasons="同意")
    confirmed = decision_second_approve(
        actor=personas.county_admin, decision=decision, reasons="同意一事一议"
    )
    assert confirmed.status == Decision.Status.FINAL
    assert confirmed.second_approver == personas.county_admin
    application.refresh_from_db()
    assert application.status == Application.Status.DECIDED


def test_a_referred_case_is_decided_by_the_county_only(personas: Personas, family: Family) -> None:
    application = _submitted(personas, family, ["dibao"])
    with pytest.raises(ValidationError):
        application_refer_up(actor=personas.town_officer, application=application, reasons=" ")
    application_refer_up(
        actor=personas.town_officer, application=application, reasons="家庭情况复杂，提请县级复审"
    )
    with pytest.raises(PermissionDenied):
        decision_make(
            actor=personas.town_officer,
            application=application,
            kind="dibao",
            outcome="approved",
            reasons="符合",
        )
    decision = decision_make(
        actor=personas.county_admin,
        application=application,
        kind="dibao",
        outcome="rejected",
        reasons="县级复审：赡养人有稳定收入",
    )
    assert decision.tier == Application.Tier.COUNTY
    assert decision.monthly_amount == 0


def test_the_time_limit_is_counted_in_working_days_and_overdue_goes_to_the_county(
    personas: Personas, family: Family, settings: Any
) -> None:
    application = _submitted(personas, family, ["dibao"])
    due = add_working_days(timezone.localdate(), 30)
    assert timezone.localtime(application.due_at).date() == due
    # when the deadline passes
    Application.objects.filter(pk=application.pk).update(
        due_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    call_command("applications", "escalate")
    call_command("applications", "escalate")  # a second run changes nothing
    # then
    application.refresh_from_db()
    assert application.tier == Application.Tier.COUNTY
    assert "超过法定办理时限" in application.referral_reason
    assert (
        TimelineEvent.objects.filter(
            household=family.household, kind="applications.escalated"
        ).count()
        == 1
    )


def test_working_days_skip_weekends_and_configured_holidays(settings: Any) -> None:
    friday = datetime.date(2026, 9, 25)
    assert add_working_days(friday, 1) == datetime.date(2026, 9, 28)  # Monday
    settings.JIUZHU_HOLIDAYS = ["2026-10-01", "2026-10-02", "2026-10-05"]
    settings.JIUZHU_WORKING_WEEKENDS = ["2026-10-10"]
    assert add_working_days(datetime.date(2026, 9, 30), 1) == datetime.date(2026, 10, 6)
    assert add_working_days(datetime.date(2026, 10, 9), 1) == datetime.date(2026, 10, 10)


def test_urgent_help_is_paid_at_once_and_the_file_completed_later(
    personas: Personas, family: Family
) -> None:
    # given: only the request, no documents yet
    application = _start(personas, family, ["temporary", "dibao"])
    # when
    relief = urgent_relief_pay(
        actor=personas.town_officer,
        application=application,
        amount=Decimal(3000),
        reasons="突发重病住院，先行救助",
    )
    # then: paid now, with a deadline for the file
    assert relief.amount == Decimal(3000)
    assert relief.file_due == add_working_days(timezone.localdate(), 5)
    temporary = application.decisions.get(requested__kind__code="temporary")
    assert (temporary.status, temporary.one_off_amount) == (Decision.Status.FINAL, 3000)
    with pytest.raises(ValidationError):  # above the ceiling of 5 000 for a second time
        urgent_relief_pay(
            actor=personas.town_officer,
            application=application,
            amount=Decimal(100),
            reasons="again",
        )
    # when the file is not completed in time, it is reported once
    UrgentRelief.objects.filter(pk=relief.pk).update(
        file_due=timezone.localdate() - datetime.timedelta(days=1)
    )
    call_command("applications", "escalate")
    relief.refresh_from_db()
    assert relief.overdue_at is not None
    # and handing in the complete file closes the task
    for kind in (Document.Kind.ID_CARD, Document.Kind.HUKOU):
        document_add(
            actor=personas.village_assistant,
            application=application,
            kind=kind,
            upload=_upload(JPEG, "scan.jpg"),
        )
    _authorise(personas, family, application)
    application_submit(actor=personas.village_assistant, application=application)
    relief.refresh_from_db()
    assert relief.completed_at is not None


def test_urgent_help_is_not_paid_by_whoever_entered_it_nor_above_the_ceiling(
    personas: Personas, family: Family
) -> None:
    application = _start(personas, family, ["temporary"])
    with pytest.raises(PermissionDenied):
        urgent_relief_pay(
            actor=personas.village_assistant,  # entered it, and may not decide anyway
            application=application,
            amount=Decimal(1000),
            reasons="急",
        )
    with pytest.raises(ValidationError):
        urgent_relief_pay(
            actor=personas.town_officer,
            application=application,
            amount=Decimal(5001),
            reasons="急",
        )
    other_town = make_user("officer_2", Role.TOWN_OFFICER, TOWN)
    relief = urgent_relief_pay(
        actor=other_town, application=application, amount=Decimal(5000), reasons="急"
    )
    assert relief.amount == 5000
