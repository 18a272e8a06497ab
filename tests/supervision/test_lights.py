"""Traffic lights at their boundaries (红绿灯)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from jiuzhu.supervision.lights import DEFAULT_THRESHOLDS, Light, Scorecard, judge

GOOD = Scorecard(
    volume=50,
    satisfaction=Decimal("4.8"),
    on_time_rate=Decimal("0.97"),
    revisit_pass_rate=Decimal("1"),
    complaint_rate=Decimal("0"),
    no_show_rate=Decimal("0"),
)


def light_of(**figures: object) -> Light | None:
    return judge(replace(GOOD, **figures), DEFAULT_THRESHOLDS)[0]  # type: ignore[arg-type]


def test_a_good_card_is_green_with_no_reasons() -> None:
    assert judge(GOOD, DEFAULT_THRESHOLDS) == (Light.GREEN, [])


@pytest.mark.parametrize(
    ("figure", "green_edge", "yellow_inside", "red_edge", "yellow_edge"),
    [
        # higher is better: green at the bound, yellow just below, red just below red
        ("satisfaction", "4.5", "4.49", "3.49", "3.5"),
        ("on_time_rate", "0.90", "0.8999", "0.7499", "0.75"),
        ("revisit_pass_rate", "0.95", "0.9499", "0.8499", "0.85"),
        # lower is better: green at the bound, yellow just above, red just above red
        ("complaint_rate", "0.02", "0.0201", "0.0501", "0.05"),
        ("no_show_rate", "0.01", "0.0101", "0.0301", "0.03"),
    ],
)
def test_each_figure_at_its_boundaries(
    figure: str, green_edge: str, yellow_inside: str, red_edge: str, yellow_edge: str
) -> None:
    assert light_of(**{figure: Decimal(green_edge)}) is Light.GREEN
    assert light_of(**{figure: Decimal(yellow_inside)}) is Light.YELLOW
    assert light_of(**{figure: Decimal(yellow_edge)}) is Light.YELLOW
    assert light_of(**{figure: Decimal(red_edge)}) is Light.RED


def test_the_worst_figure_decides_and_every_reason_is_given() -> None:
    light, reasons = judge(
        replace(GOOD, satisfaction=Decimal("4.0"), no_show_rate=Decimal("0.04")),
        DEFAULT_THRESHOLDS,
    )
    assert light is Light.RED
    assert reasons == ["satisfaction 4.0 < 4.5", "no_show_rate 0.04 > 0.03"]


def test_too_few_orders_give_no_light_and_unmeasured_figures_count_for_nothing() -> None:
    assert judge(replace(GOOD, volume=9), DEFAULT_THRESHOLDS)[0] is None
    assert light_of(volume=10) is Light.GREEN
    assert light_of(satisfaction=None, revisit_pass_rate=None) is Light.GREEN
