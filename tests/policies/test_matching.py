"""Policies find people: a pass over the registry, the outreach tasks it leaves, and
applications started from them."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiuzhu.applications.models import Application
from jiuzhu.monitoring.snapshot import snapshot_write
from jiuzhu.policies.models import Policy, PolicyMatch
from jiuzhu.policies.services.matching import (
    policies_install_defaults,
    policies_match_run,
    policy_match_apply,
    policy_match_contact,
    policy_match_dismiss,
)
from jiuzhu.registry import choices as c
from jiuzhu.registry.models import Enrolment, TimelineEvent
from jiuzhu.registry.services import enrolment_end
from tests.conftest import COUNTY, Family, Personas

AS_OF = datetime.date(2026, 3, 2)


@pytest.fixture
def library(regions: None) -> None:
    policies_install_defaults(county_code=COUNTY)


def run(tmp_path: Path) -> None:
    snapshot = snapshot_write(tmp_path / f"snap{len(list(tmp_path.iterdir()))}")
    policies_match_run(as_of=AS_OF, snapshot=snapshot)


def matches_of(family: Family, kind: str = PolicyMatch.Kind.MAY_QUALIFY) -> dict[str, PolicyMatch]:
    return {
        m.policy.code: m
        for m in PolicyMatch.objects.filter(household=family.household, kind=kind).select_related(
            "policy"
        )
    }


def test_install_defaults_fills_the_county_library_once(library: None) -> None:
    count = Policy.objects.filter(region_id=COUNTY).count()
    assert count >= 35
    assert policies_install_defaults(county_code=COUNTY) == 0
    assert Policy.objects.filter(region_id=COUNTY).count() == count


def test_a_pass_finds_what_the_household_may_qualify_for_with_reasons_and_assigns_it(
    library: None, family: Family, personas: Personas, tmp_path: Path
) -> None:
    # given: a 低保 household (no recorded income) whose spouse has a grade-2 disability
    # when
    run(tmp_path)
    # then: the care subsidy for severe disability, with its reason, for the village assistant
    found = matches_of(family)
    care = found["severe_disability_care"]
    assert "1名一、二级重度残疾人" in care.explanation
    assert care.evidence == {"severely_disabled": 1}
    assert care.assigned_to == personas.village_assistant
    assert care.due_on is not None and care.due_on > AS_OF
    assert care.status == PolicyMatch.Status.OPEN
    # 低保 itself is not offered: the household has it and still qualifies
    assert "dibao" not in found
    assert not matches_of(family, PolicyMatch.Kind.NO_LONGER_ELIGIBLE)
    assert TimelineEvent.objects.filter(
        household=family.household,
        kind="policies.may_qualify",
        summary__contains="重度残疾人护理补贴",
    ).exists()


def test_a_second_pass_keeps_one_row_and_one_timeline_event(
    library: None, family: Family, personas: Personas, tmp_path: Path
) -> None:
    run(tmp_path)
    first = {m.pk for m in PolicyMatch.objects.all()}
    events = TimelineEvent.objects.filter(kind__startswith="policies.").count()
    run(tmp_path)
    assert {m.pk for m in PolicyMatch.objects.all()} == first
    assert TimelineEvent.objects.filter(kind__startswith="policies.").count() == events


def test_a_dismissed_task_stays_dismissed_and_a_vanished_one_is_gone(
    library: None, family: Family, personas: Personas, tmp_path: Path
) -> None:
    run(tmp_path)
    care = matches_of(family)["severe_disability_care"]
    disability = matches_of(family)["disability_living_subsidy"]
    policy_match_dismiss(
        actor=personas.village_assistant, match_row=care, reason="已在县残联领取护理补贴"
    )
    # when: the 低保 enrolment ends, so the disability living subsidy no longer fits
    enrolment = Enrolment.objects.get(household=family.household, category=c.Category.DIBAO)
    enrolment_end(
        actor=None, enrolment=enrolment, end_date=datetime.date(2026, 2, 28), reason="收入增加"
    )
    run(tmp_path)
    # then
    care.refresh_from_db()
    disability.refresh_from_db()
    assert care.status == PolicyMatch.Status.DISMISSED
    assert disability.status == PolicyMatch.Status.GONE
    # and now 低保 is offered again (no income recorded: the rule still holds)
    assert "dibao" in matches_of(family)


def test_an_enrolled_household_that_no_longer_qualifies_is_reported(
    library: None, family: Family, personas: Personas, tmp_path: Path
) -> None:
    from jiuzhu.registry.models import Asset

    # given: the 低保 household owns a car
    Asset.objects.create(household=family.household, kind=c.AssetKind.VEHICLE, value=80000)
    # when
    run(tmp_path)
    # then
    recheck = matches_of(family, PolicyMatch.Kind.NO_LONGER_ELIGIBLE)["dibao"]
    assert recheck.evidence["vehicle_value"] == 80000
    assert "复核" in recheck.explanation


def test_starting_an_application_from_a_match(
    library: None, family: Family, personas: Personas, tmp_path: Path
) -> None:
    # given: the household's 低保 has ended, so 低保 is offered
    enrolment = Enrolment.objects.get(household=family.household, category=c.Category.DIBAO)
    enrolment_end(actor=None, enrolment=enrolment, end_date=datetime.date(2026, 2, 28), reason="x")
    run(tmp_path)
    offer = matches_of(family)["dibao"]
    # when
    application = policy_match_apply(
        actor=personas.village_assistant, match_row=offer, applicant_id=family.head.pk
    )
    # then
    assert application.channel == Application.Channel.POLICY
    assert application.status == Application.Status.DRAFT
    assert "政策找人" in application.reason
    offer.refresh_from_db()
    assert offer.status == PolicyMatch.Status.APPLIED
    assert offer.application == application
    with pytest.raises(ValidationError):
        policy_match_apply(
            actor=personas.village_assistant, match_row=offer, applicant_id=family.head.pk
        )


def test_outreach_is_for_workers_of_the_area(
    library: None, family: Family, personas: Personas, tmp_path: Path
) -> None:
    run(tmp_path)
    care = matches_of(family)["severe_disability_care"]
    with pytest.raises(PermissionDenied):
        policy_match_contact(actor=personas.colleague, match_row=care, note="打过电话")
    with pytest.raises(PermissionDenied):
        policy_match_contact(actor=personas.supervisor, match_row=care, note="打过电话")
    with pytest.raises(ValidationError):
        policy_match_contact(actor=personas.village_assistant, match_row=care, note="  ")
    policy_match_contact(actor=personas.village_assistant, match_row=care, note="本人同意申请")
    care.refresh_from_db()
    assert care.status == PolicyMatch.Status.CONTACTED
    assert care.handled_by == personas.village_assistant


def test_a_policy_of_another_county_does_not_reach_this_county(
    regions: None, family: Family, personas: Personas, tmp_path: Path
) -> None:
    from jiuzhu.regions.models import Level, Region

    # given: only a neighbouring county has a library
    Region.objects.create(code="360824", name="新干县", level=Level.COUNTY, parent_id="3608")
    policies_install_defaults(county_code="360824")
    # when
    run(tmp_path)
    # then
    assert Policy.objects.filter(region_id="360824").exists()
    assert not PolicyMatch.objects.exists()
