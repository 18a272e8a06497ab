"""Demo service plans in the demo village, made through the real services by the demo
village assistant, from the assessments the assessment app's demo made (run it first).

Dongsheng's story for each assessed household the 1 000-yuan entitlement fits: the first
40 % chosen as a 300-yuan festival visit and a 100-yuan whole-house cleaning, agreed by
the head in person; for the household in the highest tier the second stage, now open,
starts with massage therapy. A household the yuan entitlement does not fit but whose
tier earns Licang's home-care hours gets a month of home care and baths instead.
Idempotent: a household that has a plan is left alone."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from jiuzhu.accounts.models import User
from jiuzhu.assessment.models import Assessment
from jiuzhu.registry.models import Person
from jiuzhu.services.models import EntitlementRule, ServiceItem, ServicePlan
from jiuzhu.services.selectors import household_groups_of
from jiuzhu.services.services.plans import plan_agree, plan_create, plan_item_add, rule_refusal

# (item code, quantity, stage) chosen under each default entitlement
CHOICES = {
    "dongsheng_1000": [("festival_visit", 1, 1), ("house_cleaning", 1, 1)],
    "licang_home_care": [("home_care_hour", 30, 1), ("bathing", 4, 1)],  # 36 of 45 h
}
SECOND_STAGE = [("rehab_massage", 3, 2)]  # the reddest household goes on to stage 2


def _newest_per_household(village: str) -> list[Assessment]:
    newest: dict[int, Assessment] = {}
    for assessment in (
        Assessment.objects.filter(region_id=village)
        .exclude(needs=[])
        .select_related("instrument_version__instrument")
        .order_by("-assessed_at", "-id")
    ):
        newest.setdefault(assessment.household_id, assessment)
    return sorted(newest.values(), key=lambda a: (-a.score, a.household_id))


def _agreeing_member(household_id: int) -> Person | None:
    members = Person.objects.filter(household_id=household_id, is_deceased=False)
    return members.filter(relationship="head").first() or members.order_by("birth_date").first()


def seed_demo(*, county_code: str) -> None:
    assistant = User.objects.filter(username="village_assistant").first()
    if assistant is None or not (assistant.region_id or "").startswith(county_code):
        return
    village = assistant.region_id or ""
    today = timezone.localdate()
    start = datetime.date(today.year, 1, 1)
    rules = [EntitlementRule.objects.filter(code=code).first() for code in CHOICES]
    items = {i.code: i for i in ServiceItem.objects.filter(is_active=True)}
    first = True
    for assessment in _newest_per_household(village):
        if ServicePlan.objects.filter(household_id=assessment.household_id).exists():
            first = False
            continue
        groups = household_groups_of(assessment.household_id, day=start)
        rule = next(
            (
                r
                for r in rules
                if r is not None
                and rule_refusal(r, assessment=assessment, groups=groups, day=start) is None
            ),
            None,
        )
        if rule is None:
            continue
        plan = plan_create(
            actor=assistant,
            assessment=assessment,
            rule=rule,
            period_start=start,
            note="演示：入户与户主一起选择服务。",
        )
        choices = list(CHOICES[rule.code])
        if first and rule.code == "dongsheng_1000":
            choices += SECOND_STAGE
        for code, quantity, stage in choices:
            if code not in items:
                continue
            try:
                plan_item_add(
                    actor=assistant,
                    plan=plan,
                    item=items[code],
                    quantity=quantity,
                    stage=stage,
                    chosen_by="beneficiary",
                )
            except ValidationError:  # a county changed the catalogue: leave that choice
                continue
        person = _agreeing_member(assessment.household_id)
        if person is not None:
            plan_agree(actor=assistant, plan=plan, person=person, how="in_person")
        first = False
