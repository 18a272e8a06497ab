"""Amount rules at their boundaries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jiuzhu.applications.amounts import AmountError, compute_amount

D = Decimal


@pytest.mark.parametrize(
    ("income", "per_member"),
    [
        (D("0"), 616),  # no income: the whole standard
        (D("500.01"), 116),  # 115.99 rounds up to whole yuan
        (D("586"), 30),  # gap exactly the floor
        (D("586.01"), 30),  # gap 29.99: the floor
        (D("616"), 30),  # no gap: the floor still
    ],
)
def test_dibao_pays_the_gap_per_member_with_a_floor(income: Decimal, per_member: int) -> None:
    amount = compute_amount(
        "gap_to_standard", {"floor": "30"}, standard=D(616), per_capita_income=income, members=3
    )
    assert amount.monthly == per_member * 3
    assert amount.one_off == 0
    assert f"{per_member}元/人 × 3人" in amount.explanation


def test_tekun_is_a_factor_of_the_standard() -> None:
    amount = compute_amount(
        "factor_of_standard",
        {"factor": "1.3"},
        standard=D(616),
        per_capita_income=D(0),
        members=1,
    )
    assert amount.monthly == D(801)  # 800.8 rounded up


def test_one_off_payments_stay_within_their_ceiling() -> None:
    ok = compute_amount(
        "one_off",
        {"max": "5000"},
        standard=D(616),
        per_capita_income=D(0),
        members=1,
        requested=D(5000),
    )
    assert (ok.monthly, ok.one_off) == (0, 5000)
    with pytest.raises(AmountError):
        compute_amount(
            "one_off",
            {"max": "5000"},
            standard=D(616),
            per_capita_income=D(0),
            members=1,
            requested=D("5000.01"),
        )
    with pytest.raises(AmountError):
        compute_amount(
            "one_off", {"max": "5000"}, standard=D(616), per_capita_income=D(0), members=1
        )


def test_a_rule_missing_its_parameter_says_so() -> None:
    with pytest.raises(AmountError, match="floor"):
        compute_amount("gap_to_standard", {}, standard=D(616), per_capita_income=D(0), members=1)
