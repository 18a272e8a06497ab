"""Helpers shared by the scorecard and traffic-light tests (no tests here): a month in
the past, a county's settings written directly, complaints and revisits written with the
ORM (the revisits part has its own services), and English messages."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone, translation

from jiuzhu.regions.models import Region
from jiuzhu.services.models import Provider, ServiceOrder
from jiuzhu.supervision.models import Complaint, Revisit, SupervisionConfig
from tests.conftest import COUNTY, Family, Personas
from tests.supervision.factories import provider_with_staff, served_order

START = datetime.date(2026, 10, 1)
END = datetime.date(2026, 10, 31)
DAY = datetime.date(2026, 10, 12)
TODAY = datetime.date(2026, 11, 3)

__all__ = ["provider_with_staff", "served_order"]


@pytest.fixture
def english(settings: Any) -> Any:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def county() -> Region:
    return Region.objects.get(code=COUNTY)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def configure(**values: Any) -> SupervisionConfig:
    """The county's settings: ``bounds`` as {figure: (green, red)}."""
    bounds = {
        name: {"green": str(green), "red": str(red)}
        for name, (green, red) in values.pop("bounds", {}).items()
    }
    config, _created = SupervisionConfig.objects.update_or_create(
        region_id=COUNTY, defaults={"bounds": bounds, **values}
    )
    return config


def complaint(provider: Provider, *, day: datetime.date = DAY, status: str = "upheld") -> Complaint:
    return Complaint.objects.create(
        provider=provider,
        region_id=COUNTY,
        channel="phone",
        text="服务人员态度不好",
        status=status,
        received_at=at(day),
    )


def revisit(
    order: ServiceOrder,
    *,
    passed: bool,
    day: datetime.date = DAY,
    status: str = "done",
) -> Revisit:
    return Revisit.objects.create(
        source="sample",
        order=order,
        household=order.household,
        region=order.region,
        provider=order.provider,
        method="phone",
        status=status,
        due_date=day,
        passed=passed if status == "done" else None,
        done_at=at(day) if status == "done" else None,
    )


def orders(
    personas: Personas,
    family: Family,
    provider: Provider,
    worker: Any,
    ratings: list[int | None],
    *,
    day: datetime.date = DAY,
    late: int = 0,
) -> list[ServiceOrder]:
    """One served order per rating; the first ``late`` of them finish after their clock."""
    return [
        served_order(personas, family, provider, worker, day=day, rating=r, late=i < late)
        for i, r in enumerate(ratings)
    ]
