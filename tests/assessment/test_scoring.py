"""The scoring methods at their boundaries: the national self-care rule and the tier
cut-offs of the weighted method (pure functions, no database)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from jiuzhu.assessment.defaults import FAMILY_NEEDS, SELF_CARE_6
from jiuzhu.assessment.definition import validate
from jiuzhu.assessment.scoring import AnswerError, score

SELF_CARE = validate(SELF_CARE_6)
ITEMS = [i.code for i in SELF_CARE.indicators]


def _self_care(unable: int) -> dict[str, str]:
    return {code: "unable" if n < unable else "able" for n, code in enumerate(ITEMS)}


@pytest.mark.parametrize(
    ("unable", "tier", "colour"),
    [
        (0, "able", "blue"),
        (1, "partial", "yellow"),
        (3, "partial", "yellow"),
        (4, "full", "red"),
        (6, "full", "red"),
    ],
)
def test_self_care_rule_at_its_boundaries(unable: int, tier: str, colour: str) -> None:
    # given
    answers = _self_care(unable)
    # when
    outcome = score(SELF_CARE, answers)
    # then
    assert outcome.tier.code == tier
    assert outcome.tier.colour == colour
    assert outcome.score == Decimal(unable)
    assert list(outcome.needs) == ITEMS[:unable]


def test_self_care_labels_follow_the_national_wording() -> None:
    # given / when
    labels = {t.code: t.label for t in SELF_CARE.tiers}
    # then
    assert labels == {
        "able": "具备生活自理能力",
        "partial": "部分丧失生活自理能力",
        "full": "完全丧失生活自理能力",
    }


def _one_indicator(points: list[int]) -> dict[str, Any]:
    """A weighted instrument of one indicator whose options score ``points`` of 1000, so
    the score is points / 10 exactly; the default cut-offs (60, 30, 0)."""
    definition = copy.deepcopy(FAMILY_NEEDS)
    definition["scales"] = {
        "fine": [{"code": str(p), "label": str(p), "points": p} for p in [*points, 1000]]
    }
    definition["dimensions"] = [
        {
            "code": "d",
            "label": "D",
            "indicators": [{"code": "x", "label": "X", "scale": "fine"}],
        }
    ]
    return definition


@pytest.mark.parametrize(
    ("points", "expected_score", "tier", "colour"),
    [
        (600, "60.0", "high", "red"),
        (599, "59.9", "medium", "yellow"),
        (300, "30.0", "medium", "yellow"),
        (299, "29.9", "low", "blue"),
        (0, "0.0", "low", "blue"),
        (1000, "100.0", "high", "red"),
    ],
)
def test_weighted_tier_cut_offs_at_their_boundaries(
    points: int, expected_score: str, tier: str, colour: str
) -> None:
    # given
    definition = validate(_one_indicator([0, 299, 300, 599, 600]))
    # when
    outcome = score(definition, {"x": str(points)})
    # then
    assert outcome.score == Decimal(expected_score)
    assert (outcome.tier.code, outcome.tier.colour) == (tier, colour)


def test_weighted_score_uses_weights_and_rounds_half_up() -> None:
    # given: two indicators of 0–3 points, weights 2 and 1
    definition = copy.deepcopy(FAMILY_NEEDS)
    definition["dimensions"] = [
        {
            "code": "d",
            "label": "D",
            "indicators": [
                {"code": "a", "label": "A", "weight": 2, "scale": "difficulty"},
                {"code": "b", "label": "B", "weight": 1, "scale": "difficulty"},
            ],
        }
    ]
    parsed = validate(definition)
    # when: 100 × (2×1 + 1×0) / (2×3 + 1×3) = 22.22…; 100 × (2×3 + 1×2) / 9 = 88.88…
    low = score(parsed, {"a": "1", "b": "0"})
    high = score(parsed, {"a": "3", "b": "2"})
    # then
    assert low.score == Decimal("22.2")
    assert high.score == Decimal("88.9")
    assert high.needs == ("a", "b")
    assert low.needs == ()


def test_family_instrument_all_moderate_is_high_and_needs_every_indicator() -> None:
    # given
    family = validate(FAMILY_NEEDS)
    # when
    outcome = score(family, {i.code: "2" for i in family.indicators})
    # then: 40 of 60 points
    assert outcome.score == Decimal("66.7")
    assert outcome.tier.code == "high"
    assert len(outcome.needs) == 20


def test_every_indicator_must_be_answered_with_a_known_option() -> None:
    # given
    answers = _self_care(2)
    del answers["bathing"]
    answers["eating"] = "maybe"
    answers["flying"] = "able"
    # when
    with pytest.raises(AnswerError) as refused:
        score(SELF_CARE, answers)
    # then
    problems = {code: p.render() for code, p in refused.value.problems.items()}
    assert set(problems) == {"bathing", "eating", "flying"}
    assert "洗澡" in problems["bathing"]
    assert "maybe" in problems["eating"]
