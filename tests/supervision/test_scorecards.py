"""Scorecard figures counted from real served orders (supervision.light_selectors and
supervision.scorecards): volume, satisfaction, on-time, revisit pass, complaint and
no-show rates, each in its period only."""

from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services.models import ServiceOrder
from jiuzhu.services.services.orders import order_dispute
from jiuzhu.supervision.scorecards import Counts, mean_rating, rate, scorecard_from
from jiuzhu.supervision.services.scorecards import scorecard_compute
from tests.conftest import Family, Personas
from tests.supervision.test_light_support import (
    DAY,
    END,
    START,
    at,
    complaint,
    orders,
    provider_with_staff,
    revisit,
    served_order,
)

BEFORE = datetime.date(2026, 9, 30)
AFTER = datetime.date(2026, 11, 1)


def test_figures_of_a_month_from_served_orders(personas: Personas, family: Family) -> None:
    # given four served orders in October (ratings 5, 4, 3 and one unrated), one of them
    # late; one served in September and one in November (not counted)
    provider, _manager, worker = provider_with_staff()
    served = orders(personas, family, provider, worker, [5, 4, 3, None], late=1)
    served_order(personas, family, provider, worker, day=BEFORE, rating=1)
    served_order(personas, family, provider, worker, day=AFTER, rating=1)
    # two revisits done in October (one failed), one pending, one done in November
    revisit(served[0], passed=True)
    revisit(served[1], passed=False)
    revisit(served[2], passed=False, status="pending")
    revisit(served[3], passed=False, day=AFTER)
    # one upheld complaint in October, one dismissed, one upheld in September
    complaint(provider)
    complaint(provider, status="dismissed")
    complaint(provider, day=BEFORE)
    # when
    card = scorecard_compute(provider=provider, period_start=START, period_end=END)
    # then
    assert card.volume == 4
    assert card.satisfaction == Decimal("4.00")  # (5 + 4 + 3) / 3, the unrated not counted
    assert card.on_time_rate == Decimal("0.7500")
    assert card.revisit_pass_rate == Decimal("0.5000")
    assert card.complaint_rate == Decimal("0.2500")  # one upheld / four served
    assert card.no_show_rate == Decimal("0.0000")


def test_the_period_is_inclusive_at_both_ends(personas: Personas, family: Family) -> None:
    # given orders checked out on the first and on the last day of the month
    provider, _manager, worker = provider_with_staff()
    served_order(personas, family, provider, worker, day=START, rating=5)
    served_order(personas, family, provider, worker, day=END, rating=3)
    # when
    card = scorecard_compute(provider=provider, period_start=START, period_end=END)
    # then
    assert card.volume == 2
    assert card.satisfaction == Decimal("4.00")


def test_provider_no_shows_count_and_the_beneficiarys_do_not(
    personas: Personas, family: Family
) -> None:
    # given three served orders and one provider no-show in October, and an empty house
    provider, _manager, worker = provider_with_staff()
    orders(personas, family, provider, worker, [5, 5, 5])
    served_order(personas, family, provider, worker, day=DAY, no_show=True)
    empty_house = served_order(personas, family, provider, worker, day=DAY, no_show=True)
    ServiceOrder.objects.filter(pk=empty_house.pk).update(absent="beneficiary")
    # when
    card = scorecard_compute(provider=provider, period_start=START, period_end=END)
    # then one of four: no-shows / (served + no-shows)
    assert card.volume == 3
    assert card.no_show_rate == Decimal("0.2500")


def test_disputes_in_the_period_count_as_complaints(personas: Personas, family: Family) -> None:
    # given three orders served in October, one of them disputed (on 20 October)
    provider, _manager, worker = provider_with_staff()
    served = orders(personas, family, provider, worker, [5, 5, None])
    order_dispute(actor=personas.village_assistant, order=served[2], reason="没有剪完")
    TimelineEvent.objects.filter(kind="services.order_disputed").update(
        occurred_at=at(datetime.date(2026, 10, 20))
    )
    # and two more served and still closed, plus one upheld complaint
    orders(personas, family, provider, worker, [4, 4])
    complaint(provider)
    # when
    card = scorecard_compute(provider=provider, period_start=START, period_end=END)
    # then the disputed order is not served volume; (1 complaint + 1 dispute) / 4
    assert card.volume == 4
    assert card.complaint_rate == Decimal("0.5000")
    # and in November the dispute does not count
    november = scorecard_compute(
        provider=provider, period_start=AFTER, period_end=datetime.date(2026, 11, 30)
    )
    assert november.complaint_rate == Decimal("0.0000")


def test_a_missing_clock_does_not_count_against_and_nothing_measured_is_none(
    personas: Personas, family: Family
) -> None:
    # given two unrated orders served in October, without clocks
    provider, _manager, worker = provider_with_staff()
    served = orders(personas, family, provider, worker, [None, None])
    ServiceOrder.objects.filter(pk__in=[o.pk for o in served]).update(
        start_due_at=None, finish_due_at=None
    )
    # when
    card = scorecard_compute(provider=provider, period_start=START, period_end=END)
    # then
    assert card.on_time_rate == Decimal("1.0000")
    assert card.satisfaction is None
    assert card.revisit_pass_rate is None
    # and a provider that served nothing
    idle, _m, _w = provider_with_staff("峡江县空闲服务社")
    empty = scorecard_compute(provider=idle, period_start=START, period_end=END)
    assert (empty.volume, empty.on_time_rate, empty.complaint_rate, empty.no_show_rate) == (
        0,
        None,
        Decimal("0.0000"),
        Decimal("0.0000"),
    )


def test_another_providers_rows_never_count(personas: Personas, family: Family) -> None:
    # given two providers; only the other one has orders, complaints and revisits
    provider, _m, _w = provider_with_staff()
    other, _m2, other_worker = provider_with_staff("峡江县另一家服务中心")
    served = orders(personas, family, other, other_worker, [1, 1])
    complaint(other)
    revisit(served[0], passed=False)
    # when
    card = scorecard_compute(provider=provider, period_start=START, period_end=END)
    # then
    assert (card.volume, card.satisfaction, card.revisit_pass_rate) == (0, None, None)
    assert card.complaint_rate == Decimal("0.0000")


# --- the arithmetic, without the database ----------------------------------------------------


def test_rates_round_half_up_to_four_places() -> None:
    assert rate(2, 3) == Decimal("0.6667")
    assert rate(1, 3) == Decimal("0.3333")
    assert rate(1, 8) == Decimal("0.1250")
    assert rate(1, 0) is None
    assert mean_rating(13, 3) == Decimal("4.33")
    assert mean_rating(9, 2) == Decimal("4.50")


@settings(max_examples=200, deadline=None)
@given(
    volume=st.integers(0, 500),
    data=st.data(),
)
def test_figures_stay_in_their_ranges(volume: int, data: st.DataObject) -> None:
    rated = data.draw(st.integers(0, volume))
    ratings = data.draw(st.lists(st.integers(1, 5), min_size=rated, max_size=rated))
    done = data.draw(st.integers(0, 50))
    counts = Counts(
        volume=volume,
        rating_sum=sum(ratings),
        rated=rated,
        on_time=data.draw(st.integers(0, volume)),
        revisits_done=done,
        revisits_passed=data.draw(st.integers(0, done)),
        complaints_upheld=data.draw(st.integers(0, 20)),
        disputes=data.draw(st.integers(0, volume)),
        provider_no_shows=data.draw(st.integers(0, 20)),
    )
    card = scorecard_from(counts)
    for value in (card.on_time_rate, card.revisit_pass_rate, card.no_show_rate):
        assert value is None or Decimal(0) <= value <= Decimal(1)
    assert card.satisfaction is None or Decimal(1) <= card.satisfaction <= Decimal(5)
    assert card.complaint_rate >= 0
    assert (card.satisfaction is None) == (rated == 0)
    assert (card.on_time_rate is None) == (volume == 0)
