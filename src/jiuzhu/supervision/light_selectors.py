"""Reads of the lights part: a county's thresholds, the counts behind a provider's
scorecard, who may see which provider's supervision record, and the record itself.

Who sees what:

- Staff with ``SUPERVISE`` (county admin, town officers, supervisors) read the scorecards
  and the record of every provider registered in their county (like the directory, a town
  officer reads the county's providers). Only ``DECIDE_LIGHTS`` (county admin) decides.
- A provider's manager (``SERVE_ORDERS``, manager of an active provider) reads their own
  provider's scorecards, light, decisions and rectifications, nothing else.

A provider outside what a user may see answers 404 like a missing one.

The counts read services' and supervision's rows directly (ADR 20: reporting reads
across apps); dates are local dates of the installation's time zone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import CharField, Count, F, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.http import Http404
from django.utils.translation import gettext as _

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.dates import add_months, last_of_month
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services import choices as sc
from jiuzhu.services.directory_selectors import member_of_user
from jiuzhu.services.models import Provider, ProviderMember, ServiceOrder
from jiuzhu.supervision import choices as c
from jiuzhu.supervision.lights import DEFAULT_THRESHOLDS, Thresholds
from jiuzhu.supervision.models import (
    Complaint,
    ExitReview,
    LightDecision,
    ProviderScore,
    Rectification,
    Revisit,
    SupervisionConfig,
)
from jiuzhu.supervision.scorecards import Counts, thresholds_from

SERVED = (sc.OrderStatus.CHECKED_OUT, sc.OrderStatus.CLOSED)
OPEN_RECTIFICATION = (c.RectificationStatus.OPEN, c.RectificationStatus.SUBMITTED)


# --- settings ----------------------------------------------------------------------------


def config_of(county_code: str) -> SupervisionConfig:
    """The county's settings; an unsaved row with the defaults when none was stored."""
    stored = SupervisionConfig.objects.filter(region_id=county_code).first()
    if stored is not None:
        return stored
    return SupervisionConfig(region_id=county_code, min_volume=DEFAULT_THRESHOLDS.min_volume)


def thresholds_of(config: SupervisionConfig) -> Thresholds:
    return thresholds_from(config.bounds, config.min_volume, DEFAULT_THRESHOLDS)


# --- the counts --------------------------------------------------------------------------


def served_orders(
    provider: Provider, start: datetime.date, end: datetime.date
) -> QuerySet[ServiceOrder]:
    return ServiceOrder.objects.filter(
        provider=provider,
        status__in=SERVED,
        check_out_at__date__gte=start,
        check_out_at__date__lte=end,
    )


def _on_time() -> Q:
    """Started by the start clock and finished by the finish clock; a missing clock (or a
    missing time, which a served order should not have) is not held against anyone."""
    started = (
        Q(start_due_at__isnull=True)
        | Q(check_in_at__isnull=True)
        | Q(check_in_at__lte=F("start_due_at"))
    )
    finished = (
        Q(finish_due_at__isnull=True)
        | Q(check_out_at__isnull=True)
        | Q(check_out_at__lte=F("finish_due_at"))
    )
    return started & finished


def disputed_order_ids(provider: Provider, start: datetime.date, end: datetime.date) -> set[int]:
    """Orders of the provider disputed in the period: the dispute is the order's
    ``services.order_disputed`` timeline event (kept when the dispute is later resolved),
    plus orders still disputed whose service was checked out in the period."""
    keys = (
        ServiceOrder.objects.filter(provider=provider)
        .annotate(key=Cast("pk", CharField()))
        .values("key")
    )
    events = TimelineEvent.objects.filter(
        kind="services.order_disputed",
        object_type="services.order",
        object_id__in=keys,
        occurred_at__date__gte=start,
        occurred_at__date__lte=end,
    ).values_list("object_id", flat=True)
    found = {int(object_id) for object_id in events}
    still = ServiceOrder.objects.filter(
        provider=provider,
        status=sc.OrderStatus.DISPUTED,
        check_out_at__date__gte=start,
        check_out_at__date__lte=end,
    ).values_list("pk", flat=True)
    return found | set(still)


def provider_counts(provider: Provider, start: datetime.date, end: datetime.date) -> Counts:
    served = served_orders(provider, start, end).aggregate(
        volume=Count("pk"),
        rated=Count("pk", filter=Q(rating__isnull=False)),
        rating_sum=Sum("rating"),
        on_time=Count("pk", filter=_on_time()),
    )
    revisits = Revisit.objects.filter(
        provider=provider,
        status=c.RevisitStatus.DONE,
        done_at__date__gte=start,
        done_at__date__lte=end,
    ).aggregate(done=Count("pk"), passed=Count("pk", filter=Q(passed=True)))
    upheld = Complaint.objects.filter(
        provider=provider,
        status=c.ComplaintStatus.UPHELD,
        received_at__date__gte=start,
        received_at__date__lte=end,
    ).count()
    no_shows = ServiceOrder.objects.filter(
        provider=provider,
        status=sc.OrderStatus.NO_SHOW,
        absent="provider",
        service_date__gte=start,
        service_date__lte=end,
    ).count()
    return Counts(
        volume=served["volume"],
        rating_sum=served["rating_sum"] or 0,
        rated=served["rated"],
        on_time=served["on_time"],
        revisits_done=revisits["done"],
        revisits_passed=revisits["passed"],
        complaints_upheld=upheld,
        disputes=len(disputed_order_ids(provider, start, end)),
        provider_no_shows=no_shows,
    )


def providers_to_judge(
    county_code: str, start: datetime.date, end: datetime.date
) -> QuerySet[Provider]:
    """Every provider registered in the county that is active or had orders in the
    period (an expelled provider's last month is still scored)."""
    with_orders = ServiceOrder.objects.filter(
        Q(check_out_at__date__gte=start, check_out_at__date__lte=end)
        | Q(service_date__gte=start, service_date__lte=end),
        provider__isnull=False,
    ).values("provider_id")
    return (
        Provider.objects.filter(region__code__startswith=county_code)
        .filter(Q(is_active=True) | Q(pk__in=with_orders))
        .order_by("pk")
    )


# --- the state of a provider -------------------------------------------------------------


def open_rectification(provider: Provider) -> Rectification | None:
    return Rectification.objects.filter(provider=provider, status__in=OPEN_RECTIFICATION).first()


def open_exit_review(provider: Provider) -> ExitReview | None:
    return ExitReview.objects.filter(provider=provider, status=c.ExitReviewStatus.OPEN).first()


def is_expelled(provider: Provider) -> bool:
    """The provider's latest exit review ended in expulsion."""
    latest = ExitReview.objects.filter(provider=provider).order_by("-opened_at", "-id").first()
    return latest is not None and latest.status == c.ExitReviewStatus.EXPELLED


# --- who may see what --------------------------------------------------------------------


def _area(user: Any) -> str:
    return str(getattr(user, "region_id", "") or "")


def county_of(user: Any) -> str:
    """The county whose providers a staff user supervises (the first six digits)."""
    return _area(user)[:6]


def manager_of(user: Any) -> ProviderMember | None:
    """The user's membership when they manage an active provider."""
    if not user_has_perm(user, Perm.SERVE_ORDERS):
        return None
    member = member_of_user(user)
    return member if member is not None and member.is_manager else None


def may_supervise(user: Any) -> bool:
    return user_has_perm(user, Perm.SUPERVISE) and bool(county_of(user))


def may_decide(user: Any, provider: Provider) -> bool:
    """County staff with DECIDE_LIGHTS, for a provider registered within their area."""
    area = _area(user)
    return bool(
        user_has_perm(user, Perm.DECIDE_LIGHTS) and area and provider.region_id.startswith(area)
    )


def may_decide_county(user: Any, county_code: str) -> bool:
    area = _area(user)
    return bool(user_has_perm(user, Perm.DECIDE_LIGHTS) and area and county_code.startswith(area))


def providers_supervised(user: Any) -> QuerySet[Provider]:
    """Providers whose scorecards the user may read."""
    queryset = Provider.objects.select_related("region")
    if may_supervise(user):
        return queryset.filter(region__code__startswith=county_of(user))
    member = manager_of(user)
    if member is not None:
        return queryset.filter(pk=member.provider_id)
    return queryset.none()


def provider_supervised_get(*, user: Any, provider_id: int) -> Provider:
    provider = providers_supervised(user).filter(pk=provider_id).first()
    if provider is None:
        raise Http404("Not found")
    return provider


def rectification_get(*, user: Any, rectification_id: int) -> Rectification:
    found = (
        Rectification.objects.select_related("provider")
        .filter(pk=rectification_id, provider__in=providers_supervised(user))
        .first()
    )
    if found is None:
        raise Http404("Not found")
    return found


def exit_review_get(*, user: Any, review_id: int) -> ExitReview:
    found = (
        ExitReview.objects.select_related("provider")
        .filter(pk=review_id, provider__in=providers_supervised(user))
        .first()
    )
    if found is None:
        raise Http404("Not found")
    return found


# --- months ------------------------------------------------------------------------------


def month_of(text: str | None, *, default: datetime.date) -> tuple[datetime.date, datetime.date]:
    """ "2026-10" → (2026-10-01, 2026-10-31); the month of ``default`` when blank or
    malformed."""
    try:
        year, month = (int(part) for part in (text or "").strip().split("-"))
        start = datetime.date(year, month, 1)
    except ValueError:
        start = default.replace(day=1)
    return start, last_of_month(start)


def previous_month(day: datetime.date) -> datetime.date:
    """The first day of the month before ``day``'s month."""
    return add_months(day.replace(day=1), -1)


# --- words -------------------------------------------------------------------------------


def figure_label(name: str) -> str:
    labels = {
        "satisfaction": _("satisfaction"),
        "on_time_rate": _("on-time rate"),
        "revisit_pass_rate": _("revisit pass rate"),
        "complaint_rate": _("complaint rate"),
        "no_show_rate": _("no-show rate"),
    }
    return labels.get(name, name)


def _shown(name: str, value: str) -> str:
    """Rates as percentages, satisfaction as it is."""
    if name == "satisfaction":
        return value
    try:
        return f"{(Decimal(value) * 100).normalize():f} %"
    except InvalidOperation:
        return value


def finding_text(finding: dict[str, Any]) -> str:
    """A stored finding in words: "on-time rate 82 % is below 90 % (yellow)"."""
    name = str(finding.get("figure", ""))
    words = {
        "figure": figure_label(name),
        "value": _shown(name, str(finding.get("value", ""))),
        "limit": _shown(name, str(finding.get("limit", ""))),
        "level": _("red") if finding.get("level") == "red" else _("yellow"),
    }
    if finding.get("higher_is_better", True):
        return _("%(figure)s %(value)s is below %(limit)s (%(level)s)") % words
    return _("%(figure)s %(value)s is above %(limit)s (%(level)s)") % words


def reasons_text(findings: list[dict[str, Any]]) -> str:
    return "; ".join(finding_text(f) for f in findings)


# --- the record --------------------------------------------------------------------------


@dataclass
class ScoreRow:
    provider: Provider
    score: ProviderScore | None
    reasons: list[str] = field(default_factory=list)


def scorecards_of_month(user: Any, period_start: datetime.date) -> list[ScoreRow]:
    """Every provider the user may read, with its scorecard of the month (if computed),
    red first, then yellow, green, and those without a light."""
    providers = list(providers_supervised(user).order_by("name", "pk"))
    scores = {
        s.provider_id: s
        for s in ProviderScore.objects.filter(
            provider__in=[p.pk for p in providers], period_start=period_start
        )
    }
    rows = [
        ScoreRow(
            provider=p,
            score=scores.get(p.pk),
            reasons=[finding_text(f) for f in _findings(scores.get(p.pk))],
        )
        for p in providers
    ]
    rank = {"red": 0, "yellow": 1, "green": 2}
    rows.sort(key=lambda r: (rank.get(r.score.light or "", 3) if r.score else 4, r.provider.name))
    return rows


def _findings(score: ProviderScore | None) -> list[dict[str, Any]]:
    if score is None or not isinstance(score.reasons, list):
        return []
    return [f for f in score.reasons if isinstance(f, dict)]


def score_reasons(score: ProviderScore) -> list[str]:
    return [finding_text(f) for f in _findings(score)]


def rectifications_open(user: Any, today: datetime.date) -> list[Rectification]:
    """Open and submitted rectifications of the providers the user may read: overdue ones
    (past due, still open) first, then by due date."""
    rows = list(
        Rectification.objects.select_related("provider")
        .filter(provider__in=providers_supervised(user), status__in=OPEN_RECTIFICATION)
        .order_by("due_date", "pk")
    )
    rows.sort(key=lambda r: (not is_overdue(r, today), r.due_date, r.pk))
    return rows


def is_overdue(rectification: Rectification, today: datetime.date) -> bool:
    return rectification.status == c.RectificationStatus.OPEN and rectification.due_date < today


def exit_reviews_open(user: Any) -> list[ExitReview]:
    return list(
        ExitReview.objects.select_related("provider", "decision")
        .filter(provider__in=providers_supervised(user), status=c.ExitReviewStatus.OPEN)
        .order_by("opened_at", "pk")
    )


@dataclass
class ProviderRecord:
    provider: Provider
    scores: list[ProviderScore]
    decisions: list[LightDecision]
    rectifications: list[Rectification]
    exit_reviews: list[ExitReview]
    open_rectification: Rectification | None
    open_exit_review: ExitReview | None
    expelled: bool


def provider_record(provider: Provider) -> ProviderRecord:
    rectifications = list(
        Rectification.objects.filter(provider=provider)
        .select_related("submitted_by", "closed_by", "decision")
        .order_by("-opened_at", "-pk")
    )
    reviews = list(
        ExitReview.objects.filter(provider=provider)
        .select_related("decided_by", "decision")
        .order_by("-opened_at", "-pk")
    )
    return ProviderRecord(
        provider=provider,
        scores=list(ProviderScore.objects.filter(provider=provider).order_by("-period_start")),
        decisions=list(
            LightDecision.objects.filter(provider=provider)
            .select_related("decided_by", "score")
            .order_by("-decided_at", "-pk")
        ),
        rectifications=rectifications,
        exit_reviews=reviews,
        open_rectification=next(
            (r for r in rectifications if r.status in OPEN_RECTIFICATION), None
        ),
        open_exit_review=next((r for r in reviews if r.status == c.ExitReviewStatus.OPEN), None),
        expelled=bool(reviews) and reviews[0].status == c.ExitReviewStatus.EXPELLED,
    )


# --- for the pages -----------------------------------------------------------------------


def percent(value: Decimal | None) -> str:
    """0.8250 → "82.5 %"; None → "—"."""
    if value is None:
        return "—"
    shown = (Decimal(value) * 100).quantize(Decimal("0.1"))
    return f"{shown.normalize():f} %"


def light_word(light: str | None) -> str:
    if not light:
        return _("no light (too few orders)")
    return str(sc.Light(light).label) if light in sc.Light.values else light


@dataclass
class ScoreView:
    """A scorecard as shown: the light with its word, figures formatted, reasons in words."""

    provider: Provider
    score: ProviderScore | None
    light: str
    light_label: str
    period: str
    volume: str
    satisfaction: str
    on_time_rate: str
    revisit_pass_rate: str
    complaint_rate: str
    no_show_rate: str
    revisits: str
    complaints: str
    reasons: list[str]


def score_view(row: ScoreRow) -> ScoreView:
    score = row.score
    if score is None:
        dash = "—"
        return ScoreView(
            row.provider, None, "", _("not scored"), "", dash, dash, dash, dash, dash, dash,
            dash, dash, [],
        )  # fmt: skip
    return ScoreView(
        provider=row.provider,
        score=score,
        light=score.light or "",
        light_label=light_word(score.light),
        period=f"{score.period_start:%Y-%m-%d} – {score.period_end:%Y-%m-%d}",
        volume=str(score.volume),
        satisfaction="—" if score.satisfaction is None else f"{score.satisfaction:.2f}",
        on_time_rate=percent(score.on_time_rate),
        revisit_pass_rate=percent(score.revisit_pass_rate),
        complaint_rate=percent(score.complaint_rate),
        no_show_rate=percent(score.no_show_rate),
        revisits=str(score.revisits),
        complaints=str(score.complaints),
        reasons=row.reasons or score_reasons(score),
    )


def thresholds_view(config: SupervisionConfig) -> list[dict[str, str]]:
    """The bounds in words for the page's legend."""
    thresholds = thresholds_of(config)
    rows = []
    for name, bound in thresholds.bounds.items():
        green = str(bound.green) if name == "satisfaction" else percent(bound.green)
        red = str(bound.red) if name == "satisfaction" else percent(bound.red)
        rows.append(
            {
                "label": figure_label(name),
                "green": ("≥ " if bound.higher_is_better else "≤ ") + green,
                "red": ("< " if bound.higher_is_better else "> ") + red,
            }
        )
    return rows
