"""The demo seeding: one family per tier, a re-assessment, a self-care assessment of
four items unable, and nothing more on a second run."""

from __future__ import annotations

import datetime
from decimal import Decimal

from jiuzhu.accounts.roles import Role
from jiuzhu.assessment.demo import seed_demo
from jiuzhu.assessment.models import Assessment
from jiuzhu.registry import choices as c
from jiuzhu.registry.services import enrolment_start, household_create, person_create
from tests.conftest import COUNTY, VILLAGE_A, Family, make_user

IDS = ["362423194007210237", "362423196803210237", "362423198803150050"]


def test_seed_demo_runs_twice_without_duplicating(family: Family) -> None:
    # given: the demo assistant, three more households, one of them a 特困 elder
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
    # when
    seed_demo(county_code=COUNTY)
    first = Assessment.objects.count()
    seed_demo(county_code=COUNTY)
    # then
    assert first == Assessment.objects.count() == 5
    family_tiers = sorted(
        Assessment.objects.filter(person__isnull=True).values_list("tier", flat=True)
    )
    assert family_tiers == ["high", "low", "medium", "medium"]
    assert Assessment.objects.filter(previous__isnull=False, tier="high").count() == 1
    self_care = Assessment.objects.get(person__isnull=False)
    assert (self_care.tier, self_care.colour, self_care.score) == ("full", "red", Decimal(4))
    assert self_care.person.name == "张0"  # type: ignore[union-attr]
