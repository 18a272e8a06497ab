"""Computed project metrics against independently counted orders, revisits, complaints
and need files; the proportional score at its boundaries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from jiuzhu.assessment.models import Assessment
from jiuzhu.services.models import ServiceOrder
from jiuzhu.supervision.metrics import (
    METRICS,
    due_target,
    elapsed_share,
    live_values,
    proportional_score,
)
from jiuzhu.supervision.models import Complaint, Revisit
from tests.conftest import Family, Personas
from tests.services.conftest import assess
from tests.supervision.factories import provider_with_staff, served_order
from tests.supervision.project_factories import another_family, running_project

TODAY = timezone.localdate()


def day(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


class World:
    """A project with one matched provider and, within the period: three orders of the
    family rated 5, 3 (late) and not rated; a provider no-show; one order of a second
    household rated 4. Outside: an order before the period rated 1 and an order of an
    unmatched provider rated 1."""

    def __init__(self, personas: Personas, family: Family) -> None:
        provider, _manager, worker = provider_with_staff()
        outsider, _m2, worker2 = provider_with_staff("峡江县另一家服务中心")
        self.project = running_project(personas, [provider])
        self.second = another_family()
        p = (personas, family, provider, worker)
        self.o1 = served_order(*p, day=day(30), rating=5)
        self.o2 = served_order(*p, day=day(20), rating=3, late=True)
        self.o3 = served_order(*p, day=day(10), rating=None)
        self.o4 = served_order(*p, day=day(5), no_show=True)
        self.o5 = served_order(personas, self.second, provider, worker, day=day(8), rating=4)
        served_order(*p, day=self.project.period_start - datetime.timedelta(days=1), rating=1)
        served_order(personas, family, outsider, worker2, day=day(12), rating=1)
        self.served = [self.o1, self.o2, self.o3, self.o5]
        self.start, self.end = self.project.period_start, TODAY


@pytest.fixture
def world(personas: Personas, family: Family) -> World:
    return World(personas, family)


def compute(world: World, key: str) -> Decimal | None:
    return METRICS[key].compute(world.project, world.start, world.end)


def test_satisfaction_is_the_mean_rating_of_project_orders(world: World) -> None:
    assert compute(world, "satisfaction") == Decimal("4.0000")  # (5 + 3 + 4) / 3


def test_on_time_rate_counts_served_orders_within_their_clocks(world: World) -> None:
    assert compute(world, "on_time_rate") == Decimal("0.7500")  # o2 late of 4 served


def test_activity_frequency_is_served_orders_per_month(world: World) -> None:
    days = (world.end - world.start).days + 1
    expected = Decimal(4) / (Decimal(days) / (Decimal("365.25") / 12))
    assert compute(world, "activity_frequency") == expected.quantize(Decimal("0.0001"))


def test_coverage_households_is_distinct_households_over_target(world: World) -> None:
    assert world.project.target_households == 4
    assert compute(world, "coverage_households") == Decimal("0.5000")  # 2 of 4


def test_person_times_is_served_orders_over_target(world: World) -> None:
    assert world.project.target_person_times == 20
    assert compute(world, "person_times") == Decimal("0.2000")  # 4 of 20


def test_budget_execution_is_served_amount_over_agreed_sums(world: World) -> None:
    spent = sum(
        ServiceOrder.objects.get(pk=o.pk).amount for o in world.served
    )  # independently, order by order
    assert compute(world, "budget_execution") == (spent / Decimal(100000)).quantize(
        Decimal("0.0001")
    )


def test_revisit_pass_rate_counts_done_revisits_of_project_orders(
    world: World, personas: Personas
) -> None:
    # given two done revisits (one passed, one failed) and one pending
    for order, status, passed in (
        (world.o1, "done", True),
        (world.o2, "done", False),
        (world.o5, "pending", None),
    ):
        Revisit.objects.create(
            source="ad_hoc", order=order, household=order.household, region=order.region,
            provider=order.provider, method="phone", status=status, due_date=TODAY,
            passed=passed,
        )  # fmt: skip
    # then
    assert compute(world, "revisit_pass_rate") == Decimal("0.5000")


def test_revisit_pass_rate_is_none_without_revisits(world: World) -> None:
    assert compute(world, "revisit_pass_rate") is None


def test_need_file_timeliness_reads_the_latest_assessment(
    world: World, personas: Personas, family: Family
) -> None:
    # given the family assessed 10 days ago, the second household 200 days ago
    recent = assess(personas.village_assistant, family.household)
    old = assess(personas.village_assistant, world.second.household)
    Assessment.objects.filter(pk=recent.pk).update(
        assessed_at=timezone.now() - datetime.timedelta(days=10)
    )
    Assessment.objects.filter(pk=old.pk).update(
        assessed_at=timezone.now() - datetime.timedelta(days=200)
    )
    # then one of the two households served is up to date
    assert compute(world, "need_file_timeliness") == Decimal("0.5000")
    # and 91 days ago is outside the window, 90 days inside
    Assessment.objects.filter(pk=old.pk).update(
        assessed_at=timezone.make_aware(
            datetime.datetime.combine(TODAY - datetime.timedelta(days=90), datetime.time(9))
        )
    )
    assert compute(world, "need_file_timeliness") == Decimal("1.0000")
    Assessment.objects.filter(pk=old.pk).update(
        assessed_at=timezone.make_aware(
            datetime.datetime.combine(TODAY - datetime.timedelta(days=91), datetime.time(9))
        )
    )
    assert compute(world, "need_file_timeliness") == Decimal("0.5000")


def test_complaint_and_no_show_rates(world: World, personas: Personas) -> None:
    Complaint.objects.create(
        provider=world.o2.provider, order=world.o2, household=world.o2.household,
        region=world.o2.region, channel="phone", text="迟到", status="upheld",
        received_at=timezone.now(),
    )  # fmt: skip
    Complaint.objects.create(
        provider=world.o1.provider, order=world.o1, household=world.o1.household,
        region=world.o1.region, channel="phone", text="不实", status="dismissed",
        received_at=timezone.now(),
    )  # fmt: skip
    assert compute(world, "complaint_rate") == Decimal("0.2500")  # 1 upheld of 4 served
    assert compute(world, "no_show_rate") == Decimal("0.2000")  # 1 of 4 served + 1 missed


def test_a_window_narrows_every_count(world: World) -> None:
    # only o1 (30 days ago) is in [start, 25 days ago]
    start, end = world.start, day(25)
    assert METRICS["satisfaction"].compute(world.project, start, end) == Decimal("5.0000")
    assert METRICS["person_times"].compute(world.project, start, end) == Decimal("0.0500")


def test_live_values_measure_every_metric(world: World) -> None:
    values = live_values(world.project)
    assert set(values) == set(METRICS)
    assert values["satisfaction"] == Decimal("4.0000")


def test_nothing_measured_is_none(personas: Personas) -> None:
    provider, _m, _w = provider_with_staff()
    project = running_project(personas, [provider], target_households=0)
    for key in ("satisfaction", "on_time_rate", "coverage_households", "need_file_timeliness"):
        assert METRICS[key].compute(project, project.period_start, TODAY) is None


def test_every_metric_has_a_label_and_unit() -> None:
    for metric in METRICS.values():
        assert str(metric.label) and str(metric.unit)


# --- scores --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "higher", "score"),
    [
        ("4.5", "4.5", True, "100.00"),
        ("5", "4.5", True, "100.00"),  # capped
        ("4.05", "4.5", True, "90.00"),
        ("0", "0.95", True, "0.00"),
        ("0.02", "0.02", False, "100.00"),
        ("0", "0.02", False, "100.00"),
        ("0.04", "0.02", False, "50.00"),
        ("0.021", "0.02", False, "95.24"),
    ],
)
def test_proportional_score(value: str, target: str, higher: bool, score: str) -> None:
    assert proportional_score(Decimal(value), Decimal(target), higher_is_better=higher) == Decimal(
        score
    )


def test_no_value_no_score() -> None:
    assert proportional_score(None, Decimal(1)) is None
    assert proportional_score(Decimal(1), None) is None


@settings(max_examples=200, deadline=None)
@given(
    value=st.decimals(min_value=0, max_value=1000, places=4),
    target=st.decimals(min_value="0.0001", max_value=1000, places=4),
    higher=st.booleans(),
)
def test_scores_stay_between_0_and_100(value: Decimal, target: Decimal, higher: bool) -> None:
    score = proportional_score(value, target, higher_is_better=higher)
    assert score is not None and Decimal(0) <= score <= Decimal(100)
    better = value + 1 if higher else value / 2
    assert proportional_score(better, target, higher_is_better=higher) >= score  # type: ignore[operator]


def test_progress_targets_are_due_in_proportion(personas: Personas) -> None:
    provider, _m, _w = provider_with_staff()
    project = running_project(personas, [provider])
    days = (project.period_end - project.period_start).days + 1
    share = elapsed_share(project, TODAY)
    assert share == Decimal(61) / Decimal(days)  # 60 days before today, inclusive
    assert due_target(METRICS["person_times"], Decimal(1), project, TODAY) == share.quantize(
        Decimal("0.0001")
    )
    assert due_target(METRICS["satisfaction"], Decimal("4.5"), project, TODAY) == Decimal("4.5")
    assert elapsed_share(project, project.period_end + datetime.timedelta(days=9)) == 1
