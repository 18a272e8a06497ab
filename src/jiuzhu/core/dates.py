"""Calendar arithmetic on months (pure Python: the engine uses it too)."""

from __future__ import annotations

import datetime


def first_of_next_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def last_of_month(day: datetime.date) -> datetime.date:
    return first_of_next_month(day) - datetime.timedelta(days=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day if it has fewer."""
    index = day.month - 1 + months
    first = datetime.date(day.year + index // 12, index % 12 + 1, 1)
    return first.replace(day=min(day.day, last_of_month(first).day))


def years_between(birth: datetime.date, on: datetime.date) -> int:
    """Completed years (an age) from ``birth`` to ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
