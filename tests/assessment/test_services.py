"""Instruments and assessments through the services: defaults, versions, copies,
assessments with history, the timeline, refusals and scoping."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone, translation

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.accounts.roles import Role
from jiuzhu.assessment.models import Assessment, Instrument, InstrumentVersion
from jiuzhu.assessment.selectors import (
    assessment_get,
    assessments_of_household,
    assessments_visible,
    indicator_labels,
    instrument_for,
    latest_assessment,
    latest_version,
)
from jiuzhu.assessment.services import (
    assessment_create,
    instrument_copy,
    instrument_version_create,
    instruments_install_defaults,
)
from jiuzhu.monitoring.models import Warning
from jiuzhu.registry.models import HouseholdAssignment, TimelineEvent
from tests.assessment.conftest import family_answers, make_warning, self_care_answers
from tests.conftest import COUNTY, VILLAGE_A, Family, Personas, make_user


def _national(code: str) -> Instrument:
    return Instrument.objects.get(code=code, region__isnull=True)


@pytest.mark.django_db
def test_the_defaults_exist_on_a_fresh_database_and_installing_again_adds_nothing() -> None:
    # given: the data migration ran
    # when
    created = instruments_install_defaults()
    # then
    assert created == 0
    assert set(Instrument.objects.values_list("code", flat=True)) == {
        "family_needs",
        "self_care_6",
    }
    assert InstrumentVersion.objects.count() == 2
    labels = indicator_labels(latest_version(_national("family_needs")))  # type: ignore[arg-type]
    assert labels["living_income"] == ("生活保障", "收入能否维持基本生活")
    assert len(labels) == 20


def test_an_assessment_records_score_tier_colour_needs_and_version(
    personas: Personas, family: Family
) -> None:
    # given
    answers = family_answers("3", living_income="3", education_cost="0")
    # when
    assessment = assessment_create(
        actor=personas.village_assistant,
        household=family.household,
        instrument_code="family_needs",
        answers=answers,
        note="入户评估",
    )
    # then
    assert assessment.tier == "high"
    assert assessment.colour == "red"
    assert assessment.score == Decimal("95.0")  # 57 of 60 points
    assert "education_cost" not in assessment.needs
    assert assessment.needs[0] == "living_income"
    assert len(assessment.needs) == 19
    assert assessment.instrument_version.number == 1
    assert assessment.assessed_by == personas.village_assistant
    assert assessment.region_id == VILLAGE_A
    assert assessment.person is None
    assert AuditEvent.objects.filter(
        object_type="assessment.assessment", object_id=str(assessment.pk)
    ).exists()


def test_reassessment_keeps_history_and_the_timeline_shows_each(
    personas: Personas, family: Family
) -> None:
    # given
    with translation.override("en"):
        first = assessment_create(
            actor=personas.village_assistant,
            household=family.household,
            instrument_code="family_needs",
            answers=family_answers("1"),
            assessed_at=timezone.now() - datetime.timedelta(days=30),
        )
    # when
    with translation.override("en"):
        second = assessment_create(
            actor=personas.town_officer,
            household=family.household,
            instrument_code="family_needs",
            answers=family_answers("3"),
        )
    # then
    assert (first.tier, second.tier) == ("medium", "high")
    assert second.previous == first
    assert first.previous is None
    assert latest_assessment(household_id=family.household.pk, instrument_code="family_needs") == (
        second
    )
    events = TimelineEvent.objects.filter(
        household=family.household, kind="assessment.assessed"
    ).order_by("occurred_at")
    assert [e.summary for e in events] == [
        "Needs assessment: 中 (yellow) · 家庭需求评估 v1",
        "Needs assessment: 高 (red) · 家庭需求评估 v1",
    ]
    assert events[1].detail["previous_tier"] == "medium"
    assert events[1].object_id == str(second.pk)


def test_the_self_care_instrument_assesses_one_member(personas: Personas, family: Family) -> None:
    # given
    answers = self_care_answers(4)
    # when
    full = assessment_create(
        actor=personas.village_assistant,
        household=family.household,
        instrument_code="self_care_6",
        person=family.spouse,
        answers=answers,
    )
    other = assessment_create(
        actor=personas.village_assistant,
        household=family.household,
        instrument_code="self_care_6",
        person=family.head,
        answers=self_care_answers(0),
    )
    # then
    assert (full.tier, full.colour, full.score) == ("full", "red", Decimal(4))
    assert full.needs == ["eating", "dressing", "transfer", "toileting"]
    assert full.person == family.spouse
    assert other.previous is None  # another person: not a re-assessment
    assert TimelineEvent.objects.filter(kind="assessment.assessed").count() == 2


def test_a_person_instrument_needs_a_member_of_the_household(
    personas: Personas, family: Family
) -> None:
    # given
    answers = self_care_answers(1)
    # when
    with pytest.raises(ValidationError) as nobody:
        assessment_create(
            actor=personas.village_assistant,
            household=family.household,
            instrument_code="self_care_6",
            answers=answers,
        )
    family.child.is_deceased = True
    family.child.save()
    with pytest.raises(ValidationError) as deceased:
        assessment_create(
            actor=personas.village_assistant,
            household=family.household,
            instrument_code="self_care_6",
            answers=answers,
            person=family.child,
        )
    # then
    assert "person" in nobody.value.message_dict
    assert "person" in deceased.value.message_dict
    assert not Assessment.objects.exists()


def test_missing_or_unknown_answers_save_nothing(personas: Personas, family: Family) -> None:
    # given
    answers = family_answers("1")
    del answers["care_children"]
    answers["living_food"] = "9"
    # when
    with pytest.raises(ValidationError) as refused:
        assessment_create(
            actor=personas.village_assistant,
            household=family.household,
            instrument_code="family_needs",
            answers=answers,
        )
    # then
    assert set(refused.value.message_dict) == {"care_children", "living_food"}
    assert not Assessment.objects.exists()
    assert not TimelineEvent.objects.filter(kind="assessment.assessed").exists()


def test_a_verified_warning_starts_an_assessment_that_records_it(
    personas: Personas, family: Family
) -> None:
    # given
    open_warning = make_warning(family, verified=False)
    # when
    with pytest.raises(ValidationError):
        assessment_create(
            actor=personas.village_assistant,
            household=family.household,
            instrument_code="family_needs",
            answers=family_answers("2"),
            warning=open_warning,
        )
    Warning.objects.filter(pk=open_warning.pk).update(status=Warning.Status.CLOSED)
    open_warning.refresh_from_db()
    assessment = assessment_create(
        actor=personas.village_assistant,
        household=family.household,
        instrument_code="family_needs",
        answers=family_answers("2"),
        warning=open_warning,
    )
    # then
    assert assessment.warning == open_warning
    event = TimelineEvent.objects.get(kind="assessment.assessed")
    assert event.object_type == "assessment.assessment"
    assert "高" in event.summary


def test_editing_makes_version_2_and_old_assessments_keep_version_1(
    personas: Personas, family: Family
) -> None:
    # given: the county's own copy of the family instrument, and one assessment with it
    county_copy = instrument_copy(actor=personas.county_admin, instrument=_national("family_needs"))
    before = assessment_create(
        actor=personas.village_assistant,
        household=family.household,
        instrument_code="family_needs",
        answers=family_answers("2"),
    )
    definition = json.loads(json.dumps(latest_version(county_copy).definition))  # type: ignore[union-attr]
    definition["tiers"][0]["min_score"] = 70
    # when
    v2 = instrument_version_create(
        actor=personas.county_admin,
        instrument=county_copy,
        definition=json.dumps(definition, ensure_ascii=False),
        reason="县里提高红色档门槛",
    )
    after = assessment_create(
        actor=personas.village_assistant,
        household=family.household,
        instrument_code="family_needs",
        answers=family_answers("2"),
    )
    # then
    before.refresh_from_db()
    assert before.instrument_version.instrument == county_copy
    assert before.instrument_version.number == 1
    assert before.tier == "high"  # 66.7 ≥ 60 under v1
    assert (v2.number, v2.created_by, v2.reason) == (2, personas.county_admin, "县里提高红色档门槛")
    assert after.instrument_version == v2
    assert after.tier == "medium"  # 66.7 < 70 under v2
    assert after.previous == before
    audit = AuditEvent.objects.filter(object_type="assessment.instrument", action="update").get()
    assert audit.detail["version"] == "1 → 2"
    assert audit.detail["changes"][0]["field"] == "min_score"


def test_a_county_copy_replaces_the_national_instrument_in_that_county_only(
    personas: Personas,
) -> None:
    # given
    national = _national("family_needs")
    # when
    county_copy = instrument_copy(actor=personas.county_admin, instrument=national)
    # then
    assert county_copy.region_id == COUNTY
    assert county_copy.copied_from == national
    assert instrument_for(code="family_needs", region_code=VILLAGE_A) == county_copy
    assert instrument_for(code="family_needs", region_code="360824100201") == national
    with pytest.raises(ValidationError):
        instrument_copy(actor=personas.county_admin, instrument=national)


def test_a_county_admin_may_not_edit_the_national_instrument(personas: Personas) -> None:
    # given
    national = _national("family_needs")
    # when / then
    with pytest.raises(PermissionDenied):
        instrument_version_create(
            actor=personas.county_admin,
            instrument=national,
            definition=latest_version(national).definition,  # type: ignore[union-attr]
            reason="x",
        )
    with pytest.raises(PermissionDenied):
        instrument_copy(actor=personas.town_officer, instrument=national)


def test_a_bad_definition_or_no_reason_saves_no_version(personas: Personas) -> None:
    # given
    county_copy = instrument_copy(actor=personas.county_admin, instrument=_national("self_care_6"))
    definition = json.loads(json.dumps(latest_version(county_copy).definition))  # type: ignore[union-attr]
    definition["tiers"][0]["colour"] = ""
    # when
    with pytest.raises(ValidationError) as refused:
        instrument_version_create(
            actor=personas.county_admin, instrument=county_copy, definition=definition, reason=""
        )
    with pytest.raises(ValidationError) as not_json:
        instrument_version_create(
            actor=personas.county_admin, instrument=county_copy, definition="{", reason="x"
        )
    with pytest.raises(ValidationError) as unchanged:
        instrument_version_create(
            actor=personas.county_admin,
            instrument=county_copy,
            definition=latest_version(county_copy).definition,  # type: ignore[union-attr]
            reason="x",
        )
    # then
    assert set(refused.value.message_dict) == {"reason", "definition"}
    message = refused.value.message_dict["definition"][0]
    assert "full" in message and ("no colour" in message or "未设颜色" in message)
    assert "JSON" in not_json.value.message_dict["definition"][0]
    assert unchanged.value.message_dict["definition"] in (["Nothing changed."], ["内容未作修改。"])
    assert county_copy.versions.count() == 1


def test_scoping_of_assessments(personas: Personas, family: Family) -> None:
    # given
    assessment = assessment_create(
        actor=personas.village_assistant,
        household=family.household,
        instrument_code="family_needs",
        answers=family_answers("1"),
    )
    # when / then: the colleague of another village neither sees nor may assess
    with pytest.raises(Http404):
        assessment_get(user=personas.colleague, assessment_id=assessment.pk)
    assert not assessments_visible(personas.colleague).exists()
    with pytest.raises(PermissionDenied):
        assessment_create(
            actor=personas.colleague,
            household=family.household,
            instrument_code="family_needs",
            answers=family_answers("1"),
        )
    # the provider and the supervisor may not assess; the supervisor reads
    for outsider in (personas.provider, personas.supervisor):
        with pytest.raises(PermissionDenied):
            assessment_create(
                actor=outsider,
                household=family.household,
                instrument_code="family_needs",
                answers=family_answers("1"),
            )
    assert not assessments_visible(personas.provider).exists()
    assert assessment_get(user=personas.supervisor, assessment_id=assessment.pk) == assessment
    # a caseworker of another town sees and assesses a household assigned to them
    with pytest.raises(Http404):
        assessment_get(user=personas.caseworker, assessment_id=assessment.pk)
    HouseholdAssignment.objects.create(household=family.household, user=personas.caseworker)
    assert assessment_get(user=personas.caseworker, assessment_id=assessment.pk) == assessment
    again = assessment_create(
        actor=personas.caseworker,
        household=family.household,
        instrument_code="family_needs",
        answers=family_answers("2"),
    )
    assert list(
        assessments_of_household(user=personas.town_officer, household_id=family.household.pk)
    ) == [again, assessment]


def test_only_a_superuser_edits_the_national_instrument(regions: None) -> None:
    # given
    national_admin = make_user("national", Role.COUNTY_ADMIN, COUNTY)
    national_admin.is_superuser = True
    national_admin.save()
    national = _national("self_care_6")
    definition = json.loads(json.dumps(latest_version(national).definition))  # type: ignore[union-attr]
    definition["tiers"][0]["label"] = "完全丧失"
    # when
    version = instrument_version_create(
        actor=national_admin, instrument=national, definition=definition, reason="措辞"
    )
    # then
    assert version.number == 2
