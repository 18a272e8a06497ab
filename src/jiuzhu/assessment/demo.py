"""Demo assessments in the demo village, made through the real services by the demo
village assistant: one family per tier of the family instrument (the high one re-assessed
after a worse turn, so the file shows the change of tier) and the self-care assessment of
a 特困 member who can no longer do four of the six things (完全丧失生活自理能力)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from jiuzhu.accounts.models import User
from jiuzhu.assessment.models import Assessment
from jiuzhu.assessment.services import assessment_create
from jiuzhu.registry.models import Enrolment, Household, Person

# Answers (0–3 per indicator, in the instrument's order) that land in each tier.
PATTERNS = {
    # 39 of 60 points: 65.0 → high (red)
    "high": "32213232221322112221",
    # 20 of 60: 33.3 → medium (yellow)
    "medium": "21102121110211101110",
    # 5 of 60: 8.3 → low (blue)
    "low": "10001010000100001000",
}
FAMILY_CODES = [
    "living_income",
    "living_housing",
    "living_food",
    "living_utilities",
    "health_chronic",
    "health_disability",
    "health_medical_cost",
    "health_mental",
    "education_enrolment",
    "education_cost",
    "education_tutoring",
    "employment_status",
    "employment_skills",
    "employment_barriers",
    "social_family",
    "social_community",
    "social_isolation",
    "care_selfcare",
    "care_elderly",
    "care_children",
]
TEKUN = ("tekun_dispersed", "tekun_centralised")


def _answers(tier: str) -> dict[str, str]:
    return dict(zip(FAMILY_CODES, PATTERNS[tier], strict=True))


def _tekun_member(village: str, exclude: set[int]) -> Person | None:
    """A living member enrolled in 特困 (or of a household enrolled in it); else the
    oldest living person of the village."""
    for enrolment in Enrolment.objects.filter(
        household__region_id=village, category__in=TEKUN, status="active"
    ).select_related("person"):
        if enrolment.person is not None and not enrolment.person.is_deceased:
            return enrolment.person
        member = (
            Person.objects.filter(household_id=enrolment.household_id, is_deceased=False)
            .order_by("birth_date")
            .first()
        )
        if member is not None:
            return member
    return (
        Person.objects.filter(region_id=village, is_deceased=False)
        .exclude(household_id__in=exclude)
        .order_by("birth_date", "id")
        .first()
    )


def seed_demo(*, county_code: str) -> None:
    """Seed once: nothing if the demo village has assessments already, or if there is no
    demo village assistant in the county."""
    assistant = User.objects.filter(username="village_assistant").first()
    if assistant is None or not (assistant.region_id or "").startswith(county_code):
        return
    village = assistant.region_id or ""
    if Assessment.objects.filter(region_id=village).exists():
        return
    households = list(
        Household.objects.filter(region_id=village, member_count__gte=1, is_active=True)
        .annotate(income=Coalesce(Sum("incomes__annual_amount"), Decimal(0)))
        .annotate(per_capita=F("income") / F("member_count"))
        .order_by("per_capita", "id")
    )
    if len(households) < 3:
        return
    now = timezone.now()
    poorest, middle, richest = households[0], households[len(households) // 2], households[-1]

    def assess(household: Household, tier: str, days_ago: int, note: str) -> Assessment:
        return assessment_create(
            actor=assistant,
            household=household,
            instrument_code="family_needs",
            answers=_answers(tier),
            note=note,
            assessed_at=now - datetime.timedelta(days=days_ago),
        )

    assess(poorest, "medium", 120, "演示：首次入户评估，收入偏低，医疗负担较重。")
    assess(poorest, "high", 7, "演示：户主住院后复评，照料与医疗需求上升。")
    assess(middle, "medium", 30, "演示：孩子上学费用和就业技能需要支持。")
    assess(richest, "low", 20, "演示：家庭基本稳定，邻里关系需多关心。")
    person = _tekun_member(village, exclude={poorest.pk, middle.pk, richest.pk})
    if person is not None:
        assessment_create(
            actor=assistant,
            household=person.household,
            instrument_code="self_care_6",
            person=person,
            answers={
                "eating": "able",
                "dressing": "able",
                "transfer": "unable",
                "toileting": "unable",
                "walking": "unable",
                "bathing": "unable",
            },
            note="演示：上下床、如厕、室内行走和洗澡需他人帮助。",
            assessed_at=now - datetime.timedelta(days=10),
        )
