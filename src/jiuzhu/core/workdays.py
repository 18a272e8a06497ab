"""Working days for legal time limits (法定办理时限 are counted in working days)."""

from __future__ import annotations

import datetime
from collections.abc import Collection

from django.conf import settings


def holidays() -> frozenset[datetime.date]:
    """Public holidays from ``JIUZHU_HOLIDAYS`` (ISO dates): the State Council publishes
    them yearly, with make-up working weekends in ``JIUZHU_WORKING_WEEKENDS``."""
    return frozenset(datetime.date.fromisoformat(d) for d in settings.JIUZHU_HOLIDAYS)


def working_weekends() -> frozenset[datetime.date]:
    return frozenset(datetime.date.fromisoformat(d) for d in settings.JIUZHU_WORKING_WEEKENDS)


def is_working_day(
    day: datetime.date,
    *,
    off: Collection[datetime.date] | None = None,
    extra: Collection[datetime.date] | None = None,
) -> bool:
    off = holidays() if off is None else off
    extra = working_weekends() if extra is None else extra
    if day in extra:
        return True
    return day.weekday() < 5 and day not in off


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The day on which ``days`` working days after ``start`` have passed (``start``
    itself not counted, as a time limit starts the day after receipt)."""
    off, extra = holidays(), working_weekends()
    day, left = start, days
    while left > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day, off=off, extra=extra):
            left -= 1
    return day
