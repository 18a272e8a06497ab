"""Projects for the project, evaluation and metric tests: a draft with the default
indicators, or one matched with a provider and in service, its period around today so
that the factories' served orders (dated into the past) fall inside it."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from jiuzhu.registry import choices as rc
from jiuzhu.registry.services import household_create, person_create
from jiuzhu.services.models import Provider
from jiuzhu.supervision import choices as c
from jiuzhu.supervision.models import Project
from jiuzhu.supervision.services.projects import (
    indicators_default,
    project_advance,
    project_create,
    project_match,
)
from tests.conftest import COUNTY, VILLAGE_A, Family, Personas
from tests.services.delivery import valid_id

_serial = iter(range(1, 10_000))


def period() -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    return today - datetime.timedelta(days=60), today + datetime.timedelta(days=120)


def draft_project(
    personas: Personas,
    *,
    code: str = "XJ-2026-P01",
    region_code: str = COUNTY,
    budget: str = "300000",
    items: tuple[str, ...] = ("hair_cut", "home_visit"),
    indicators: bool = True,
    target_households: int = 4,
    target_person_times: int = 20,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Project:
    first, last = period()
    project = project_create(
        actor=personas.county_admin,
        region_code=region_code,
        code=code,
        name="峡江县困难老人居家照护服务项目（测试）",
        description="测试项目",
        budget=budget,
        period_start=start or first,
        period_end=end or last,
        target_groups=["dibao", "elderly"],
        target_households=target_households,
        target_person_times=target_person_times,
        item_codes=list(items),
    )
    if indicators:
        indicators_default(project=project, actor=personas.county_admin)
    return project


def advance(personas: Personas, project: Project, *steps: str) -> Project:
    for step in steps:
        project = project_advance(actor=personas.county_admin, project=project, to_status=step)
    return project


def running_project(
    personas: Personas,
    providers: list[Provider],
    *,
    amount: str = "100000",
    status: str = c.ProjectStatus.IN_SERVICE,
    **kwargs: Any,
) -> Project:
    """Published, matched with each provider's first contract, advanced to ``status``."""
    project = draft_project(personas, **kwargs)
    project = advance(personas, project, c.ProjectStatus.PUBLISHED)
    for provider in providers:
        project_match(
            actor=personas.county_admin,
            project=project,
            contract=provider.contracts.first(),
            amount=Decimal(amount),
        )
    order = [
        c.ProjectStatus.MATCHED,
        c.ProjectStatus.IN_SERVICE,
        c.ProjectStatus.EVALUATING,
    ]
    steps = order[: order.index(status) + 1] if status in order else []
    return advance(personas, project, *steps)


def another_family(village: str = VILLAGE_A) -> Family:
    """A second household (one person) for counting distinct households."""
    household = household_create(actor=None, region_code=village, address="示例一村5组8号")
    head = person_create(
        actor=None,
        household=household,
        name="赵桂香",
        id_number=valid_id(next(_serial), born="19480202"),
        relationship=rc.Relationship.HEAD,
    )
    household.refresh_from_db()
    return Family(household=household, head=head, spouse=head, child=head)
