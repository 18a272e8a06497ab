"""Computed indicators of a project evaluation: each metric measures one figure of a
project over a window of its period from the platform's own rows, and scores it 0–100
against the indicator's target.

    value = METRICS["satisfaction"].compute(project, start, end)   # Decimal("4.62") or None
    score = METRICS["satisfaction"].score(value, Decimal("4.5"))   # Decimal("100.00")

``None`` means nothing to measure (no ratings, no revisits, no target households): the
evaluators then score the indicator themselves and say why. Scores are proportional to
the target and capped at 100: ``value / target × 100`` when higher is better,
``target / value × 100`` when lower is better (a value at or under the target earns 100).

Progress metrics (``pro_rata``: households covered, person-times, budget execution) are
measured against the whole project's target; an evaluation in mid-course compares them
with the share of the target due by the end of its window (``due_target``), so a
mid-term evaluation half way through expects half the person-times.

Definitions (docs/projects.md repeats them):

- ``satisfaction``: mean rating (1–5) of the project orders rated, by service date.
- ``revisit_pass_rate``: revisits (回访) of project orders that are done, share passed.
- ``on_time_rate``: served project orders that started and finished within their clocks
  (check-in by ``start_due_at``, check-out by ``finish_due_at``; a missing clock holds).
- ``activity_frequency``: served project orders per month of the window (a month is
  365.25 / 12 days).
- ``coverage_households``: distinct households served ÷ the project's target households.
- ``person_times``: served project orders ÷ the project's target person-times.
- ``need_file_timeliness``: of the households served, the share whose need file (需求档案)
  was updated in the 90 days up to the window's end: their latest needs assessment
  (``assessed_at``) or the latest agreement of a service plan (``agreed_at``) on a day in
  [end − 90 days, end].
- ``budget_execution``: amount of the served project orders ÷ the sum agreed with the
  matched providers.
- ``complaint_rate`` (lower is better): upheld complaints about project orders ÷ served
  orders.
- ``no_show_rate`` (lower is better): provider no-shows ÷ project orders served or missed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, F, Q, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jiuzhu.assessment.models import Assessment
from jiuzhu.services import choices as sc
from jiuzhu.services.models import ServicePlan
from jiuzhu.supervision import choices as c
from jiuzhu.supervision import project_selectors as sel
from jiuzhu.supervision.models import Complaint, Project, Revisit

HUNDRED = Decimal(100)
PLACES = Decimal("0.0001")  # EvaluationScore.value
SCORE_PLACES = Decimal("0.01")
DAYS_PER_MONTH = Decimal("365.25") / 12
NEED_FILE_DAYS = 90

Compute = Callable[[Project, datetime.date, datetime.date], Decimal | None]


def _q(value: Decimal) -> Decimal:
    return value.quantize(PLACES, rounding=ROUND_HALF_UP)


def _ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if not whole:
        return None
    return _q(Decimal(part) / Decimal(whole))


def proportional_score(
    value: Decimal | None, target: Decimal | None, *, higher_is_better: bool = True
) -> Decimal | None:
    """0–100, proportional to the target, capped; None when there is nothing to score."""
    if value is None or target is None:
        return None
    value, target = Decimal(value), Decimal(target)
    if higher_is_better:
        if target <= 0:
            return HUNDRED.quantize(SCORE_PLACES)
        raw = value / target * HUNDRED
    else:
        if value <= target:
            return HUNDRED.quantize(SCORE_PLACES)
        raw = target / value * HUNDRED if value > 0 else HUNDRED
    raw = max(Decimal(0), min(HUNDRED, raw))
    return raw.quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str | Promise
    unit: str | Promise
    compute: Compute
    higher_is_better: bool = True
    pro_rata: bool = False  # a progress figure: due in proportion to time elapsed

    def score(self, value: Decimal | None, target: Decimal | None) -> Decimal | None:
        return proportional_score(value, target, higher_is_better=self.higher_is_better)


def elapsed_share(project: Project, end: datetime.date) -> Decimal:
    """The share of the project's period that has passed by ``end`` (inclusive), 0–1."""
    days = (project.period_end - project.period_start).days + 1
    done = (min(end, project.period_end) - project.period_start).days + 1
    return max(Decimal(0), min(Decimal(1), Decimal(done) / Decimal(days)))


def due_target(
    metric: Metric, target: Decimal | None, project: Project, end: datetime.date
) -> Decimal | None:
    """The target a window ending on ``end`` is held to: the whole target, or for a
    progress metric the share due by then."""
    if target is None:
        return None
    if not metric.pro_rata:
        return Decimal(target)
    return _q(Decimal(target) * elapsed_share(project, end))


# --- the computations ----------------------------------------------------------------------


def satisfaction(project: Project, start: datetime.date, end: datetime.date) -> Decimal | None:
    mean = (
        sel.project_orders(project, start, end)
        .filter(rating__isnull=False)
        .aggregate(m=Avg("rating"))["m"]
    )
    return _q(Decimal(str(mean))) if mean is not None else None


def revisit_pass_rate(project: Project, start: datetime.date, end: datetime.date) -> Decimal | None:
    counts = Revisit.objects.filter(
        order__in=sel.project_orders(project, start, end), status=c.RevisitStatus.DONE
    ).aggregate(done=Count("id"), passed=Count("id", filter=Q(passed=True)))
    return _ratio(counts["passed"], counts["done"])


def on_time_rate(project: Project, start: datetime.date, end: datetime.date) -> Decimal | None:
    served = sel.served_orders(project, start, end)
    late = Q(start_due_at__isnull=False, check_in_at__gt=F("start_due_at")) | Q(
        finish_due_at__isnull=False, check_out_at__gt=F("finish_due_at")
    )
    total = served.count()
    return _ratio(total - served.filter(late).count(), total)


def activity_frequency(
    project: Project, start: datetime.date, end: datetime.date
) -> Decimal | None:
    first, last = sel.project_window(project, start, end)
    days = (last - first).days + 1
    if days <= 0:
        return None
    months = Decimal(days) / DAYS_PER_MONTH
    return _q(Decimal(sel.served_orders(project, start, end).count()) / months)


def coverage_households(
    project: Project, start: datetime.date, end: datetime.date
) -> Decimal | None:
    households = sel.served_orders(project, start, end).values("household_id").distinct().count()
    return _ratio(households, project.target_households)


def person_times(project: Project, start: datetime.date, end: datetime.date) -> Decimal | None:
    return _ratio(sel.served_orders(project, start, end).count(), project.target_person_times)


def need_file_timeliness(
    project: Project, start: datetime.date, end: datetime.date
) -> Decimal | None:
    _first, last = sel.project_window(project, start, end)
    households = set(
        sel.served_orders(project, start, end).values_list("household_id", flat=True).distinct()
    )
    if not households:
        return None
    tz = timezone.get_current_timezone()
    window_start = datetime.datetime.combine(
        last - datetime.timedelta(days=NEED_FILE_DAYS), datetime.time.min, tzinfo=tz
    )
    window_end = datetime.datetime.combine(last, datetime.time.max, tzinfo=tz)
    updated = set(
        Assessment.objects.filter(
            household_id__in=households, assessed_at__gte=window_start, assessed_at__lte=window_end
        ).values_list("household_id", flat=True)
    ) | set(
        ServicePlan.objects.filter(
            household_id__in=households, agreed_at__gte=window_start, agreed_at__lte=window_end
        ).values_list("household_id", flat=True)
    )
    return _ratio(len(updated & households), len(households))


def budget_execution(project: Project, start: datetime.date, end: datetime.date) -> Decimal | None:
    spent = sel.served_orders(project, start, end).aggregate(s=Sum("amount"))["s"]
    return _ratio(Decimal(spent or 0), sel.matched_total(project))


def complaint_rate(project: Project, start: datetime.date, end: datetime.date) -> Decimal | None:
    orders = sel.project_orders(project, start, end)
    upheld = Complaint.objects.filter(order__in=orders, status=c.ComplaintStatus.UPHELD).count()
    return _ratio(upheld, orders.filter(status__in=sel.SERVED_STATUSES).count())


def no_show_rate(project: Project, start: datetime.date, end: datetime.date) -> Decimal | None:
    counts = sel.project_orders(project, start, end).aggregate(
        missed=Count("id", filter=Q(status=sc.OrderStatus.NO_SHOW, absent="provider")),
        due=Count(
            "id",
            filter=Q(status__in=sel.SERVED_STATUSES)
            | Q(status=sc.OrderStatus.NO_SHOW, absent="provider"),
        ),
    )
    return _ratio(counts["missed"], counts["due"])


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("satisfaction", _("satisfaction (mean rating)"), _("points of 5"), satisfaction),
        Metric("revisit_pass_rate", _("revisit pass rate"), _("share"), revisit_pass_rate),
        Metric("on_time_rate", _("on-time rate"), _("share"), on_time_rate),
        Metric(
            "activity_frequency",
            _("activity frequency (services a month)"),
            _("services a month"),
            activity_frequency,
        ),
        Metric(
            "coverage_households",
            _("households covered"),
            _("share of target"),
            coverage_households,
            pro_rata=True,
        ),
        Metric(
            "person_times",
            _("person-times served"),
            _("share of target"),
            person_times,
            pro_rata=True,
        ),
        Metric(
            "need_file_timeliness",
            _("need files updated in time"),
            _("share"),
            need_file_timeliness,
        ),
        Metric(
            "budget_execution",
            _("budget execution"),
            _("share of agreed sums"),
            budget_execution,
            pro_rata=True,
        ),
        Metric(
            "complaint_rate",
            _("upheld complaints per service"),
            _("share"),
            complaint_rate,
            higher_is_better=False,
        ),
        Metric(
            "no_show_rate",
            _("provider no-shows per service"),
            _("share"),
            no_show_rate,
            higher_is_better=False,
        ),
    )
}


def measure_indicator(
    *,
    metric_key: str,
    target: Decimal | None,
    project: Project,
    start: datetime.date,
    end: datetime.date,
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(value, due target, score) of a computed indicator over [start, end]."""
    metric = METRICS[metric_key]
    value = metric.compute(project, start, end)
    due = due_target(metric, target, project, end)
    return value, due, metric.score(value, due)


def live_values(project: Project, end: datetime.date | None = None) -> dict[str, Decimal | None]:
    """Every metric over the project's period up to ``end`` (today by default)."""
    last = min(end or timezone.localdate(), project.period_end)
    return {
        key: metric.compute(project, project.period_start, last) for key, metric in METRICS.items()
    }


__all__ = [
    "METRICS",
    "Metric",
    "due_target",
    "elapsed_share",
    "live_values",
    "measure_indicator",
    "proportional_score",
]
