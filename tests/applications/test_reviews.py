"""Reviews (动态管理): when they fall due, re-checks from new department data, graded
exits (渐退), ends, and silent certification (静默认证)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from jiuzhu.applications.models import Decision, Review
from jiuzhu.applications.services import payment_list_build
from jiuzhu.applications.services.reviews import (
    graded_exits_end,
    review_run,
    reviews_open_rechecks,
    reviews_schedule,
    reviews_tick,
)
from jiuzhu.core.dates import add_months
from jiuzhu.feeds.services import feed_import
from jiuzhu.monitoring.models import MonitoringRun, Warning
from jiuzhu.registry import choices as c
from jiuzhu.registry.models import Income, TimelineEvent
from jiuzhu.registry.services import person_create
from tests.applications.test_payments import _confirmed
from tests.conftest import ID_SPOUSE, TOWN, VILLAGE_A, Family, Personas


@pytest.fixture(autouse=True)
def _var_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


def _approval(personas: Personas, family: Family) -> Decision:
    application = _confirmed(personas, family)
    return application.decisions.select_related("enrolment").get(requested__kind__code="dibao")


def test_reviews_fall_due_yearly_or_half_yearly_with_a_working_age_worker(
    personas: Personas, family: Family
) -> None:
    decision = _approval(personas, family)
    start = decision.enrolment.start_date
    # the head is 68, the spouse 66, the child 14: no one of working age → every 12 months
    assert reviews_schedule(today=start + datetime.timedelta(days=200)) == 0
    assert reviews_schedule(today=start + datetime.timedelta(days=340)) == 1
    review = Review.objects.get()
    assert review.due_on == start.replace(year=start.year + 1)
    assert reviews_schedule(today=start + datetime.timedelta(days=340)) == 0  # one open
    # a grown-up son able to work joins the household: every 6 months
    Review.objects.all().delete()
    person_create(
        actor=None,
        household=family.household,
        name="王大力",
        id_number="360823199001010034",
        relationship=c.Relationship.CHILD,
        labour_capacity=c.LabourCapacity.FULL,
    )
    assert reviews_schedule(today=start + datetime.timedelta(days=170)) == 1
    assert Review.objects.get().due_on.month == (start.month + 5) % 12 + 1


def test_income_above_the_line_gets_a_graded_exit_of_six_months(
    personas: Personas, family: Family
) -> None:
    decision = _approval(personas, family)
    today = timezone.localdate()
    Income.objects.create(
        household=family.household,
        kind="wages",
        year=today.year,
        annual_amount=Decimal(60000),  # 1 666 a person a month: far above 616
    )
    review = Review.objects.create(
        decision=decision, region_id=VILLAGE_A, trigger="scheduled", due_on=today
    )
    # the system does not settle what the data make uncertain
    assert review_run(actor=None, review=review, today=today).outcome == ""
    review = review_run(actor=personas.town_officer, review=review, today=today)
    assert review.outcome == Review.Outcome.GRADED_EXIT and not review.silent
    last_month = today.month + 6
    end = datetime.date(today.year + (last_month - 1) // 12, (last_month - 1) % 12 + 1, 1)
    assert review.exit_on.replace(day=1) == end
    decision.enrolment.refresh_from_db()
    assert decision.enrolment.status == "active"  # still paid during the graded exit
    in_exit = payment_list_build(
        actor=personas.town_officer, region_code=TOWN, month=review.exit_on.replace(day=1)
    )
    assert in_exit.total == Decimal(1350)
    # after the period the enrolment ends on the last day of it, once
    after = review.exit_on + datetime.timedelta(days=1)
    assert graded_exits_end(today=after) == 1
    assert graded_exits_end(today=after) == 0
    decision.enrolment.refresh_from_db()
    assert (decision.enrolment.status, decision.enrolment.end_date) == ("ended", review.exit_on)


def test_an_asset_above_the_limit_ends_the_benefit_at_once(
    personas: Personas, family: Family
) -> None:
    decision = _approval(personas, family)
    family.household.assets.create(kind="vehicle", value=Decimal(90000))
    today = decision.enrolment.start_date + datetime.timedelta(days=40)
    review = Review.objects.create(
        decision=decision, region_id=VILLAGE_A, trigger="recheck", due_on=today
    )
    review = review_run(actor=personas.town_officer, review=review, today=today)
    assert review.outcome == Review.Outcome.ENDED
    decision.enrolment.refresh_from_db()
    assert (decision.enrolment.status, decision.enrolment.end_date) == ("ended", today)


def test_silent_certification_settles_a_review_the_data_confirm(
    personas: Personas, family: Family
) -> None:
    decision = _approval(personas, family)
    start = decision.enrolment.start_date
    due_day = start.replace(year=start.year + 1)
    # when the daily round runs on the day the review falls due
    counts = reviews_tick(today=due_day)
    # then nobody had to visit: the data still show the household eligible
    review = Review.objects.get()
    assert counts["silent"] == 1
    assert (review.outcome, review.silent, review.done_by) == ("continue", True, None)
    assert review.economic_check is not None
    assert TimelineEvent.objects.filter(
        household=family.household, kind="applications.reviewed", summary__contains="静默认证"
    ).exists()


def test_an_exit_review_warning_opens_a_recheck_once(personas: Personas, family: Family) -> None:
    decision = _approval(personas, family)
    now = timezone.now()
    run = MonitoringRun.objects.create(
        as_of=now.date(), engine="duckdb", mode="full", trigger="cli", pack="default"
    )
    Warning.objects.create(
        household=family.household,
        region_id=VILLAGE_A,
        assigned_region_id=VILLAGE_A,
        rule_id="enrolled_new_assets",
        rule_version=1,
        level="yellow",
        event_key="enrolled_new_assets:vehicle:赣C1",
        event_date=now.date(),
        explanation="低保户新登记小型汽车",
        run=run,
        raised_at=now,
        deadline_hours=72,
        due_at=now + datetime.timedelta(hours=72),
    )
    assert reviews_open_rechecks() == 1
    assert reviews_open_rechecks() == 0
    review = Review.objects.get(decision=decision)
    assert review.trigger == Review.Trigger.RECHECK and "新登记小型汽车" in review.reason
    call_command("applications", "reviews")


def test_a_wage_rise_in_the_social_insurance_file_opens_one_recheck(
    personas: Personas, family: Family, django_capture_on_commit_callbacks: Any
) -> None:
    decision = _approval(personas, family)
    today = timezone.localdate()

    def contributions(wage: int, months: int) -> None:
        periods = [add_months(today.replace(day=1), -k) for k in range(months, 0, -1)]
        with django_capture_on_commit_callbacks(execute=True):
            feed_import(
                feed_id="social_insurance_contribution",
                file_name=f"社保{wage}.csv",
                content=(
                    "id_number,period,scheme,wage_base,employer\n"
                    + "".join(f"{ID_SPOUSE},{p},employee_pension,{wage},某厂\n" for p in periods)
                ).encode(),
                actor=None,
                today=today,
            )

    # the spouse starts a job after the last check: 1 000 a month (nothing known before)
    contributions(1000, 2)
    assert reviews_open_rechecks(today=today) == 1
    review = Review.objects.get(decision=decision, outcome="")
    assert review.trigger == "recheck" and "1000" in review.reason
    # the round runs again: nothing new is opened while it is open
    assert reviews_open_rechecks(today=today) == 0
    # the re-check runs (the household stays eligible); the same data open nothing more
    review = review_run(actor=personas.town_officer, review=review, today=today)
    assert review.outcome == Review.Outcome.CONTINUE
    assert reviews_open_rechecks(today=today) == 0
    # a later month with a raise of under 10 % opens nothing; a real raise does
    with django_capture_on_commit_callbacks(execute=True):
        feed_import(
            feed_id="social_insurance_contribution",
            file_name="社保-加薪.csv",
            content=(
                "id_number,period,scheme,wage_base,employer\n"
                f"{ID_SPOUSE},{today.replace(day=1)},employee_pension,1050,某厂\n"
            ).encode(),
            actor=None,
            today=today,
        )
    assert reviews_open_rechecks(today=today + datetime.timedelta(days=1)) == 0
