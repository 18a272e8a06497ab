"""The figures of the statistics pages: each selector takes a region code prefix and a
period (``start`` to ``end``, both days included) and returns plain dataclasses.

They read monitoring's, services', supervision's and funds' rows directly (ADR 20:
reporting reads across apps, read-only). No personal data leaves here: counts, rates,
means and the names of organisations.

What counts in the period:

* warnings: raised in the period (by ``raised_at``); the age bands are of the warnings
  still open at the end of the period (or now, if that is earlier); the time to the
  verification visit is of the visits made in the period;
* needs on the claim market: published in the period (``services.need_selectors.need_stats``);
* orders: whose service date is in the period (dispatch, completion, satisfaction, and the
  provider's figures); revisits: done in the period;
* traffic lights: the providers' lights now, with the decisions taken in the period;
* spending: the ledger's postings in the period (``funds.selectors.spending``).
"""

from __future__ import annotations

import datetime
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from jiuzhu.core.dates import add_months
from jiuzhu.funds.selectors import spending as ledger_spending
from jiuzhu.monitoring.models import Level, VerificationVisit, Warning
from jiuzhu.regions.models import Region
from jiuzhu.regions.selectors import region_prefixes
from jiuzhu.services import choices as sc
from jiuzhu.services.models import DispatchOffer, Provider, ServiceOrder
from jiuzhu.services.need_selectors import NeedStats, need_stats
from jiuzhu.supervision import choices as supc
from jiuzhu.supervision.models import LightDecision, Revisit

# Age bands of open warnings, in whole days since raised: (label, lowest day, highest day).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0–3", 0, 3),
    ("4–7", 4, 7),
    ("8–15", 8, 15),
    (">15", 16, None),
)
LEVELS: tuple[str, ...] = (Level.RED, Level.YELLOW, Level.BLUE)
SERVED_STATUSES: tuple[str, ...] = (sc.OrderStatus.CHECKED_OUT, sc.OrderStatus.CLOSED)
# Orders not yet ended: left out of the completion rate.
STILL_OPEN_STATUSES: tuple[str, ...] = (
    sc.OrderStatus.PENDING,
    sc.OrderStatus.OFFERED,
    sc.OrderStatus.ACCEPTED,
    sc.OrderStatus.IN_SERVICE,
)


# --- helpers ------------------------------------------------------------------------------


def day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def period_bounds(
    start: datetime.date, end: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """The period as [from, until) moments in the installation's time zone."""
    return day_start(start), day_start(end + datetime.timedelta(days=1))


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` or None when there is nothing to divide by."""
    return part / whole if whole else None


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def age_band(days: int) -> str:
    for label, low, high in AGE_BANDS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BANDS[0][0]


def child_code_length(region_prefix: str) -> int:
    """The code length of the regions one level below ``region_prefix``."""
    return {2: 4, 4: 6, 6: 9, 9: 12}.get(len(region_prefix), len(region_prefix))


def orders_in(
    region_prefix: str, start: datetime.date, end: datetime.date
) -> QuerySet[ServiceOrder]:
    """Orders of households in the region whose service date is in the period."""
    return ServiceOrder.objects.filter(
        region__code__startswith=region_prefix, service_date__gte=start, service_date__lte=end
    )


# --- Warnings -----------------------------------------------------------------------------


def open_warnings_at(region_prefix: str, as_of: datetime.datetime) -> QuerySet[Warning]:
    """Warnings of the region open at ``as_of``: raised before it and not verified by then.
    A warning ends at its verification visit (``visited_at``; the record may be written
    later), or when closed if it has no visit."""
    return (
        Warning.objects.filter(region__code__startswith=region_prefix, raised_at__lt=as_of)
        .annotate(ended_at=Coalesce("visit__visited_at", "closed_at"))
        .filter(
            Q(ended_at__isnull=True, status__in=[Warning.Status.OPEN, Warning.Status.CONTACTED])
            | Q(ended_at__gte=as_of)
        )
    )


@dataclass
class WarningLevelRow:
    level: str
    raised: int = 0  # raised in the period
    visited: int = 0  # verification visits made in the period
    open_at_end: int = 0  # open at the end of the period
    median_hours_to_visit: float | None = None
    bands: dict[str, int] = field(default_factory=lambda: {b[0]: 0 for b in AGE_BANDS})


@dataclass
class WarningFigures:
    as_of: datetime.datetime
    levels: list[WarningLevelRow]
    total: WarningLevelRow
    # Households with at least one warning open at the end of the period, by child region.
    households_open_by_child: dict[str, int]


def warning_figures(
    *,
    region_prefix: str,
    start: datetime.date,
    end: datetime.date,
    now: datetime.datetime | None = None,
) -> WarningFigures:
    """Warnings by level: raised in the period, verified in it, the median hours from the
    warning to its verification visit, and the open ones by age band."""
    since, until = period_bounds(start, end)
    as_of = min(now or timezone.now(), until)
    rows = {level: WarningLevelRow(level=level) for level in LEVELS}
    total = WarningLevelRow(level="")
    in_region = Warning.objects.filter(region__code__startswith=region_prefix)
    for level, count in (
        in_region.filter(raised_at__gte=since, raised_at__lt=until)
        .values_list("level")
        .annotate(n=Count("id"))
        .order_by()
    ):
        rows[level].raised = count
        total.raised += count
    hours: dict[str, list[float]] = defaultdict(list)
    for level, raised_at, visited_at in VerificationVisit.objects.filter(
        warning__region__code__startswith=region_prefix, visited_at__gte=since, visited_at__lt=until
    ).values_list("warning__level", "warning__raised_at", "visited_at"):
        value = max(0.0, (visited_at - raised_at).total_seconds() / 3600)
        hours[level].append(value)
        hours[""].append(value)
    for level, row in rows.items():
        row.visited = len(hours[level])
        row.median_hours_to_visit = median(hours[level])
    total.visited = len(hours[""])
    total.median_hours_to_visit = median(hours[""])
    open_then = open_warnings_at(region_prefix, as_of)
    child_length = child_code_length(region_prefix)
    households: dict[str, set[int]] = defaultdict(set)
    for level, raised_at, region_id, household_id in open_then.values_list(
        "level", "raised_at", "region_id", "household_id"
    ):
        band = age_band(int((as_of - raised_at).total_seconds() // 86400))
        row = rows[level]
        row.open_at_end += 1
        row.bands[band] += 1
        total.open_at_end += 1
        total.bands[band] += 1
        households[region_id[:child_length]].add(household_id)
    return WarningFigures(
        as_of=as_of,
        levels=[rows[level] for level in LEVELS],
        total=total,
        households_open_by_child={code: len(ids) for code, ids in households.items()},
    )


# --- Needs and claims ---------------------------------------------------------------------


@dataclass
class ClaimFigures:
    posted: int
    claimed: int
    fulfilled: int
    claim_rate: float | None
    fulfil_rate: float | None
    median_hours_to_claim: float | None
    median_hours_to_fulfil: float | None
    stats: NeedStats  # by child region, as services computes them


def claim_figures(*, region_prefix: str, start: datetime.date, end: datetime.date) -> ClaimFigures:
    """Needs published on the claim market in the period, claimed and fulfilled (the
    services app's own statistics, with the rates)."""
    stats = need_stats(region_prefix=region_prefix, start=start, end=end)
    t = stats.total
    return ClaimFigures(
        posted=t.posted,
        claimed=t.claimed,
        fulfilled=t.fulfilled,
        claim_rate=rate(t.claimed, t.posted),
        fulfil_rate=rate(t.fulfilled, t.posted),
        median_hours_to_claim=t.median_hours_to_claim,
        median_hours_to_fulfil=t.median_hours_to_fulfil,
        stats=stats,
    )


# --- Dispatch -----------------------------------------------------------------------------


@dataclass
class DispatchFigures:
    placed: int  # orders with a service date in the period
    offered: int  # offered to at least one provider by dispatch
    accepted_first_offer: int  # the first offer was accepted
    first_offer_share: float | None  # of those offered
    median_minutes_to_accept: float | None  # from the first offer to the acceptance
    no_provider: int  # no provider accepted and no offer is open now


def dispatch_figures(
    *, region_prefix: str, start: datetime.date, end: datetime.date
) -> DispatchFigures:
    """Orders placed, offered, accepted on the first offer, the median minutes from the
    first offer to acceptance, and those for which no provider was found."""
    orders = orders_in(region_prefix, start, end)
    offers: dict[int, list[tuple[datetime.datetime, str, datetime.datetime | None]]] = defaultdict(
        list
    )
    for order_id, offered_at, status, answered_at in (
        DispatchOffer.objects.filter(order__in=orders.values("pk"))
        .order_by("order_id", "offered_at", "id")
        .values_list("order_id", "offered_at", "status", "answered_at")
    ):
        offers[order_id].append((offered_at, status, answered_at))
    first_accepted = 0
    minutes: list[float] = []
    for order_offers in offers.values():
        first_at, first_status, _answered = order_offers[0]
        if first_status == sc.OfferStatus.ACCEPTED:
            first_accepted += 1
        for _at, status, answered_at in order_offers:
            if status == sc.OfferStatus.ACCEPTED and answered_at is not None:
                minutes.append(max(0.0, (answered_at - first_at).total_seconds() / 60))
    return DispatchFigures(
        placed=orders.count(),
        offered=len(offers),
        accepted_first_offer=first_accepted,
        first_offer_share=rate(first_accepted, len(offers)),
        median_minutes_to_accept=median(minutes),
        no_provider=orders.filter(provider__isnull=True)
        .exclude(status=sc.OrderStatus.OFFERED)
        .count(),
    )


# --- Completion and satisfaction ----------------------------------------------------------


@dataclass
class CompletionFigures:
    ordered: int  # every order with a service date in the period
    still_open: int  # not yet ended (left out of the rate)
    ended: int  # ordered - still_open
    served: int  # checked out or closed
    completion_rate: float | None  # served / ended
    no_shows: int
    no_shows_provider: int  # the provider did not come
    no_shows_beneficiary: int  # nobody was at home
    cancelled: int
    disputed: int
    on_time: int  # served, checked out by the finish clock
    timed: int  # served with a finish clock
    on_time_rate: float | None


def _completion(orders: QuerySet[ServiceOrder]) -> CompletionFigures:
    by_status: Counter[str] = Counter(
        dict(orders.values_list("status").annotate(n=Count("id")).order_by())
    )
    absent = Counter(
        dict(
            orders.filter(status=sc.OrderStatus.NO_SHOW)
            .values_list("absent")
            .annotate(n=Count("id"))
            .order_by()
        )
    )
    served_qs = orders.filter(status__in=SERVED_STATUSES, finish_due_at__isnull=False)
    timed = served_qs.count()
    on_time = served_qs.filter(check_out_at__lte=F("finish_due_at")).count()
    ordered = sum(by_status.values())
    still_open = sum(by_status[s] for s in STILL_OPEN_STATUSES)
    served = sum(by_status[s] for s in SERVED_STATUSES)
    ended = ordered - still_open
    return CompletionFigures(
        ordered=ordered,
        still_open=still_open,
        ended=ended,
        served=served,
        completion_rate=rate(served, ended),
        no_shows=by_status[sc.OrderStatus.NO_SHOW],
        no_shows_provider=absent["provider"],
        no_shows_beneficiary=absent["beneficiary"],
        cancelled=by_status[sc.OrderStatus.CANCELLED],
        disputed=by_status[sc.OrderStatus.DISPUTED],
        on_time=on_time,
        timed=timed,
        on_time_rate=rate(on_time, timed),
    )


def completion_figures(
    *, region_prefix: str, start: datetime.date, end: datetime.date
) -> CompletionFigures:
    """Served of ordered (orders still open left out), no-shows, cancellations, disputes
    and the on-time rate of the orders with a service date in the period."""
    return _completion(orders_in(region_prefix, start, end))


@dataclass
class SatisfactionFigures:
    rated: int
    mean: float | None
    distribution: dict[int, int]  # rating 1–5 → orders


def _satisfaction(orders: QuerySet[ServiceOrder]) -> SatisfactionFigures:
    counts = dict(
        orders.filter(rating__isnull=False).values_list("rating").annotate(n=Count("id")).order_by()
    )
    rated = sum(counts.values())
    total = sum(r * n for r, n in counts.items())
    return SatisfactionFigures(
        rated=rated,
        mean=round(total / rated, 2) if rated else None,
        distribution={r: counts.get(r, 0) for r in range(1, 6)},
    )


def satisfaction_figures(
    *, region_prefix: str, start: datetime.date, end: datetime.date
) -> SatisfactionFigures:
    """The beneficiaries' ratings (1–5) of the orders with a service date in the period."""
    return _satisfaction(orders_in(region_prefix, start, end))


# --- Traffic lights -----------------------------------------------------------------------


@dataclass
class LightRow:
    provider_id: int
    name: str
    light: str
    decided_at: datetime.datetime | None
    reason: str


@dataclass
class LightFigures:
    counts: dict[str, int]  # green / yellow / red → providers
    flagged: list[LightRow]  # the yellow and red ones, red first
    decisions_in_period: int


def providers_in_area(region_prefix: str) -> QuerySet[Provider]:
    """Active providers registered in the region, or contracted to serve part of it (an
    area inside the region, or one that contains it)."""
    return (
        Provider.objects.filter(is_active=True)
        .filter(
            Q(region__code__startswith=region_prefix)
            | Q(contracts__areas__code__startswith=region_prefix)
            | Q(contracts__areas__code__in=region_prefixes(region_prefix))
        )
        .distinct()
    )


def light_figures(*, region_prefix: str, start: datetime.date, end: datetime.date) -> LightFigures:
    """The providers serving the region by their current light, the yellow and red ones
    with their latest decision, and how many decisions were taken in the period."""
    providers = list(providers_in_area(region_prefix).order_by("name", "id"))
    counts = Counter(p.light for p in providers)
    flagged = [p for p in providers if p.light in (sc.Light.YELLOW, sc.Light.RED)]
    latest: dict[int, LightDecision] = {}
    for decision in LightDecision.objects.filter(provider__in=flagged).order_by(
        "provider_id", "-decided_at", "-id"
    ):
        latest.setdefault(decision.provider_id, decision)
    since, until = period_bounds(start, end)
    rows = [
        LightRow(
            provider_id=p.pk,
            name=p.name,
            light=p.light,
            decided_at=latest[p.pk].decided_at if p.pk in latest else None,
            reason=latest[p.pk].reason if p.pk in latest else "",
        )
        for p in flagged
    ]
    rows.sort(key=lambda r: (0 if r.light == sc.Light.RED else 1, r.name))
    return LightFigures(
        counts={light: counts.get(light, 0) for light in sc.Light.values},
        flagged=rows,
        decisions_in_period=LightDecision.objects.filter(
            provider__in=[p.pk for p in providers], decided_at__gte=since, decided_at__lt=until
        ).count(),
    )


# --- Spending -----------------------------------------------------------------------------


@dataclass
class SpendingLine:
    key: str
    label: str
    amount: Decimal


@dataclass
class SpendingFigures:
    by_fund: list[SpendingLine]
    by_item: list[SpendingLine]
    by_town: list[SpendingLine]
    total: Decimal


def _spending(
    region_prefix: str,
    start: datetime.date,
    end: datetime.date,
    by: Literal["fund", "item", "town"],
) -> list[SpendingLine]:
    rows = ledger_spending(region_prefix=region_prefix, start=start, end=end, by=by)
    return [SpendingLine(key=r.key, label=r.label, amount=r.amount) for r in rows]


def spending_figures(
    *, region_prefix: str, start: datetime.date, end: datetime.date
) -> SpendingFigures:
    """What the ledger spent on the region's orders in the period (order costs posted in
    it, net of reversals), by funding source, by service item and by town."""
    by_fund = _spending(region_prefix, start, end, "fund")
    return SpendingFigures(
        by_fund=by_fund,
        by_item=_spending(region_prefix, start, end, "item"),
        by_town=_spending(region_prefix, start, end, "town"),
        total=sum((line.amount for line in by_fund), Decimal(0)),
    )


# --- By area (county → towns, town → villages) --------------------------------------------


@dataclass
class AreaRow:
    code: str
    name: str
    households_in_warning: int = 0
    orders: int = 0
    served: int = 0
    mean_rating: float | None = None
    spending: Decimal = Decimal(0)


@dataclass
class AreaTree:
    total: AreaRow
    children: list[AreaRow]


def area_tree(
    *,
    region_prefix: str,
    start: datetime.date,
    end: datetime.date,
    warnings: WarningFigures | None = None,
    now: datetime.datetime | None = None,
) -> AreaTree:
    """The region and each region one level below it (a county's towns, a town's
    villages): households with a warning open at the end of the period, orders, served,
    mean rating and spending."""
    warnings = warnings or warning_figures(
        region_prefix=region_prefix, start=start, end=end, now=now
    )
    region = Region.objects.filter(code=region_prefix).first()
    total = AreaRow(code=region_prefix, name=region.name if region else region_prefix)
    children = {
        r.code: AreaRow(code=r.code, name=r.name)
        for r in Region.objects.filter(parent_id=region_prefix).order_by("code")
    }
    length = child_code_length(region_prefix)

    def row(code: str) -> AreaRow:
        if code not in children:
            children[code] = AreaRow(code=code, name=code)
        return children[code]

    for code, households in warnings.households_open_by_child.items():
        row(code).households_in_warning = households
    total.households_in_warning = (
        open_warnings_at(region_prefix, warnings.as_of).values("household_id").distinct().count()
    )
    orders = orders_in(region_prefix, start, end)
    by_child: dict[str, list[Any]] = defaultdict(lambda: [0, 0, 0, 0])
    for region_id, status, rating in orders.values_list("region_id", "status", "rating"):
        acc = by_child[region_id[:length]]
        acc[0] += 1
        if status in SERVED_STATUSES:
            acc[1] += 1
        if rating is not None:
            acc[2] += rating
            acc[3] += 1
    for code, (n, served, rating_sum, rated) in by_child.items():
        r = row(code)
        r.orders, r.served = n, served
        r.mean_rating = round(rating_sum / rated, 2) if rated else None
    total.orders = sum(v[0] for v in by_child.values())
    total.served = sum(v[1] for v in by_child.values())
    rated_all = sum(v[3] for v in by_child.values())
    total.mean_rating = (
        round(sum(v[2] for v in by_child.values()) / rated_all, 2) if rated_all else None
    )
    if length == 9:
        for line in _spending(region_prefix, start, end, "town"):
            row(line.key).spending += line.amount
    else:  # a town's villages: the ledger groups by town at the finest
        for code, r in list(children.items()):
            r.spending = sum(
                (line.amount for line in _spending(code, start, end, "town")), Decimal(0)
            )
    total.spending = sum(
        (line.amount for line in _spending(region_prefix, start, end, "town")), Decimal(0)
    )
    return AreaTree(total=total, children=sorted(children.values(), key=lambda r: r.code))


# --- The whole page -----------------------------------------------------------------------


@dataclass
class AreaDashboard:
    region_code: str
    region_name: str
    start: datetime.date
    end: datetime.date
    warnings: WarningFigures
    claims: ClaimFigures
    dispatch: DispatchFigures
    completion: CompletionFigures
    satisfaction: SatisfactionFigures
    lights: LightFigures
    spending: SpendingFigures
    areas: AreaTree


def area_dashboard(
    *,
    region_prefix: str,
    start: datetime.date,
    end: datetime.date,
    now: datetime.datetime | None = None,
) -> AreaDashboard:
    """Every figure of the county or town page."""
    warnings = warning_figures(region_prefix=region_prefix, start=start, end=end, now=now)
    areas = area_tree(region_prefix=region_prefix, start=start, end=end, warnings=warnings, now=now)
    kw: dict[str, Any] = {"region_prefix": region_prefix, "start": start, "end": end}
    return AreaDashboard(
        region_code=region_prefix,
        region_name=areas.total.name,
        start=start,
        end=end,
        warnings=warnings,
        claims=claim_figures(**kw),
        dispatch=dispatch_figures(**kw),
        completion=completion_figures(**kw),
        satisfaction=satisfaction_figures(**kw),
        lights=light_figures(**kw),
        spending=spending_figures(**kw),
        areas=areas,
    )


# --- A provider ---------------------------------------------------------------------------


@dataclass
class RevisitFigures:
    done: int
    passed: int
    pass_rate: float | None


@dataclass
class MonthRow:
    month: datetime.date  # first day
    orders: int = 0
    served: int = 0
    mean_rating: float | None = None


@dataclass
class ProviderDashboard:
    provider: Provider
    region_code: str  # "" for the provider's own staff: all its orders
    start: datetime.date
    end: datetime.date
    completion: CompletionFigures
    satisfaction: SatisfactionFigures
    revisits: RevisitFigures
    light: str
    decisions: list[LightDecision]
    trend: list[MonthRow]


def month_start(day: datetime.date, back: int = 0) -> datetime.date:
    return add_months(day.replace(day=1), -back)


def provider_trend(
    *, provider: Provider, region_prefix: str, end: datetime.date, months: int = 12
) -> list[MonthRow]:
    """The provider's orders, served orders and mean rating per month, for the ``months``
    months up to the one ``end`` falls in."""
    first = month_start(end, months - 1)
    rows = {
        month_start(end, back): MonthRow(month=month_start(end, back)) for back in range(months)
    }
    last = month_start(end, -1) - datetime.timedelta(days=1)
    qs = ServiceOrder.objects.filter(
        provider=provider,
        region__code__startswith=region_prefix,
        service_date__gte=first,
        service_date__lte=last,
    )
    sums: dict[datetime.date, list[int]] = defaultdict(lambda: [0, 0])
    for day, status, rating in qs.values_list("service_date", "status", "rating"):
        row = rows[day.replace(day=1)]
        row.orders += 1
        if status in SERVED_STATUSES:
            row.served += 1
        if rating is not None:
            sums[row.month][0] += rating
            sums[row.month][1] += 1
    for month, (total, n) in sums.items():
        rows[month].mean_rating = round(total / n, 2) if n else None
    return [rows[m] for m in sorted(rows)]


def provider_dashboard(
    *, provider: Provider, region_prefix: str, start: datetime.date, end: datetime.date
) -> ProviderDashboard:
    """One provider's orders in the region (``""``: everywhere), on time, satisfaction,
    no-shows, revisit results in the period, its light and the history of decisions."""
    orders = orders_in(region_prefix, start, end).filter(provider=provider)
    since, until = period_bounds(start, end)
    revisits = Revisit.objects.filter(
        provider=provider,
        region__code__startswith=region_prefix,
        status=supc.RevisitStatus.DONE,
        done_at__gte=since,
        done_at__lt=until,
    )
    done = revisits.count()
    passed = revisits.filter(passed=True).count()
    return ProviderDashboard(
        provider=provider,
        region_code=region_prefix,
        start=start,
        end=end,
        completion=_completion(orders),
        satisfaction=_satisfaction(orders),
        revisits=RevisitFigures(done=done, passed=passed, pass_rate=rate(passed, done)),
        light=provider.light,
        decisions=list(
            LightDecision.objects.filter(provider=provider)
            .select_related("decided_by")
            .order_by("-decided_at", "-id")[:100]
        ),
        trend=provider_trend(provider=provider, region_prefix=region_prefix, end=end),
    )


__all__ = [
    "AGE_BANDS",
    "AreaDashboard",
    "AreaRow",
    "AreaTree",
    "ClaimFigures",
    "CompletionFigures",
    "DispatchFigures",
    "LightFigures",
    "ProviderDashboard",
    "SatisfactionFigures",
    "SpendingFigures",
    "WarningFigures",
    "area_dashboard",
    "area_tree",
    "claim_figures",
    "completion_figures",
    "dispatch_figures",
    "light_figures",
    "provider_dashboard",
    "provider_trend",
    "providers_in_area",
    "satisfaction_figures",
    "spending_figures",
    "warning_figures",
]
