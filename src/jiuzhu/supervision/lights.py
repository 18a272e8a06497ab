"""Provider traffic lights (红绿灯准入退出) from a period's scorecard. Pure: no Django.

Huimin judges providers mainly by beneficiaries' satisfaction: green continues, yellow is
warned and must rectify, red is expelled. A scorecard holds the period's figures; the
thresholds are configuration (a county edits them). Each figure is judged against two
bounds — at or better than ``green`` is fine, worse than ``red`` is serious, in between
is a warning — and the light is the worst of the figures. Too few orders to judge fairly
(``min_volume``) gives no light change at all.

    light, reasons = judge(card, THRESHOLDS)   # ("yellow", ["on_time_rate 0.82 < 0.90"])
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True)
class Scorecard:
    volume: int  # orders completed in the period
    satisfaction: Decimal | None  # mean rating 1–5; None: no ratings
    on_time_rate: Decimal | None  # share started and finished within their clocks
    revisit_pass_rate: Decimal | None  # share of revisits that confirmed the record
    complaint_rate: Decimal  # disputes and complaints per order
    no_show_rate: Decimal  # provider no-shows per order


@dataclass(frozen=True)
class Bound:
    """For "higher is better" figures, green ≥ ``green`` and red < ``red``; for "lower is
    better" ones (``higher_is_better=False``), green ≤ ``green`` and red > ``red``."""

    green: Decimal
    red: Decimal
    higher_is_better: bool = True


@dataclass(frozen=True)
class Thresholds:
    min_volume: int
    bounds: dict[str, Bound]


DEFAULT_THRESHOLDS = Thresholds(
    min_volume=10,
    bounds={
        "satisfaction": Bound(green=Decimal("4.5"), red=Decimal("3.5")),
        "on_time_rate": Bound(green=Decimal("0.90"), red=Decimal("0.75")),
        "revisit_pass_rate": Bound(green=Decimal("0.95"), red=Decimal("0.85")),
        "complaint_rate": Bound(green=Decimal("0.02"), red=Decimal("0.05"), higher_is_better=False),
        "no_show_rate": Bound(green=Decimal("0.01"), red=Decimal("0.03"), higher_is_better=False),
    },
)


def judge(card: Scorecard, thresholds: Thresholds) -> tuple[Light | None, list[str]]:
    """The light the figures earn and why; ``None`` when the volume is too small."""
    if card.volume < thresholds.min_volume:
        return None, [f"volume {card.volume} < {thresholds.min_volume}"]
    worst = Light.GREEN
    reasons: list[str] = []
    for name, bound in thresholds.bounds.items():
        value = getattr(card, name)
        if value is None:
            continue  # nothing measured (no ratings, no revisits): not held against anyone
        level = _level(Decimal(value), bound)
        if level is Light.GREEN:
            continue
        sign = "<" if bound.higher_is_better else ">"
        limit = bound.red if level is Light.RED else bound.green
        reasons.append(f"{name} {value} {sign} {limit}")
        if level is Light.RED or worst is Light.GREEN:
            worst = level
    return worst, reasons


def _level(value: Decimal, bound: Bound) -> Light:
    if bound.higher_is_better:
        if value >= bound.green:
            return Light.GREEN
        return Light.RED if value < bound.red else Light.YELLOW
    if value <= bound.green:
        return Light.GREEN
    return Light.RED if value > bound.red else Light.YELLOW
