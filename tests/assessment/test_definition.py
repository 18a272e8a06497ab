"""Validation of instrument definitions: what is refused, with what message, and the
diff between two versions."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jiuzhu.assessment.defaults import FAMILY_NEEDS, SELF_CARE_6
from jiuzhu.assessment.definition import DefinitionError, diff, validate


def _family() -> dict[str, Any]:
    return copy.deepcopy(FAMILY_NEEDS)


def _refusals(definition: Any) -> list[str]:
    with pytest.raises(DefinitionError) as refused:
        validate(definition)
    return [p.render() for p in refused.value.problems]


def test_the_defaults_are_valid() -> None:
    # given / when
    family = validate(FAMILY_NEEDS)
    self_care = validate(SELF_CARE_6)
    # then
    assert [d.code for d in family.dimensions] == [
        "living",
        "health",
        "education",
        "employment",
        "social",
        "care",
    ]
    assert len(family.indicators) == 20
    assert [i.code for i in self_care.indicators] == [
        "eating",
        "dressing",
        "transfer",
        "toileting",
        "walking",
        "bathing",
    ]


def test_duplicate_indicator_codes_are_refused() -> None:
    # given
    definition = _family()
    definition["dimensions"][1]["indicators"][0]["code"] = "living_income"
    # when
    problems = _refusals(definition)
    # then
    assert problems == ["Indicator code “living_income” is used twice."]


def test_duplicate_dimension_and_tier_codes_are_refused() -> None:
    # given
    definition = _family()
    definition["dimensions"][1]["code"] = "living"
    definition["tiers"][1]["code"] = "high"
    # when
    problems = _refusals(definition)
    # then
    assert "Dimension code “living” is used twice." in problems
    assert "Tier code “high” is used twice." in problems


@pytest.mark.parametrize("weight", [0, -1, "abc"])
def test_weights_must_be_positive_numbers(weight: Any) -> None:
    # given
    definition = _family()
    definition["dimensions"][0]["indicators"][2]["weight"] = weight
    # when
    problems = _refusals(definition)
    # then
    assert len(problems) == 1
    assert "living_food" in problems[0]


def test_cut_offs_must_go_down() -> None:
    # given
    definition = _family()
    definition["tiers"][1]["min_score"] = 70
    # when
    problems = _refusals(definition)
    # then
    assert problems == [
        "The cut-offs must go down from the first tier to the last: “medium” (70) is not "
        "below “high” (60)."
    ]


def test_the_last_cut_off_must_be_zero() -> None:
    # given
    definition = _family()
    definition["tiers"][2]["min_score"] = 10
    # when / then
    assert _refusals(definition) == [
        "The last tier's cut-off must be 0, so that every score has a tier."
    ]


def test_a_tier_without_a_colour_or_with_an_unknown_one_is_refused() -> None:
    # given
    definition = _family()
    del definition["tiers"][0]["colour"]
    definition["tiers"][1]["colour"] = "purple"
    # when
    problems = _refusals(definition)
    # then
    assert problems[0].startswith("Tier “high” has no colour")
    assert problems[1].startswith("Tier “medium”: colour “purple” is not one of")


def test_options_without_points_are_refused() -> None:
    # given
    definition = _family()
    del definition["scales"]["difficulty"][1]["points"]
    # when / then
    assert _refusals(definition) == ["Option “1” of “difficulty” has no points."]


def test_count_tiers_must_cover_every_count_once() -> None:
    # given
    definition = copy.deepcopy(SELF_CARE_6)
    definition["tiers"][0]["min_count"] = 3  # full: 3–6 overlaps partial 1–3
    definition["tiers"][2]["max_count"] = -1  # able no longer covers 0
    # when
    problems = _refusals(definition)
    # then
    assert "Tiers “full” and “partial” both cover the count 3." in problems
    assert any("min_count is above max_count" in p for p in problems)
    assert "No tier covers the count(s) 0." in problems


def test_unknown_fields_and_scales_are_named() -> None:
    # given
    definition = _family()
    definition["dimensions"][0]["indicators"][0]["wieght"] = 2
    definition["dimensions"][0]["indicators"][1]["scale"] = "nope"
    # when
    problems = _refusals(definition)
    # then
    assert "Unknown field “wieght” in living_income." in problems
    assert "Indicator “living_housing” names no known answer scale (“nope”)." in problems


def test_not_an_object_is_refused() -> None:
    assert _refusals([1, 2]) == ["The definition must be a JSON object."]


def test_diff_lists_what_changed() -> None:
    # given
    old = validate(FAMILY_NEEDS)
    changed = _family()
    changed["tiers"][0]["min_score"] = 65
    changed["dimensions"][0]["indicators"][0]["weight"] = 2
    changed["dimensions"][0]["indicators"].append(
        {"code": "living_debt", "label": "债务", "scale": "difficulty"}
    )
    del changed["dimensions"][5]["indicators"][2]
    # when
    changes = {(c.kind, c.entity, c.code, c.field) for c in diff(old, validate(changed))}
    # then
    assert changes == {
        ("changed", "tier", "high", "min_score"),
        ("changed", "indicator", "living_income", "weight"),
        ("added", "indicator", "living_debt", ""),
        ("removed", "indicator", "care_children", ""),
    }
