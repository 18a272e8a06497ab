"""Which target groups a household belongs to, from its file (active enrolments and
living members). Pure: it reads the objects it is given and queries nothing."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from jiuzhu.core.dates import years_between
from jiuzhu.services.choices import TargetGroup

# Registry category → target group
CATEGORY_GROUPS = {
    "dibao": TargetGroup.DIBAO,
    "tekun_centralised": TargetGroup.TEKUN,
    "tekun_dispersed": TargetGroup.TEKUN,
    "dibao_marginal": TargetGroup.DIBAO_MARGINAL,
    "rigid_expenditure": TargetGroup.RIGID_EXPENDITURE,
    "relapse_monitoring": TargetGroup.RELAPSE_MONITORING,
    "unsupported_child": TargetGroup.UNSUPPORTED_CHILD,
    "orphan": TargetGroup.UNSUPPORTED_CHILD,
}


def household_groups(
    *, members: Iterable[Any], enrolments: Iterable[Any], day: datetime.date
) -> set[str]:
    """The groups of a household on ``day``: from each active enrolment's category and each
    living member's age, disability, health, labour capacity and self-care."""
    groups: set[str] = set()
    for enrolment in enrolments:
        if enrolment.status != "active" or enrolment.start_date > day:
            continue
        if enrolment.end_date is not None and enrolment.end_date < day:
            continue
        group = CATEGORY_GROUPS.get(enrolment.category)
        if group is not None:
            groups.add(group)
    for person in members:
        if person.is_deceased:
            continue
        age = years_between(person.birth_date, day)
        if age >= 60:
            groups.add(TargetGroup.ELDERLY)
        if age < 18:
            groups.add(TargetGroup.CHILDREN)
        if person.disability_type:
            groups.add(TargetGroup.DISABLED)
            if person.disability_grade in (1, 2):
                groups.add(TargetGroup.SEVERE_DISABILITY)
        if person.health in ("chronic", "serious"):
            groups.add(TargetGroup.ILL)
        if 18 <= age < 60 and person.labour_capacity in ("full", "partial"):
            groups.add(TargetGroup.WORKING_AGE)
        if person.self_care != "able":
            groups.add(TargetGroup.SELF_CARE)
    return groups


def fits(target_groups: Sequence[str], groups: set[str]) -> bool:
    """Anyone fits an item or rule with no groups; otherwise one group in common."""
    return not target_groups or bool(set(target_groups) & groups)
