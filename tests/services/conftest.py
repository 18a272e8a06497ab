"""Shared set-up for the services tests: a family assessed with the default family
instrument (a few indicators needing help) and helpers to make plans."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import translation

from jiuzhu.assessment.models import Assessment
from jiuzhu.assessment.services import assessment_create
from jiuzhu.registry.models import Household
from jiuzhu.services.models import EntitlementRule, ServiceItem, ServicePlan
from jiuzhu.services.services.plans import plan_create
from tests.conftest import Family, Personas

FAMILY_INDICATORS = [
    "living_income", "living_housing", "living_food", "living_utilities",
    "health_chronic", "health_disability", "health_medical_cost", "health_mental",
    "education_enrolment", "education_cost", "education_tutoring",
    "employment_status", "employment_skills", "employment_barriers",
    "social_family", "social_community", "social_isolation",
    "care_selfcare", "care_elderly", "care_children",
]  # fmt: skip

# Needs help with loneliness, housing/home environment and caring for the elderly.
NEEDS = {"social_isolation": "3", "living_utilities": "2", "care_elderly": "2"}


def answers(level: str = "0", **overrides: str) -> dict[str, str]:
    return {code: overrides.get(code, level) for code in FAMILY_INDICATORS}


def assess(user: Any, household: Household, level: str = "0", **overrides: str) -> Assessment:
    return assessment_create(
        actor=user,
        household=household,
        instrument_code="family_needs",
        answers=answers(level, **{**NEEDS, **overrides}),
    )


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    """Messages are English msgids; the tests read them in English, so they hold once the
    Chinese translations are filled in (pages follow LANGUAGE_CODE without a cookie)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def assessed(personas: Personas, family: Family) -> Assessment:
    return assess(personas.village_assistant, family.household)


def rule(code: str) -> EntitlementRule:
    return EntitlementRule.objects.get(code=code)


def item(code: str) -> ServiceItem:
    return ServiceItem.objects.get(code=code)


START = datetime.date(2026, 1, 1)


def dongsheng_plan(personas: Personas, assessment: Assessment) -> ServicePlan:
    return plan_create(
        actor=personas.village_assistant,
        assessment=assessment,
        rule=rule("dongsheng_1000"),
        period_start=START,
    )
