"""The period picker of the statistics pages: this month, last month, the last 30 days,
or from/until typed by the user (checked: both dates, the start not after the end, at
most MAX_DAYS)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiuzhu.core.form_input import date_or_none

MAX_DAYS = 3 * 366

CHOICES = (
    ("this_month", gettext_lazy("This month")),
    ("last_month", gettext_lazy("Last month")),
    ("last_30", gettext_lazy("Last 30 days")),
    ("custom", gettext_lazy("From … until …")),
)


@dataclass
class Period:
    kind: str
    start: datetime.date
    end: datetime.date
    # What the user typed, shown again when it was refused.
    typed_from: str = ""
    typed_until: str = ""
    errors: list[str] = field(default_factory=list)


def preset(kind: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    if kind == "last_month":
        end = today.replace(day=1) - datetime.timedelta(days=1)
        return end.replace(day=1), end
    if kind == "last_30":
        return today - datetime.timedelta(days=29), today
    return today.replace(day=1), today


def period_from_query(query: Mapping[str, str], today: datetime.date) -> Period:
    """The period a page's query asks for. ``from``/``until`` without ``period`` mean a
    custom period; a refused custom period falls back to this month, with the errors."""
    typed_from = (query.get("from") or "").strip()
    typed_until = (query.get("until") or "").strip()
    kind = (query.get("period") or "").strip()
    if not kind:
        kind = "custom" if (typed_from or typed_until) else "this_month"
    if kind not in {k for k, _label in CHOICES}:
        kind = "this_month"
    if kind != "custom":
        start, end = preset(kind, today)
        return Period(kind=kind, start=start, end=end)
    start_or_none = date_or_none(typed_from)
    end_or_none = date_or_none(typed_until)
    errors: list[str] = []
    if start_or_none is None or end_or_none is None:
        errors.append(_("Enter both dates of the period as year-month-day, e.g. 2026-10-01."))
    elif end_or_none < start_or_none:
        errors.append(_("The end of the period cannot be before its start."))
    elif (end_or_none - start_or_none).days + 1 > MAX_DAYS:
        errors.append(_("A period can be at most three years long."))
    if errors or start_or_none is None or end_or_none is None:
        start, end = preset("this_month", today)
        return Period(
            kind="custom",
            start=start,
            end=end,
            typed_from=typed_from,
            typed_until=typed_until,
            errors=errors,
        )
    return Period(
        kind="custom",
        start=start_or_none,
        end=end_or_none,
        typed_from=typed_from,
        typed_until=typed_until,
    )
