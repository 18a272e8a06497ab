"""Entitlement stage arithmetic (pure): caps, opening, refusals; and a property that no
sequence of allocations ever takes a stage over its cap or the plan over its total."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from jiuzhu.services.stages import (
    Opening,
    Reason,
    allocation_refusal,
    first_open_stage_with_room,
    stage_caps,
    stage_states,
    validate_shares,
)

START = datetime.date(2026, 1, 1)


def _states(
    allocated: list[Decimal],
    *,
    total: Decimal = Decimal(1000),
    shares: tuple[int, ...] = (40, 40, 20),
    opening: Opening = Opening.PREVIOUS_FULL,
    months: tuple[int, ...] = (0, 0, 0),
    day: datetime.date = START,
) -> list:  # type: ignore[type-arg]
    return stage_states(
        total=total,
        shares=shares,
        opening=opening,
        open_after_months=months,
        start=START,
        day=day,
        allocated=allocated,
    )


def test_dongsheng_caps_are_400_400_200() -> None:
    # given / when
    caps = stage_caps(Decimal(1000), [40, 40, 20])
    # then
    assert caps == [Decimal("400.00"), Decimal("400.00"), Decimal("200")]


def test_caps_sum_exactly_to_the_total_with_the_remainder_in_the_last_stage() -> None:
    # given a total that does not divide evenly
    total = Decimal("1000.01")
    # when
    caps = stage_caps(total, [33, 33, 34])
    # then
    assert sum(caps) == total
    assert caps[:2] == [Decimal("330.00"), Decimal("330.00")]
    assert caps[2] == Decimal("340.01")


def test_a_stage_cannot_be_exceeded_by_one_yuan() -> None:
    # given stage 1 holds 300 of its 400
    states = _states([Decimal(300)])
    # when / then: 100 fits exactly, 101 does not
    assert allocation_refusal(states, stage=1, amount=Decimal(100)) is None
    refusal = allocation_refusal(states, stage=1, amount=Decimal(101))
    assert refusal is not None
    assert refusal.reason == Reason.OVER_CAP
    assert refusal.cap == Decimal(400)
    assert refusal.remaining == Decimal(100)
    # and one cent over is refused too
    assert allocation_refusal(states, stage=1, amount=Decimal("100.01")) is not None


def test_a_closed_stage_refuses_even_a_small_amount() -> None:
    # given nothing chosen yet (stage 2 opens when stage 1 is full)
    states = _states([Decimal(0)])
    # when
    refusal = allocation_refusal(states, stage=2, amount=Decimal(1))
    # then
    assert refusal is not None
    assert refusal.reason == Reason.NOT_OPEN
    assert refusal.opens_on is None


def test_a_stage_opens_when_the_previous_one_is_full() -> None:
    # given stage 1 one yuan short of full
    assert not _states([Decimal(399)])[1].is_open
    # when it is full
    states = _states([Decimal(400)])
    # then stage 2 opens, stage 3 not yet
    assert [s.is_open for s in states] == [True, True, False]
    assert first_open_stage_with_room(states) == 2
    assert [s.is_open for s in _states([Decimal(400), Decimal(400)])] == [True, True, True]


def test_a_stage_opens_months_after_the_start() -> None:
    # given stages opening at 0, 4 and 8 months
    kwargs = {"opening": Opening.MONTHS, "months": (0, 4, 8)}
    # when the day before the fourth month
    before = _states([], day=datetime.date(2026, 4, 30), **kwargs)  # type: ignore[arg-type]
    on = _states([], day=datetime.date(2026, 5, 1), **kwargs)  # type: ignore[arg-type]
    # then
    assert [s.is_open for s in before] == [True, False, False]
    assert before[1].opens_on == datetime.date(2026, 5, 1)
    assert [s.is_open for s in on] == [True, True, False]
    refusal = allocation_refusal(before, stage=2, amount=Decimal(1))
    assert refusal is not None and refusal.opens_on == datetime.date(2026, 5, 1)
    # and by months a stage opens whether or not the one before is full
    assert allocation_refusal(on, stage=2, amount=Decimal(400)) is None


def test_licang_hours_one_stage() -> None:
    # given 60 hours a month in one stage
    states = _states([Decimal(59)], total=Decimal(60), shares=(100,), months=(0,))
    # then one more hour fits, two do not
    assert allocation_refusal(states, stage=1, amount=Decimal(1)) is None
    assert allocation_refusal(states, stage=1, amount=Decimal(2)) is not None


def test_nonsense_is_refused() -> None:
    states = _states([])
    assert allocation_refusal(states, stage=4, amount=Decimal(1)).reason == Reason.NO_SUCH_STAGE  # type: ignore[union-attr]
    assert allocation_refusal(states, stage=0, amount=Decimal(1)).reason == Reason.NO_SUCH_STAGE  # type: ignore[union-attr]
    assert allocation_refusal(states, stage=1, amount=Decimal(0)).reason == Reason.NOT_POSITIVE  # type: ignore[union-attr]
    assert allocation_refusal(states, stage=1, amount=Decimal(-5)).reason == Reason.NOT_POSITIVE  # type: ignore[union-attr]


def test_shares_are_validated() -> None:
    assert validate_shares([40, 40, 20]) == []
    assert "shares_not_100" in validate_shares([40, 40, 10])
    assert "share_not_positive" in validate_shares([50, 0, 50])
    assert "no_stages" in validate_shares([])


@st.composite
def _rules(draw: st.DrawFn) -> tuple[Decimal, list[int]]:
    total = Decimal(draw(st.integers(min_value=1, max_value=10_000_000))) / 100
    count = draw(st.integers(min_value=1, max_value=5))
    size = count - 1
    cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=size, max_size=size, unique=True)))
    bounds = [0, *cuts, 100]
    return total, [b - a for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300, deadline=None)
@given(
    rule=_rules(),
    opening=st.sampled_from(list(Opening)),
    attempts=st.lists(
        st.tuples(st.integers(0, 6), st.integers(1, 500_000), st.integers(0, 24)),
        max_size=40,
    ),
)
def test_no_sequence_of_allocations_exceeds_a_cap_or_the_total(
    rule: tuple[Decimal, list[int]], opening: Opening, attempts: list[tuple[int, int, int]]
) -> None:
    # given a rule and stages opening by months (0, 3, 6 …) or by the previous being full
    total, shares = rule
    months = [3 * n for n in range(len(shares))]
    caps = stage_caps(total, shares)
    assert sum(caps) == total
    assert all(cap >= 0 for cap in caps)
    allocated = [Decimal(0)] * len(shares)
    # when every attempt that is not refused is allocated
    for stage, cents, month in attempts:
        day = datetime.date(2026 + month // 12, month % 12 + 1, 1)
        states = stage_states(
            total=total,
            shares=shares,
            opening=opening,
            open_after_months=months,
            start=START,
            day=day,
            allocated=allocated,
        )
        amount = Decimal(cents) / 100
        if allocation_refusal(states, stage=stage, amount=amount) is None:
            assert states[stage - 1].is_open
            allocated[stage - 1] += amount
        # then no stage is ever over its cap, and the plan never over its total
        assert all(a <= cap for a, cap in zip(allocated, caps, strict=True))
        assert sum(allocated) <= total
