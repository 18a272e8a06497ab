"""Every figure of the statistics pages against the seeded September (factories.september
says which rows make which number), for the county, a town and a provider; the age bands
and the period picker at their boundaries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from jiuzhu.dashboards import selectors as sel
from jiuzhu.dashboards.periods import period_from_query
from jiuzhu.services.models import Need, ServiceOrder
from tests.conftest import COUNTY, OTHER_TOWN, TOWN, Family, Personas
from tests.dashboards.factories import END, START, World, september


@pytest.fixture
def world(personas: Personas, family: Family) -> World:
    return september(personas, family)


def test_county_orders_completion_satisfaction_and_dispatch(world: World) -> None:
    # given the seeded month; the same figures counted straight from the rows
    in_period = ServiceOrder.objects.filter(
        region__code__startswith=COUNTY, service_date__range=(START, END)
    )
    served = in_period.filter(status__in=["checked_out", "closed"])
    ratings = list(in_period.exclude(rating=None).values_list("rating", flat=True))

    # when
    d = sel.area_dashboard(region_prefix=COUNTY, start=START, end=END)

    # then: o1–o5, o7, o8; o6 is in October
    c = d.completion
    assert (c.ordered, c.still_open, c.ended, c.served) == (7, 1, 6, 5)
    assert c.ordered == in_period.count() and c.served == served.count()
    assert c.completion_rate == pytest.approx(5 / 6)
    assert (c.no_shows, c.no_shows_provider, c.no_shows_beneficiary) == (1, 1, 0)
    assert (c.cancelled, c.disputed) == (0, 0)
    assert (c.on_time, c.timed) == (4, 5)  # o2 was late
    s = d.satisfaction
    assert s.rated == len(ratings) == 5
    assert s.mean == pytest.approx(sum(ratings) / len(ratings)) == 3.0
    assert s.distribution == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    x = d.dispatch
    assert (x.placed, x.offered, x.accepted_first_offer) == (7, 2, 1)
    assert x.first_offer_share == 0.5
    assert x.median_minutes_to_accept == 65.0  # median of 30 and 100
    assert x.no_provider == 1  # o7


def test_county_warnings_by_level_age_and_time_to_visit(world: World) -> None:
    # when
    w = sel.warning_figures(region_prefix=COUNTY, start=START, end=END)

    # then
    red, yellow, blue = w.levels
    assert (red.raised, yellow.raised, blue.raised, w.total.raised) == (2, 2, 1, 5)
    # Visits in September: W1 after 24 h, W5 after 264 h (raised in August).
    assert (red.visited, w.total.visited) == (2, 2)
    assert red.median_hours_to_visit == w.total.median_hours_to_visit == 144.0
    assert yellow.median_hours_to_visit is None
    # Open at the end of September: W2 (>15), W3 (0–3), W4 (8–15, visited in October), Wx (4–7).
    assert w.total.open_at_end == 4
    assert w.total.bands == {"0–3": 1, "4–7": 1, "8–15": 1, ">15": 1}
    assert yellow.bands == {"0–3": 0, "4–7": 0, "8–15": 1, ">15": 1}
    assert red.bands["4–7"] == 1 and blue.bands["0–3"] == 1
    assert w.households_open_by_child == {TOWN: 1, OTHER_TOWN: 1}


def test_a_warning_verified_before_the_end_is_not_open_at_the_end(world: World) -> None:
    # when: the period ends on 3 September at midnight (W1 was visited on the 3rd at 10:00)
    w = sel.warning_figures(region_prefix=TOWN, start=START, end=datetime.date(2026, 9, 2))

    # then: W1 is open at the end, W5 was visited on the 5th, so it too
    red = w.levels[0]
    assert red.open_at_end == 2
    assert red.raised == 1 and red.visited == 0


def test_claims_lights_and_spending(world: World) -> None:
    # given
    posted = Need.objects.filter(
        route="claim", published_at__date__range=(START, END), region__code__startswith=COUNTY
    )

    # when
    d = sel.area_dashboard(region_prefix=COUNTY, start=START, end=END)

    # then
    assert (d.claims.posted, d.claims.claimed, d.claims.fulfilled) == (posted.count(), 1, 0)
    assert d.claims.posted == 2 and d.claims.claim_rate == 0.5
    assert d.lights.counts == {"green": 1, "yellow": 1, "red": 1}
    assert [(r.name, r.light) for r in d.lights.flagged] == [
        (world.p3.name, "red"),
        (world.p2.name, "yellow"),
    ]
    assert d.lights.flagged[0].reason == "多次未上门"
    assert d.lights.decisions_in_period == 2
    total = world.spent_town + world.spent_other_town
    assert d.spending.total == total
    assert [(x.key, x.amount) for x in d.spending.by_fund] == [("fund:xj-voucher", total)]
    assert [(x.key, x.amount) for x in d.spending.by_item] == [("item:hair_cut", total)]
    assert {x.key: x.amount for x in d.spending.by_town} == {
        TOWN: world.spent_town,
        OTHER_TOWN: world.spent_other_town,
    }


def test_by_town_tree(world: World) -> None:
    # when
    tree = sel.area_tree(region_prefix=COUNTY, start=START, end=END)

    # then: every town of the county is a row, the two active ones with their figures
    rows = {r.code: r for r in tree.children}
    assert all(len(code) == 9 for code in rows) and TOWN in rows and OTHER_TOWN in rows
    town, other = rows[TOWN], rows[OTHER_TOWN]
    assert (town.households_in_warning, town.orders, town.served) == (1, 6, 4)
    assert town.mean_rating == 3.5  # 5, 4, 2, 3
    assert town.spending == world.spent_town
    assert (other.households_in_warning, other.orders, other.served, other.mean_rating) == (
        1,
        1,
        1,
        1.0,
    )
    assert other.spending == world.spent_other_town
    t = tree.total
    assert (t.households_in_warning, t.orders, t.served, t.mean_rating) == (2, 7, 5, 3.0)
    assert t.spending == world.spent_town + world.spent_other_town
    assert sum(r.orders for r in tree.children) == t.orders


def test_town_page_figures_are_the_towns_only(world: World, family: Family) -> None:
    # when
    d = sel.area_dashboard(region_prefix=TOWN, start=START, end=END)

    # then: villages below the town; the other town's order and warning are left out
    assert (d.completion.ordered, d.completion.served) == (6, 4)
    assert d.warnings.total.open_at_end == 3
    assert d.spending.total == world.spent_town
    villages = {r.code: r for r in d.areas.children}
    village = villages[family.household.region_id]
    assert (village.orders, village.served, village.households_in_warning) == (6, 4, 1)
    assert village.spending == world.spent_town
    assert all(len(code) == 12 for code in villages)


def test_provider_figures(world: World) -> None:
    # when: the county's view of P1, and the town's
    d = sel.provider_dashboard(provider=world.p1, region_prefix=COUNTY, start=START, end=END)
    town = sel.provider_dashboard(provider=world.p1, region_prefix=TOWN, start=START, end=END)

    # then: o1, o2, o3, o4, o8
    c = d.completion
    assert (c.ordered, c.served, c.no_shows_provider) == (5, 4, 1)
    assert (c.on_time, c.timed) == (3, 4)
    assert d.satisfaction.mean == 3.0  # 5, 4, 2, 1
    assert (d.revisits.done, d.revisits.passed, d.revisits.pass_rate) == (2, 1, 0.5)
    assert d.light == "green" and d.decisions == []
    september_row = d.trend[-1]
    assert september_row.month == datetime.date(2026, 9, 1)
    assert (september_row.orders, september_row.served) == (5, 4)
    assert len(d.trend) == 12 and d.trend[0].month == datetime.date(2025, 10, 1)
    assert (town.completion.ordered, town.completion.served) == (4, 3)  # without o8
    p2 = sel.provider_dashboard(provider=world.p2, region_prefix="", start=START, end=END)
    assert [x.to_light for x in p2.decisions] == ["yellow"]
    assert p2.completion.served == 1 and p2.satisfaction.mean == 3.0


def test_an_empty_area_has_no_rates(regions: None) -> None:
    # given: nothing but the regions

    # when
    d = sel.area_dashboard(region_prefix=COUNTY, start=START, end=END)

    # then: counts are zero and rates and means are absent, not zero
    assert d.completion.ordered == 0 and d.completion.completion_rate is None
    assert d.satisfaction.mean is None and d.dispatch.first_offer_share is None
    assert d.warnings.total.median_hours_to_visit is None
    assert d.spending.total == 0 and d.lights.counts == {"green": 0, "yellow": 0, "red": 0}


@pytest.mark.parametrize(
    ("days", "band"),
    [(0, "0–3"), (3, "0–3"), (4, "4–7"), (7, "4–7"), (8, "8–15"), (15, "8–15"), (16, ">15")],
)
def test_age_band_boundaries(days: int, band: str) -> None:
    assert sel.age_band(days) == band


@pytest.mark.parametrize(
    ("query", "start", "end", "errors"),
    [
        ({}, "2026-11-01", "2026-11-23", 0),
        ({"period": "last_month"}, "2026-10-01", "2026-10-31", 0),
        ({"period": "last_30"}, "2026-10-25", "2026-11-23", 0),
        ({"from": "2026-09-01", "until": "2026-09-30"}, "2026-09-01", "2026-09-30", 0),
        ({"period": "custom", "from": "2026-09-30", "until": "2026-09-01"}, None, None, 1),
        ({"period": "custom", "from": "2026-13-01", "until": "2026-09-01"}, None, None, 1),
        ({"period": "custom", "from": "2020-01-01", "until": "2026-09-01"}, None, None, 1),
    ],
)
def test_period_picker(
    query: dict[str, str], start: str | None, end: str | None, errors: int
) -> None:
    # when
    period = period_from_query(query, datetime.date(2026, 11, 23))

    # then
    assert len(period.errors) == errors
    if start is not None:
        assert (period.start.isoformat(), period.end.isoformat()) == (start, end)
    else:  # refused: this month, with what was typed kept
        assert period.start == datetime.date(2026, 11, 1)
        assert period.typed_from == query["from"]


def test_spending_by_town_sums_to_the_total(world: World) -> None:
    d = sel.spending_figures(region_prefix=COUNTY, start=START, end=END)
    assert sum((x.amount for x in d.by_town), Decimal(0)) == d.total
    assert sum((x.amount for x in d.by_item), Decimal(0)) == d.total
