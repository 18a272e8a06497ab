"""The demo seeding: Dongsheng-style plans for the demo village's assessed households,
made after the assessment app's demo, and nothing more on a second run."""

from __future__ import annotations

import datetime
from decimal import Decimal

from jiuzhu.accounts.roles import Role
from jiuzhu.assessment.demo import seed_demo as seed_assessments
from jiuzhu.registry import choices as c
from jiuzhu.registry.services import enrolment_start, household_create, person_create
from jiuzhu.services.demo import seed_demo
from jiuzhu.services.models import PlanItem, ServicePlan
from jiuzhu.services.services.plans import plan_stage_states
from tests.conftest import COUNTY, VILLAGE_A, Family, make_user

IDS = ["362423194007210237", "362423196803210237", "362423198803150050"]


def test_seed_demo_runs_twice_without_duplicating(family: Family) -> None:
    # given the demo assistant, the family (低保), a 特困 elder and two more households,
    # assessed by the assessment app's demo
    make_user("village_assistant", Role.VILLAGE_ASSISTANT, VILLAGE_A)
    for n, id_number in enumerate(IDS):
        household = household_create(actor=None, region_code=VILLAGE_A, address=f"{n}号")
        person = person_create(
            actor=None,
            household=household,
            name=f"张{n}",
            id_number=id_number,
            relationship=c.Relationship.HEAD,
        )
        if n == 0:
            enrolment_start(
                actor=None,
                household=household,
                person=person,
                category=c.Category.TEKUN_DISPERSED,
                start_date=datetime.date(2024, 1, 1),
                monthly_amount=Decimal("900"),
            )
    seed_assessments(county_code=COUNTY)
    # when
    seed_demo(county_code=COUNTY)
    plans = ServicePlan.objects.count()
    items = PlanItem.objects.count()
    seed_demo(county_code=COUNTY)
    # then the 低保 family and the 特困 elder have agreed Dongsheng plans; the others
    # (no needs, or in no group the entitlements are for) none
    assert plans == ServicePlan.objects.count() == 2
    assert items == PlanItem.objects.count()
    for plan in ServicePlan.objects.all():
        assert plan.status == "agreed" and plan.rule.code == "dongsheng_1000"
        chosen = {p.item.code: p for p in plan.items.all()}
        assert chosen["festival_visit"].amount == 300 and chosen["house_cleaning"].amount == 100
        states = plan_stage_states(plan, datetime.date.today())
        assert states[0].allocated == 400 and states[1].is_open
    family_plan = ServicePlan.objects.get(household=family.household)
    assert family_plan.items.filter(stage=2, item__code="rehab_massage").exists()
