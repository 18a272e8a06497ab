"""Issue 5's story, through the pages: a verified warning leads, on the household file,
to an assessment with its tier and colour, a plan within the entitlement (a stage cannot
be exceeded, a closed stage cannot be used), and the policies the household may qualify
for, with the reasons."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from django.test import Client
from django.utils import timezone

from jiuzhu.assessment.models import Assessment
from jiuzhu.monitoring.services import warning_verify
from jiuzhu.monitoring.snapshot import snapshot_write
from jiuzhu.policies.models import PolicyMatch
from jiuzhu.policies.services.matching import policies_install_defaults, policies_match_run
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services.models import EntitlementRule, PlanItem, ServiceItem, ServicePlan
from tests.assessment.conftest import family_answers, make_warning
from tests.conftest import COUNTY, Family, Personas, login


def test_from_a_verified_warning_to_assessment_plan_and_policies(
    personas: Personas, family: Family, tmp_path: Path
) -> None:
    # given: a medical-burden warning on the 低保 household, verified on a visit
    policies_install_defaults(county_code=COUNTY)
    warning = make_warning(family, verified=False)
    warning_verify(
        warning=warning,
        user=personas.village_assistant,
        visited_at=timezone.now() - datetime.timedelta(hours=2),
        findings="丈夫住院，妻子肢体二级残疾，家务无人料理",
        outcome="referred",
        need_summary="照料、心理疏导、医疗费用",
    )
    assistant = login(Client(), personas.village_assistant)
    household = family.household

    # when: the warning page leads to an assessment of severe needs in four dimensions
    warning_page = assistant.get(f"/warnings/{warning.pk}/").content.decode()
    assert f"/assessment/new/?household={household.pk}&amp;warning={warning.pk}" in warning_page
    answers = family_answers(
        "1",
        health_chronic="3",
        health_disability="3",
        health_medical_cost="3",
        care_selfcare="3",
        care_elderly="2",
        social_isolation="3",
        living_income="3",
        living_food="2",
        employment_status="3",
        health_mental="2",
        social_family="2",
        care_children="2",
    )
    response = assistant.post(
        "/assessment/new/",
        {
            **{f"a_{code}": value for code, value in answers.items()},
            "household": str(household.pk),
            "warning": str(warning.pk),
            "instrument": "family_needs",
        },
    )
    assert response.status_code == 302
    assessment = Assessment.objects.get(household=household)
    # then: the tier and colour follow the cut-offs (≥ 60 high/red)
    assert assessment.warning_id == warning.pk
    assert float(assessment.score) >= 60
    assert (assessment.tier, assessment.colour) == ("high", "red")
    assert "social_isolation" in assessment.needs and "living_utilities" not in assessment.needs

    # when: a plan within Dongsheng's 1 000 yuan a year in stages of 40/40/20
    dongsheng = EntitlementRule.objects.get(code="dongsheng_1000")
    response = assistant.post(
        "/services/plans/new/",
        {
            "assessment": assessment.pk,
            "rule": dongsheng.pk,
            "period_start": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    plan = ServicePlan.objects.get(household=household)

    def choose(code: str, quantity: str, stage: str, indicator: str) -> int:
        item = ServiceItem.objects.get(code=code)
        return assistant.post(
            f"/services/plans/{plan.pk}/items/",
            {
                "item": item.pk,
                "indicator": indicator,
                "quantity": quantity,
                "stage": stage,
                "chosen_by": "beneficiary",
            },
        ).status_code

    # then: 300 + 100 fill stage 1 (400); one yuan more is refused; stage 2 opens only now
    assert choose("festival_visit", "1", "1", "social_isolation") == 302
    assert choose("house_cleaning", "1", "1", "care_elderly") == 302
    assert choose("house_cleaning", "1", "1", "care_elderly") == 422
    assert choose("festival_visit", "1", "3", "social_isolation") == 422  # stage 3 is closed
    assert sorted(
        (p.stage, int(p.amount))
        for p in PlanItem.objects.filter(plan=plan, removed_at__isnull=True)
    ) == [(1, 100), (1, 300)]

    # when: the night's matching pass runs over the registry
    policies_match_run(as_of=timezone.localdate(), snapshot=snapshot_write(tmp_path / "snap"))

    # then: the household file shows all of it
    page = assistant.get(f"/households/{household.pk}/").content.decode()
    assert re.search(r"badge[^\"]*red", page)  # the red label of the high tier
    assert f"/assessment/{assessment.pk}/" in page
    assert f"/services/plans/{plan.pk}/" in page and "<progress" in page
    offer = PolicyMatch.objects.get(household=household, policy__code="severe_disability_care")
    assert offer.explanation in page  # the reasons: 户内有1名一、二级重度残疾人
    assert "重度残疾人护理补贴" in page
    kinds = set(TimelineEvent.objects.filter(household=household).values_list("kind", flat=True))
    assert {
        "monitoring.warning_verified",
        "assessment.assessed",
        "services.plan_created",
        "policies.may_qualify",
    } <= kinds
