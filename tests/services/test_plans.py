"""Service plans (一户一策): made from an assessment within an entitlement, proposals per
need, choices stage by stage (no stage exceeded, no closed stage used), the household's
agreement, the timeline, and the pages with their refusals and scoping."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.assessment.models import Assessment
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services import choices as c
from jiuzhu.services.models import PlanItem, ServicePlan
from jiuzhu.services.selectors import household_groups_of, proposals
from jiuzhu.services.services.entitlements import RuleFields, entitlement_rule_create
from jiuzhu.services.services.plans import (
    plan_agree,
    plan_close,
    plan_create,
    plan_item_add,
    plan_item_remove,
    plan_stage_states,
)
from tests.conftest import COUNTY, Family, Personas, login
from tests.services.conftest import START, assess, dongsheng_plan, item, rule

TODAY = datetime.date(2026, 3, 1)  # within the plans' first year


def _add(personas: Personas, plan: ServicePlan, code: str, quantity: Any, stage: int) -> PlanItem:
    return plan_item_add(
        actor=personas.village_assistant,
        plan=plan,
        item=item(code),
        quantity=quantity,
        stage=stage,
        today=TODAY,
    )


def test_a_plan_takes_the_entitlement_for_the_household(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    # when
    plan = dongsheng_plan(personas, assessed)
    # then the terms are copied from the rule, for a year
    assert plan.total == Decimal(1000) and plan.unit == "yuan"
    assert plan.shares == [40, 40, 20] and plan.opening == "previous_full"
    assert plan.period_end == datetime.date(2026, 12, 31)
    assert plan.status == c.PlanStatus.DRAFT and plan.region_id == family.household.region_id
    assert [s.cap for s in plan_stage_states(plan, TODAY)] == [400, 400, 200]
    # and it is on the household timeline and audited
    event = TimelineEvent.objects.get(household=family.household, kind="services.plan_created")
    assert "1000" in event.summary
    assert AuditEvent.objects.filter(object_type="services.plan", action="create").exists()


def test_the_dongsheng_story_stage_by_stage(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    # given 1 000 yuan a year in stages of 40/40/20, the second opening when the first is full
    plan = dongsheng_plan(personas, assessed)
    # when the first 40 % goes to a festival visit (300) and a whole-house cleaning (100)
    _add(personas, plan, "festival_visit", 1, 1)
    with pytest.raises(ValidationError) as refused:
        _add(personas, plan, "rehab_massage", 1, 2)  # stage 2 is not open yet
    assert "Stage 2 is not open yet" in str(refused.value)
    _add(personas, plan, "house_cleaning", 1, 1)
    # then stage 1 is full and stage 2 opens: massage therapy there
    states = plan_stage_states(plan, TODAY)
    assert states[0].is_full and states[1].is_open and not states[2].is_open
    _add(personas, plan, "rehab_massage", 5, 2)
    # stage 1 has nothing left: one yuan more is refused, with the figures
    with pytest.raises(ValidationError) as refused:
        _add(personas, plan, "phone_greeting", 1, 1)
    message = refused.value.message_dict["stage"][0]
    assert "stage 1 (400 yuan)" in message and "0 yuan remain" in message
    assert sum(p.charge for p in PlanItem.objects.filter(plan=plan)) == Decimal(800)


def test_a_stage_is_never_exceeded_by_one_yuan(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    # given stage 1 holds 300 of its 400
    plan = dongsheng_plan(personas, assessed)
    _add(personas, plan, "festival_visit", 1, 1)
    # when 101 yuan more are asked for (a 5-yuan phone greeting × 21 = 105; × 20 = 100)
    with pytest.raises(ValidationError) as refused:
        _add(personas, plan, "phone_greeting", 21, 1)
    # then refused with what remains, and nothing saved
    assert "100 yuan remain" in refused.value.message_dict["stage"][0]
    assert PlanItem.objects.filter(plan=plan).count() == 1
    # and exactly what remains fits
    _add(personas, plan, "phone_greeting", 20, 1)
    assert plan_stage_states(plan, TODAY)[0].remaining == 0


def test_stages_opening_by_months(personas: Personas, family: Family, assessed: Assessment) -> None:
    # given a county's rule: 1 200 yuan, three stages opening at 0, 4 and 8 months
    county_rule = entitlement_rule_create(
        actor=personas.county_admin,
        region_code=COUNTY,
        code="county_thirds",
        fields=RuleFields(
            name_zh="县服务包",
            unit="yuan",
            period="year",
            amounts={"*": "1200"},
            shares=["40", "40", "20"],
            opening="months",
            open_after_months=["0", "4", "8"],
            valid_from=datetime.date(2025, 1, 1),
        ),
    )
    plan = plan_create(
        actor=personas.village_assistant, assessment=assessed, rule=county_rule, period_start=START
    )
    # when stage 2 is asked for before May
    with pytest.raises(ValidationError) as refused:
        plan_item_add(
            actor=personas.village_assistant,
            plan=plan,
            item=item("festival_visit"),
            quantity=1,
            stage=2,
            today=datetime.date(2026, 4, 30),
        )
    assert "opens on 2026-05-01" in str(refused.value)
    # then from May it is open even though stage 1 is empty
    plan_item_add(
        actor=personas.village_assistant,
        plan=plan,
        item=item("festival_visit"),
        quantity=1,
        stage=2,
        today=datetime.date(2026, 5, 1),
    )


def test_hours_of_home_care_by_tier(personas: Personas, family: Family) -> None:
    # given a household assessed high (red): Licang gives 60 hours a month
    high = assess(personas.village_assistant, family.household, level="3")
    assert high.tier == "high"
    plan = plan_create(
        actor=personas.village_assistant,
        assessment=high,
        rule=rule("licang_home_care"),
        period_start=START,
    )
    assert plan.total == 60 and plan.unit == "hours"
    # when 50 hours of home care and 4 baths (1.5 h each = 6 h) are chosen
    _add(personas, plan, "home_care_hour", 50, 1)
    chosen = _add(personas, plan, "bathing", 4, 1)
    assert chosen.charge == 6 and chosen.amount == 240  # hours charged, yuan recorded
    # then 4 hours remain: 5 more hours are refused
    with pytest.raises(ValidationError) as refused:
        _add(personas, plan, "home_care_hour", 5, 1)
    assert "4 hours remain" in refused.value.message_dict["stage"][0]


def test_a_medium_tier_gets_45_hours(personas: Personas, family: Family) -> None:
    medium = assess(personas.village_assistant, family.household, level="1")
    assert medium.tier == "medium"
    plan = plan_create(
        actor=personas.village_assistant,
        assessment=medium,
        rule=rule("licang_home_care"),
        period_start=START,
    )
    assert plan.total == 45


def test_proposals_follow_the_needs_and_the_household(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    # given needs: loneliness, the home environment, caring for the elderly
    plan = dongsheng_plan(personas, assessed)
    groups = household_groups_of(family.household.pk, day=TODAY)
    assert {"dibao", "elderly", "children", "disabled", "severe_disability", "ill"} <= groups
    # when
    rows = {p.indicator: p for p in proposals(plan=plan, groups=groups, chosen_indicators=set())}
    # then one row per need, in the instrument's order, with items that address it
    assert list(rows) == ["living_utilities", "social_isolation", "care_elderly"]
    assert rows["social_isolation"].indicator_label == "孤独与精神慰藉"
    codes = {i.code for i in rows["social_isolation"].items}
    assert {"festival_visit", "counselling", "home_visit"} <= codes
    assert all("social_isolation" in i.indicators for i in rows["social_isolation"].items)
    assert "house_cleaning" in {i.code for i in rows["living_utilities"].items}
    assert "safety_device" in {i.code for i in rows["care_elderly"].items}


def test_items_for_other_groups_are_refused(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    # given a 低保 household with no child without care
    plan = dongsheng_plan(personas, assessed)
    # when a county item only for children without care is chosen
    from jiuzhu.services.services.catalogue import ItemFields, service_item_create

    orphan_only = service_item_create(
        actor=personas.county_admin,
        region_code=COUNTY,
        code="orphan_camp",
        fields=ItemFields(
            name_zh="孤儿夏令营",
            category="caring_support",
            tier="development",
            unit="time",
            price="100",
            target_groups=["unsupported_child"],
            indicators=["care_children"],
            steps=[("报名", "")],
        ),
    )
    with pytest.raises(ValidationError) as refused:
        plan_item_add(actor=personas.village_assistant, plan=plan, item=orphan_only, quantity=1)
    assert "item" in refused.value.message_dict


def test_agreement_closing_and_the_timeline(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    plan = dongsheng_plan(personas, assessed)
    # a plan with nothing chosen cannot be agreed
    with pytest.raises(ValidationError):
        plan_agree(actor=personas.village_assistant, plan=plan, person=family.head, how="in_person")
    chosen = _add(personas, plan, "festival_visit", 1, 1)
    # when the head agrees by phone
    plan = plan_agree(actor=personas.village_assistant, plan=plan, person=family.head, how="phone")
    # then
    assert plan.status == c.PlanStatus.AGREED and plan.agreed_by == family.head
    assert plan.agreed_how == "phone" and plan.agreement_recorded_by == personas.village_assistant
    kinds = list(
        TimelineEvent.objects.filter(household=family.household, source="services").values_list(
            "kind", flat=True
        )
    )
    assert kinds == ["services.plan_created", "services.plan_changed", "services.plan_agreed"]
    agreed = TimelineEvent.objects.get(kind="services.plan_agreed")
    assert "王*国" in agreed.summary and "王建国" not in agreed.summary
    # an agreed plan still takes choices for later stages; a removal keeps the row
    plan_item_remove(actor=personas.village_assistant, plan_item=chosen, reason="改选")
    chosen.refresh_from_db()
    assert chosen.removed_at is not None
    assert plan_stage_states(plan, TODAY)[0].allocated == 0
    # closing: then nothing more can be chosen, and a new plan can be made
    plan_close(actor=personas.village_assistant, plan=plan, reason="年度结束")
    with pytest.raises(ValidationError):
        _add(personas, plan, "festival_visit", 1, 1)
    again = dongsheng_plan(personas, assessed)
    assert again.pk != plan.pk


def test_one_current_plan_a_household(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    dongsheng_plan(personas, assessed)
    with pytest.raises(ValidationError):
        dongsheng_plan(personas, assessed)
    assert ServicePlan.objects.filter(household=family.household).count() == 1


def test_rules_that_do_not_fit_are_refused(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    # the family (low/medium tier) is not assessed high: Licang gives "low" nothing
    low = assess(personas.village_assistant, family.household, level="0")
    assert low.tier == "low"
    with pytest.raises(ValidationError) as refused:
        plan_create(
            actor=personas.village_assistant,
            assessment=low,
            rule=rule("licang_home_care"),
            period_start=START,
        )
    assert "rule" in refused.value.message_dict


def test_only_workers_of_the_area_make_and_change_plans(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    for outsider in (personas.colleague, personas.other_town_officer, personas.supervisor):
        with pytest.raises(PermissionDenied):
            plan_create(
                actor=outsider, assessment=assessed, rule=rule("dongsheng_1000"), period_start=START
            )
    plan = dongsheng_plan(personas, assessed)
    with pytest.raises(PermissionDenied):
        plan_item_add(actor=personas.colleague, plan=plan, item=item("festival_visit"), quantity=1)
    assert not PlanItem.objects.exists()


def test_an_edited_price_does_not_change_a_plan(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    plan = dongsheng_plan(personas, assessed)
    chosen = _add(personas, plan, "festival_visit", 1, 1)
    from jiuzhu.services.models import ServiceItem

    ServiceItem.objects.filter(code="festival_visit").update(price=Decimal(350))
    chosen.refresh_from_db()
    assert chosen.unit_price == 300 and chosen.amount == 300


# --- pages -----------------------------------------------------------------------------------


def test_from_the_household_file_to_an_agreed_plan(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    client = login(Client(), personas.village_assistant)
    # the household file offers a plan from the assessment
    file_page = client.get(f"/households/{family.household.pk}/").content.decode()
    assert f"/services/plans/new/?assessment={assessed.pk}" in file_page
    form = client.get(f"/services/plans/new/?assessment={assessed.pk}")
    assert form.status_code == 200 and "服务类救助（每人每年1000元）" in form.content.decode()
    # when the plan is made
    response = client.post(
        "/services/plans/new/",
        {
            "assessment": assessed.pk,
            "rule": rule("dongsheng_1000").pk,
            "period_start": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    plan = ServicePlan.objects.get(household=family.household)
    page = client.get(f"/services/plans/{plan.pk}/").content.decode()
    # then the proposals show per need
    assert "孤独与精神慰藉" in page and "节日慰问" in page
    # choose the festival visit for the loneliness need
    response = client.post(
        f"/services/plans/{plan.pk}/items/",
        {
            "item": item("festival_visit").pk,
            "indicator": "social_isolation",
            "quantity": "1",
            "stage": "1",
            "chosen_by": "beneficiary",
        },
    )
    assert response.status_code == 302
    chosen = PlanItem.objects.get(plan=plan)
    assert chosen.indicator == "social_isolation" and chosen.chosen_by == "beneficiary"
    # agree
    response = client.post(
        f"/services/plans/{plan.pk}/agree/", {"person": family.head.pk, "how": "in_person"}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "agreed"
    # the household file shows the plan with its stage bars
    file_page = client.get(f"/households/{family.household.pk}/").content.decode()
    assert f"/services/plans/{plan.pk}/" in file_page and "<progress" in file_page


def test_a_refused_choice_is_422_with_the_input_kept(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    plan = dongsheng_plan(personas, assessed)
    client = login(Client(), personas.village_assistant)
    # when 2 festival visits (600 yuan) are asked for in stage 1 (400)
    response = client.post(
        f"/services/plans/{plan.pk}/items/",
        {
            "item": item("festival_visit").pk,
            "indicator": "social_isolation",
            "quantity": "2",
            "stage": "1",
            "chosen_by": "beneficiary",
        },
    )
    # then
    assert response.status_code == 422
    body = response.content.decode()
    assert "400 yuan" in body and "600 yuan" in body
    assert 'name="quantity" value="2"' in body
    assert not PlanItem.objects.exists()
    # and a closed stage
    response = client.post(
        f"/services/plans/{plan.pk}/items/",
        {"item": item("counselling").pk, "other": "1", "quantity": "1", "stage": "3",
         "chosen_by": "worker", "note": "自己要求"},
    )  # fmt: skip
    assert response.status_code == 422
    body = response.content.decode()
    assert "Stage 3 is not open yet" in body and 'value="自己要求"' in body


def test_plan_pages_are_404_outside_the_area(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    plan = dongsheng_plan(personas, assessed)
    for user in (personas.village_assistant, personas.town_officer, personas.county_admin):
        assert login(Client(), user).get(f"/services/plans/{plan.pk}/").status_code == 200
    for outsider in (personas.colleague, personas.other_town_officer, personas.provider):
        client = login(Client(), outsider)
        assert client.get(f"/services/plans/{plan.pk}/").status_code == 404
        assert client.get(f"/services/plans/new/?assessment={assessed.pk}").status_code == 404
        response = client.post(
            f"/services/plans/{plan.pk}/items/",
            {"item": item("festival_visit").pk, "quantity": "1", "chosen_by": "worker"},
        )
        assert response.status_code == 404
    assert not PlanItem.objects.exists()
    # the supervisor reads but does not change
    supervisor = login(Client(), personas.supervisor)
    page = supervisor.get(f"/services/plans/{plan.pk}/").content.decode()
    assert "/items/" not in page
    response = supervisor.post(
        f"/services/plans/{plan.pk}/items/",
        {"item": item("festival_visit").pk, "quantity": "1", "chosen_by": "worker"},
    )
    assert response.status_code == 422
    assert not PlanItem.objects.exists()


def test_the_plan_page_shows_no_id_or_phone_numbers(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    plan = dongsheng_plan(personas, assessed)
    body = login(Client(), personas.county_admin).get(f"/services/plans/{plan.pk}/").content
    text = body.decode()
    for secret in ("王建国", "李秀英", family.head.id_number_masked, family.head.phone_masked):
        assert secret not in text
