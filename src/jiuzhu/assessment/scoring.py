"""Scoring methods: from a validated definition and the answers to a score, a tier and the
indicators that need help. Pure Python (no Django).

- ``weighted``: score = 100 × Σ(weight × points) / Σ(weight × max points), rounded half
  up to one decimal; the tier is the first (tiers run high → low) whose ``min_score`` is at
  most the rounded score. So 60.0 is "high" under a cut-off of 60, and 59.9 is not.
- ``count``: the number of answers whose option is ``counted`` (e.g. "unable"); the tier
  is the one whose [min_count, max_count] holds it. The score is that count.

Answers are ``{indicator code: option code}``; every indicator must be answered, and an
unknown indicator or option is refused (:class:`AnswerError`, problems by indicator).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from jiuzhu.assessment.definition import Definition, Option, Problem, Tier, gettext_noop

ONE_DECIMAL = Decimal("0.1")


class AnswerError(ValueError):
    """``problems`` maps an indicator code ("" for the whole form) to what is wrong."""

    def __init__(self, problems: dict[str, Problem]) -> None:
        super().__init__("; ".join(f"{k}: {p.render()}" for k, p in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Outcome:
    score: Decimal
    tier: Tier
    needs: tuple[str, ...]  # indicator codes that need help, in instrument order


def chosen_options(definition: Definition, answers: Mapping[str, object]) -> dict[str, Option]:
    """The option chosen for every indicator, or :class:`AnswerError`."""
    problems: dict[str, Problem] = {}
    chosen: dict[str, Option] = {}
    known = {i.code for i in definition.indicators}
    for code in answers:
        if code not in known:
            problems[str(code)] = Problem(
                gettext_noop("“%(code)s” is not an indicator of this instrument."),
                {"code": code},
            )
    for indicator in definition.indicators:
        raw = answers.get(indicator.code)
        if raw is None or str(raw).strip() == "":
            problems[indicator.code] = Problem(
                gettext_noop("Answer “%(label)s”."), {"label": indicator.label}
            )
            continue
        option = indicator.option(str(raw).strip())
        if option is None:
            problems[indicator.code] = Problem(
                gettext_noop("“%(value)s” is not an answer to “%(label)s”."),
                {"value": raw, "label": indicator.label},
            )
            continue
        chosen[indicator.code] = option
    if problems:
        raise AnswerError(problems)
    return chosen


def score_weighted(definition: Definition, chosen: Mapping[str, Option]) -> Decimal:
    got = sum((i.weight * chosen[i.code].points for i in definition.indicators), Decimal(0))
    best = sum((i.weight * i.max_points for i in definition.indicators), Decimal(0))
    return (Decimal(100) * got / best).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def tier_for_score(definition: Definition, score: Decimal) -> Tier:
    for tier in definition.tiers:
        if tier.min_score is not None and tier.min_score <= score:
            return tier
    return definition.tiers[-1]  # validation makes the last cut-off 0: not reached


def count_flagged(definition: Definition, chosen: Mapping[str, Option]) -> int:
    return sum(1 for i in definition.indicators if chosen[i.code].counted)


def tier_for_count(definition: Definition, count: int) -> Tier:
    for tier in definition.tiers:
        low, high = tier.min_count, tier.max_count
        if low is not None and high is not None and low <= count <= high:
            return tier
    raise ValueError(f"no tier covers the count {count}")  # validation prevents it


def score(definition: Definition, answers: Mapping[str, object]) -> Outcome:
    chosen = chosen_options(definition, answers)
    needs = tuple(i.code for i in definition.indicators if chosen[i.code].needs_help)
    if definition.method == "count":
        count = count_flagged(definition, chosen)
        return Outcome(score=Decimal(count), tier=tier_for_count(definition, count), needs=needs)
    value = score_weighted(definition, chosen)
    return Outcome(score=value, tier=tier_for_score(definition, value), needs=needs)
