"""A provider's scorecard figures from plain counts, and why each figure earns its light.
Pure: no database (``supervision.services.scorecards`` does the counting).

    card = scorecard_from(Counts(volume=40, rating_sum=180, rated=40, on_time=38, ...))
    light, findings = assess(card, thresholds)

Figures are Decimals: rates rounded half-up to 4 places, satisfaction (the mean rating)
to 2 places, the precision the scorecard row keeps. The light is judged on the rounded
figures, the ones people read on the page, so what is shown is what was judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from jiuzhu.supervision.lights import Bound, Light, Scorecard, Thresholds, judge

RATE_PLACES = Decimal("0.0001")
SATISFACTION_PLACES = Decimal("0.01")
FIGURES = ("satisfaction", "on_time_rate", "revisit_pass_rate", "complaint_rate", "no_show_rate")


@dataclass(frozen=True)
class Counts:
    """What was counted for one provider and period."""

    volume: int  # served orders (checked out or closed) checked out in the period
    rating_sum: int = 0  # sum of the ratings of those rated
    rated: int = 0  # how many of them are rated
    on_time: int = 0  # served orders started and finished within their clocks
    revisits_done: int = 0
    revisits_passed: int = 0
    complaints_upheld: int = 0  # upheld complaints received in the period
    disputes: int = 0  # orders disputed in the period
    provider_no_shows: int = 0  # the provider did not come (service date in the period)


def rate(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator rounded half-up to 4 places; None when nothing to divide."""
    if denominator <= 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, ROUND_HALF_UP)


def mean_rating(rating_sum: int, rated: int) -> Decimal | None:
    if rated <= 0:
        return None
    return (Decimal(rating_sum) / Decimal(rated)).quantize(SATISFACTION_PLACES, ROUND_HALF_UP)


def _zero_if_none(value: Decimal | None) -> Decimal:
    return Decimal("0.0000") if value is None else value


def scorecard_from(counts: Counts) -> Scorecard:
    """The figures. Unmeasured ones are None (no ratings, no revisits, no orders) and count
    for nothing; the complaint and no-show rates are 0 when there is nothing to divide."""
    return Scorecard(
        volume=counts.volume,
        satisfaction=mean_rating(counts.rating_sum, counts.rated),
        on_time_rate=rate(counts.on_time, counts.volume),
        revisit_pass_rate=rate(counts.revisits_passed, counts.revisits_done),
        complaint_rate=_zero_if_none(
            rate(counts.complaints_upheld + counts.disputes, counts.volume)
        ),
        no_show_rate=_zero_if_none(
            rate(counts.provider_no_shows, counts.volume + counts.provider_no_shows)
        ),
    )


@dataclass(frozen=True)
class Finding:
    """One figure outside its green bound: the level it reached and the bound it crossed."""

    figure: str
    value: Decimal
    level: Light  # yellow or red
    limit: Decimal  # the green bound for yellow, the red bound for red
    higher_is_better: bool

    def as_json(self) -> dict[str, object]:
        return {
            "figure": self.figure,
            "value": str(self.value),
            "level": self.level.value,
            "limit": str(self.limit),
            "higher_is_better": self.higher_is_better,
        }


def assess(card: Scorecard, thresholds: Thresholds) -> tuple[Light | None, list[Finding]]:
    """The light (``supervision.lights.judge``) and a finding per figure that is not
    green. No light (None) when the volume is under the minimum; then no findings."""
    light, _reasons = judge(card, thresholds)
    if light is None:
        return None, []
    findings = []
    for name, bound in thresholds.bounds.items():
        value = getattr(card, name)
        if value is None:
            continue
        alone = Thresholds(min_volume=0, bounds={name: bound})
        level, _why = judge(card, alone)
        if level is None or level is Light.GREEN:
            continue
        findings.append(
            Finding(
                figure=name,
                value=Decimal(value),
                level=level,
                limit=bound.red if level is Light.RED else bound.green,
                higher_is_better=bound.higher_is_better,
            )
        )
    return light, findings


def thresholds_from(
    bounds: dict[str, dict[str, object]] | None, min_volume: int, defaults: Thresholds
) -> Thresholds:
    """A county's stored bounds ({figure: {"green": "0.9", "red": "0.75"}}) over the
    defaults; which way is better always comes from the defaults. Unknown figures and
    malformed numbers are ignored (the settings page refuses them in the first place)."""
    merged: dict[str, Bound] = {}
    for name, default in defaults.bounds.items():
        given = (bounds or {}).get(name) or {}
        try:
            green = Decimal(str(given.get("green", default.green)))
            red = Decimal(str(given.get("red", default.red)))
        except ArithmeticError:
            green, red = default.green, default.red
        if not (green.is_finite() and red.is_finite()):
            green, red = default.green, default.red
        merged[name] = Bound(green=green, red=red, higher_is_better=default.higher_is_better)
    return Thresholds(min_volume=min_volume, bounds=merged)


LIGHT_ORDER = {Light.GREEN.value: 0, Light.YELLOW.value: 1, Light.RED.value: 2}


def is_better(light: str, than: str) -> bool:
    """green is better than yellow, yellow better than red."""
    return LIGHT_ORDER[light] < LIGHT_ORDER[than]
