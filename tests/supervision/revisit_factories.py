"""Factories for the console, revisit and complaint tests.

``completed_like(template, provider, n, day)`` copies one real served order (made through
the real services by ``factories.served_order``) ``n`` times for ``provider``, checked
out on ``day``: the draw needs dozens of completed orders a month, and the services
would take seconds to make each of them."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone, translation

from jiuzhu.services.models import Provider, ServiceOrder

EXCLUDE = ("id", "created_at", "updated_at")


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def completed_like(
    template: ServiceOrder,
    provider: Provider,
    n: int,
    day: datetime.date,
    *,
    status: str = "closed",
) -> list[ServiceOrder]:
    fields = {
        f.attname: getattr(template, f.attname)
        for f in ServiceOrder._meta.concrete_fields
        if f.attname not in EXCLUDE
    }
    rows = []
    for index in range(n):
        row = ServiceOrder(**fields)
        row.provider = provider
        row.contract = provider.contracts.first()
        row.status = status
        row.service_date = day
        if status in ("closed", "checked_out"):
            row.check_out_at = at(day, 10) + datetime.timedelta(minutes=index)
        else:
            row.check_out_at = None
        rows.append(row)
    return ServiceOrder.objects.bulk_create(rows)


__all__ = ["_english", "at", "completed_like"]
