from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.registry import choices as c
from jiuzhu.registry.models import Enrolment, TimelineEvent
from jiuzhu.registry.selectors import household_file_get
from jiuzhu.registry.services import (
    enrolment_end,
    household_create,
    person_create,
    person_update,
)
from jiuzhu.registry.timeline import timeline_add
from tests.conftest import ID_HEAD, VILLAGE_A, VILLAGE_B, Family, Personas


def test_a_change_is_audited_old_to_new_with_phone_masked(
    personas: Personas, family: Family
) -> None:
    # when
    person_update(
        actor=personas.village_assistant,
        person=family.spouse,
        health=c.Health.SERIOUS,
        phone="13907960002",
    )
    # then
    event = AuditEvent.objects.filter(action="update").latest("id")
    assert event.actor == personas.village_assistant
    assert event.detail["changes"]["health"] == ["healthy", "serious"]
    assert event.detail["changes"]["phone"] == ["", "139****0002"]
    assert "13907960002" not in str(event.detail)
    assert TimelineEvent.objects.filter(kind="registry.member_changed").exists()


def test_an_unchanged_update_writes_nothing(personas: Personas, family: Family) -> None:
    before = AuditEvent.objects.count()
    person_update(actor=personas.village_assistant, person=family.head, health=family.head.health)
    assert AuditEvent.objects.count() == before


def test_a_colleague_cannot_change_another_village(personas: Personas, family: Family) -> None:
    with pytest.raises(PermissionDenied):
        person_update(actor=personas.colleague, person=family.head, health=c.Health.SERIOUS)
    with pytest.raises(PermissionDenied):
        household_create(actor=personas.colleague, region_code=VILLAGE_A)
    with pytest.raises(PermissionDenied):
        household_create(actor=personas.supervisor, region_code=VILLAGE_A)


def test_a_person_is_registered_once(personas: Personas, family: Family) -> None:
    other = household_create(actor=personas.town_officer, region_code=VILLAGE_B)
    with pytest.raises(ValidationError, match="该身份证号码已登记"):
        person_create(
            actor=personas.town_officer,
            household=other,
            name="王建国",
            id_number=ID_HEAD,
            relationship=c.Relationship.HEAD,
        )


def test_households_belong_to_villages(personas: Personas, regions: None) -> None:
    with pytest.raises(ValidationError):
        household_create(actor=personas.town_officer, region_code="360823100")


def test_household_numbers_run_per_village(personas: Personas, family: Family) -> None:
    second = household_create(actor=personas.town_officer, region_code=VILLAGE_A)
    assert family.household.number == f"{VILLAGE_A}-00001"
    assert second.number == f"{VILLAGE_A}-00002"


def test_head_and_member_count_follow_the_members(family: Family) -> None:
    assert family.household.head_name == "王建国"
    assert family.household.member_count == 3


def test_ending_an_enrolment_keeps_its_history(personas: Personas, family: Family) -> None:
    # given
    enrolment = Enrolment.objects.get(household=family.household)
    # when
    enrolment_end(
        actor=personas.town_officer,
        enrolment=enrolment,
        end_date=datetime.date(2025, 6, 30),
        reason="家庭收入超过低保标准",
    )
    # then
    file = household_file_get(user=personas.town_officer, household_id=family.household.pk)
    assert [(e.category, e.status) for e in file.enrolments] == [("dibao", "ended")]
    dated = [
        (timezone.localtime(t.occurred_at).date(), t.kind)
        for t in file.timeline
        if t.kind.startswith("registry.enrol")
    ]
    # newest first, dated when it happened rather than when it was recorded
    assert dated == [
        (datetime.date(2025, 6, 30), "registry.enrolment_ended"),
        (datetime.date(2024, 3, 1), "registry.enrolled"),
    ]


def test_ending_needs_a_reason_and_a_sensible_date(personas: Personas, family: Family) -> None:
    enrolment = Enrolment.objects.get(household=family.household)
    with pytest.raises(ValidationError):
        enrolment_end(
            actor=personas.town_officer,
            enrolment=enrolment,
            end_date=datetime.date(2025, 6, 30),
            reason=" ",
        )
    with pytest.raises(ValidationError):
        enrolment_end(
            actor=personas.town_officer,
            enrolment=enrolment,
            end_date=datetime.date(2020, 1, 1),
            reason="x",
        )


def test_self_care_level_follows_the_six_items(family: Family) -> None:
    person = family.head
    assert person.self_care == c.SelfCare.ABLE
    person.can_bathe = False
    assert person.self_care == c.SelfCare.PARTIAL
    person.can_eat = person.can_dress = person.can_transfer = False
    assert person.self_care == c.SelfCare.UNABLE


def test_other_apps_add_to_the_timeline_through_the_interface(family: Family) -> None:
    # when
    timeline_add(
        household_id=family.household.pk,
        kind="monitoring.warning_raised",
        summary="医疗支出预警（红色）",
        detail={"level": "red"},
        occurred_at=datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC),
    )
    # then
    event = TimelineEvent.objects.get(kind="monitoring.warning_raised")
    assert event.source == "monitoring"
    with pytest.raises(ValueError):
        timeline_add(household_id=family.household.pk, kind="no-dot", summary="x")
