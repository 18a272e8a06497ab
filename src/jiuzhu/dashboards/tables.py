"""The figures as tables (what the page shows, what the Excel file holds, one sheet per
table) and, for most tables, a chart drawn from the same numbers by ECharts.

A chart is a small JSON object read by ``dashboards/static/dashboards/charts.js``:
``{"kind": "bar" | "stacked" | "pie" | "line", "categories": [...],
"series": [{"name": ..., "data": [...]}], "colors": [...]}``. Every chart sits beside its
table, so the figures are there without JavaScript and for screen readers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.monitoring.models import Level
from jiuzhu.services import choices as sc
from jiuzhu.supervision import choices as supc

from .selectors import AGE_BANDS, AreaDashboard, ProviderDashboard, SpendingLine

LIGHT_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828"}
LEVEL_COLOURS = {"red": "#c62828", "yellow": "#f9a825", "blue": "#1565c0"}


@dataclass(frozen=True)
class Link:
    text: str
    url: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Table:
    key: str  # also the id of the chart and the Excel sheet's order
    title: str
    header: list[str]
    rows: list[list[Any]]
    note: str = ""
    empty: str = ""  # shown instead of the rows when there are none
    chart: dict[str, Any] | None = None
    total_row: bool = False  # the last row is a total
    wide: bool = False  # many columns: cards on a phone

    @property
    def chart_id(self) -> str:
        return f"chart-{self.key}"

    @property
    def data_id(self) -> str:
        return f"chart-data-{self.key}"

    @property
    def labelled_rows(self) -> list[list[tuple[str, Any]]]:
        """Each cell with its column's name (the label of a card on a phone)."""
        return [list(zip(self.header, row, strict=False)) for row in self.rows]


@dataclass
class Page:
    tables: list[Table] = field(default_factory=list)

    def charts(self) -> list[Table]:
        return [t for t in self.tables if t.chart]


def pct(value: float | None) -> float | None:
    return round(value * 100, 1) if value is not None else None


def level_label(level: str) -> str:
    return str(Level(level).label)


def light_label(light: str) -> str:
    return str(sc.Light(light).label)


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def supervision_provider_url(provider_id: int) -> str | None:
    """The supervision app's page of a provider (its scorecards and decisions), if that
    page exists."""
    return _url("supervision:lights_provider", provider_id)


# --- The county and town pages ------------------------------------------------------------


def _warnings_table(d: AreaDashboard) -> Table:
    w = d.warnings
    bands = [label for label, _low, _high in AGE_BANDS]
    rows: list[list[Any]] = []
    for row in [*w.levels, w.total]:
        rows.append(
            [
                level_label(row.level) if row.level else _("Total"),
                row.raised,
                row.visited,
                row.median_hours_to_visit,
                row.open_at_end,
                *[row.bands[b] for b in bands],
            ]
        )
    return Table(
        key="warnings",
        title=_("Warnings by level and age"),
        header=[
            _("Level"),
            _("Raised"),
            _("Verification visits"),
            _("Median hours from warning to visit"),
            _("Open at the end"),
            *[_("Open %(band)s days") % {"band": b} for b in bands],
        ],
        rows=rows,
        note=_(
            "Raised in the period; visits made in the period; open at the end of the period "
            "(or now), by days since raised."
        ),
        total_row=True,
        wide=True,
        chart={
            "kind": "stacked",
            "categories": [_("%(band)s days") % {"band": b} for b in bands],
            "series": [
                {"name": level_label(row.level), "data": [row.bands[b] for b in bands]}
                for row in w.levels
            ],
            "colors": [LEVEL_COLOURS[row.level] for row in w.levels],
        },
    )


def _claims_table(d: AreaDashboard) -> Table:
    stats = d.claims.stats
    rows: list[list[Any]] = []
    for row in [*stats.rows, stats.total]:
        is_total = row is stats.total
        rows.append(
            [
                _("Total") if is_total else row.name,
                row.posted,
                row.claimed,
                row.fulfilled,
                pct(row.claimed / row.posted) if row.posted else None,
                pct(row.fulfilled / row.posted) if row.posted else None,
                row.median_hours_to_claim,
                row.median_hours_to_fulfil,
            ]
        )
    return Table(
        key="claims",
        title=_("Needs and claims"),
        header=[
            _("Region"),
            _("Posted"),
            _("Claimed"),
            _("Fulfilled"),
            _("Claimed (%)"),
            _("Fulfilled (%)"),
            _("Median hours to claim"),
            _("Median hours to fulfil"),
        ],
        rows=rows,
        note=_("Needs published on the claim market in the period, each counted once."),
        total_row=True,
        wide=True,
        chart={
            "kind": "bar",
            "categories": [_("Posted"), _("Claimed"), _("Fulfilled")],
            "series": [
                {
                    "name": _("Needs"),
                    "data": [d.claims.posted, d.claims.claimed, d.claims.fulfilled],
                }
            ],
        },
    )


def _dispatch_table(d: AreaDashboard) -> Table:
    x = d.dispatch
    return Table(
        key="dispatch",
        title=_("Dispatch"),
        header=[_("Figure"), _("Value")],
        rows=[
            [_("Orders placed"), x.placed],
            [_("Offered to a provider"), x.offered],
            [_("Accepted on the first offer"), x.accepted_first_offer],
            # xgettext:no-python-format
            [_("Accepted on the first offer (% of offered)"), pct(x.first_offer_share)],
            [_("Median minutes from the first offer to acceptance"), x.median_minutes_to_accept],
            [_("No provider found"), x.no_provider],
        ],
        note=_(
            "Orders with a service date in the period. No provider found: no provider "
            "accepted it and no offer is open."
        ),
        chart={
            "kind": "bar",
            "categories": [
                _("Orders placed"),
                _("Offered to a provider"),
                _("Accepted on the first offer"),
                _("No provider found"),
            ],
            "series": [
                {
                    "name": _("Orders"),
                    "data": [x.placed, x.offered, x.accepted_first_offer, x.no_provider],
                }
            ],
        },
    )


def _completion_rows(c: Any) -> list[list[Any]]:
    return [
        [_("Ordered"), c.ordered],
        [_("Still open (not counted in the rate)"), c.still_open],
        [_("Served"), c.served],
        # xgettext:no-python-format
        [_("Completion (% served of ended orders)"), pct(c.completion_rate)],
        [_("No-shows: the provider did not come"), c.no_shows_provider],
        [_("No-shows: nobody at home"), c.no_shows_beneficiary],
        [_("Cancelled"), c.cancelled],
        [_("Disputed"), c.disputed],
        [_("Served on time (%)"), pct(c.on_time_rate)],
    ]


def _completion_chart(c: Any) -> dict[str, Any]:
    other_no_shows = c.no_shows - c.no_shows_provider - c.no_shows_beneficiary
    parts = [
        (_("Served"), c.served),
        (_("No-shows"), c.no_shows_provider + c.no_shows_beneficiary + other_no_shows),
        (_("Cancelled"), c.cancelled),
        (_("Disputed"), c.disputed),
        (_("Still open"), c.still_open),
    ]
    return {
        "kind": "pie",
        "categories": [label for label, _n in parts],
        "series": [{"name": _("Orders"), "data": [n for _label, n in parts]}],
    }


def _completion_table(d: AreaDashboard) -> Table:
    return Table(
        key="completion",
        title=_("Completion"),
        header=[_("Figure"), _("Value")],
        rows=_completion_rows(d.completion),
        note=_("Orders with a service date in the period."),
        chart=_completion_chart(d.completion),
    )


def _satisfaction_table(s: Any) -> Table:
    rows: list[list[Any]] = [[r, s.distribution[r]] for r in range(1, 6)]
    rows.append([_("Mean rating"), s.mean])
    return Table(
        key="satisfaction",
        title=_("Satisfaction"),
        header=[_("Rating"), _("Orders")],
        rows=rows,
        note=_("Ratings from 1 (very unhappy) to 5 (very satisfied); %(n)s orders rated.")
        % {"n": s.rated},
        total_row=True,
        chart={
            "kind": "bar",
            "categories": [str(r) for r in range(1, 6)],
            "series": [{"name": _("Orders"), "data": [s.distribution[r] for r in range(1, 6)]}],
        },
    )


def _lights_tables(d: AreaDashboard) -> list[Table]:
    lights = d.lights
    counts = Table(
        key="lights",
        title=_("Traffic lights"),
        header=[_("Light"), _("Providers")],
        rows=[[light_label(light), n] for light, n in lights.counts.items()],
        note=_("Providers serving the area, by their light now; %(n)s decisions in the period.")
        % {"n": lights.decisions_in_period},
        chart={
            "kind": "pie",
            "categories": [light_label(light) for light in lights.counts],
            "series": [{"name": _("Providers"), "data": list(lights.counts.values())}],
            "colors": [LIGHT_COLOURS[light] for light in lights.counts],
        },
    )
    flagged = Table(
        key="flagged",
        title=_("Yellow and red providers"),
        header=[_("Provider"), _("Light"), _("Decided"), _("Reason")],
        rows=[
            [
                Link(
                    row.name,
                    supervision_provider_url(row.provider_id)
                    or reverse("dashboards:provider", args=[row.provider_id]),
                ),
                light_label(row.light),
                timezone.localtime(row.decided_at).date() if row.decided_at else None,
                row.reason,
            ]
            for row in lights.flagged
        ],
        empty=_("Every provider serving the area is green."),
        wide=True,
    )
    return [counts, flagged]


def _spending_table(
    key: str, title: str, label: str, lines: list[SpendingLine], kind: str
) -> Table:
    total = sum((line.amount for line in lines), Decimal(0))
    rows: list[list[Any]] = [[line.label, line.key, money(line.amount)] for line in lines]
    if lines:
        rows.append([_("Total"), "", money(total)])
    return Table(
        key=key,
        title=title,
        header=[label, _("Code"), _("Amount (yuan)")],
        rows=rows,
        empty=_("The ledger holds no order costs in the period."),
        total_row=bool(lines),
        chart={
            "kind": kind,
            "categories": [line.label for line in lines],
            "series": [
                {"name": _("Amount (yuan)"), "data": [float(line.amount) for line in lines]}
            ],
        }
        if lines
        else None,
    )


def _spending_tables(d: AreaDashboard) -> list[Table]:
    s = d.spending
    tables = [
        _spending_table(
            "spending-fund",
            _("Spending by funding source"),
            _("Funding source"),
            s.by_fund,
            "pie",
        ),
        _spending_table(
            "spending-item", _("Spending by service item"), _("Item"), s.by_item, "bar"
        ),
    ]
    if len(d.region_code) <= 6:
        tables.append(
            _spending_table("spending-town", _("Spending by town"), _("Town"), s.by_town, "bar")
        )
    return tables


def _areas_table(d: AreaDashboard) -> Table:
    tree = d.areas
    child_is_town = len(d.region_code) == 6
    rows: list[list[Any]] = []
    for row in tree.children:
        name: Any = row.name
        if child_is_town:
            name = Link(row.name, reverse("dashboards:town", args=[row.code]))
        rows.append(
            [
                name,
                row.code,
                row.households_in_warning,
                row.orders,
                row.served,
                row.mean_rating,
                money(row.spending),
            ]
        )
    t = tree.total
    rows.append(
        [
            _("Total · %(name)s") % {"name": t.name},
            t.code,
            t.households_in_warning,
            t.orders,
            t.served,
            t.mean_rating,
            money(t.spending),
        ]
    )
    return Table(
        key="areas",
        title=_("By town") if child_is_town else _("By village"),
        header=[
            _("Town") if child_is_town else _("Village"),
            _("Code"),
            _("Households in warning"),
            _("Orders"),
            _("Served"),
            _("Mean rating"),
            _("Spending (yuan)"),
        ],
        rows=rows,
        note=_(
            "Households with a warning open at the end of the period; orders with a service "
            "date in the period; what the ledger spent on them."
        ),
        total_row=True,
        wide=True,
        chart={
            "kind": "bar",
            "horizontal": True,
            "categories": [row.name for row in tree.children],
            "series": [
                {"name": _("Orders"), "data": [row.orders for row in tree.children]},
                {"name": _("Served"), "data": [row.served for row in tree.children]},
                {
                    "name": _("Households in warning"),
                    "data": [row.households_in_warning for row in tree.children],
                },
            ],
        },
    )


def area_page(d: AreaDashboard) -> Page:
    """Every table (and chart) of the county or town page, in the order shown."""
    return Page(
        tables=[
            _areas_table(d),
            _warnings_table(d),
            _claims_table(d),
            _dispatch_table(d),
            _completion_table(d),
            _satisfaction_table(d.satisfaction),
            *_lights_tables(d),
            *_spending_tables(d),
        ]
    )


# --- The provider page --------------------------------------------------------------------


def provider_page(d: ProviderDashboard) -> Page:
    c = d.completion
    summary = Table(
        key="provider",
        title=_("Orders and results"),
        header=[_("Figure"), _("Value")],
        rows=[
            *_completion_rows(c),
            [_("Mean rating"), d.satisfaction.mean],
            [_("Revisits done"), d.revisits.done],
            [_("Revisits passed"), d.revisits.passed],
            [_("Revisits passed (%)"), pct(d.revisits.pass_rate)],
            [_("Traffic light now"), light_label(d.light)],
        ],
        note=_("Orders with a service date in the period; revisits done in the period."),
        chart=_completion_chart(c),
    )
    satisfaction = _satisfaction_table(d.satisfaction)
    history = Table(
        key="decisions",
        title=_("Traffic-light history"),
        header=[_("Decided"), _("From"), _("To"), _("How"), _("Reason")],
        rows=[
            [
                timezone.localtime(x.decided_at).date(),
                light_label(x.from_light),
                light_label(x.to_light),
                str(supc.DecisionKind(x.kind).label)
                if x.kind in supc.DecisionKind.values
                else x.kind,
                x.reason,
            ]
            for x in d.decisions
        ],
        empty=_("No decision on this provider's light yet."),
        wide=True,
    )
    trend = Table(
        key="trend",
        title=_("Monthly trend"),
        header=[_("Month"), _("Orders"), _("Served"), _("Mean rating")],
        rows=[[m.month.strftime("%Y-%m"), m.orders, m.served, m.mean_rating] for m in d.trend],
        note=_("The twelve months up to the end of the period."),
        chart={
            "kind": "line",
            "categories": [m.month.strftime("%Y-%m") for m in d.trend],
            "series": [
                {"name": _("Orders"), "data": [m.orders for m in d.trend]},
                {"name": _("Served"), "data": [m.served for m in d.trend]},
            ],
        },
    )
    return Page(tables=[summary, satisfaction, history, trend])
