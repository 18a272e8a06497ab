from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from jiuzhu.assessment.defaults import FAMILY_NEEDS, SELF_CARE_6
from jiuzhu.assessment.definition import validate
from jiuzhu.monitoring.models import MonitoringRun, Warning
from tests.conftest import VILLAGE_A, Family

FAMILY_CODES = [i.code for i in validate(FAMILY_NEEDS).indicators]
SELF_CARE_CODES = [i.code for i in validate(SELF_CARE_6).indicators]


def family_answers(level: str = "0", **overrides: str) -> dict[str, str]:
    """Every family indicator answered ``level`` (0–3), except ``overrides``."""
    return {code: overrides.get(code, level) for code in FAMILY_CODES}


def self_care_answers(unable: int) -> dict[str, str]:
    return {c: "unable" if n < unable else "able" for n, c in enumerate(SELF_CARE_CODES)}


def make_warning(family: Family, *, verified: bool = True) -> Warning:
    now = timezone.now()
    run = MonitoringRun.objects.create(
        as_of=now.date(), engine="duckdb", mode="full", trigger="cli", pack="default"
    )
    return Warning.objects.create(
        household=family.household,
        region_id=VILLAGE_A,
        assigned_region_id=VILLAGE_A,
        rule_id="medical_burden",
        rule_version=1,
        level="orange",
        event_key="medical_burden:2026",
        event_date=now.date(),
        explanation="近12个月医疗自付费用超过家庭年收入的一半",
        run=run,
        raised_at=now,
        deadline_hours=72,
        due_at=now + datetime.timedelta(hours=72),
        status=Warning.Status.CLOSED if verified else Warning.Status.OPEN,
        outcome="referred" if verified else "",
        closed_at=now if verified else None,
    )


@pytest.fixture
def verified_warning(family: Family) -> Warning:
    return make_warning(family)
