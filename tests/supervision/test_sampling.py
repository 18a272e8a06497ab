"""The revisit sample: rate, minimum, stratification by provider, reproducibility."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiuzhu.supervision.sampling import Completed, revisit_sample

FIVE_PERCENT = Fraction(5, 100)


def orders_of(sizes: list[int]) -> list[Completed]:
    """``sizes[p]`` completed orders of provider p, with distinct ids."""
    providers = [provider for provider, size in enumerate(sizes) for _ in range(size)]
    return [Completed(order_id=i, provider_id=p) for i, p in enumerate(providers)]


def test_five_percent_of_each_provider_rounded_up() -> None:
    # given 200, 40 and 3 completed orders at three providers
    orders = orders_of([200, 40, 3])
    # when a 5 % sample with no minimum is drawn
    sample = revisit_sample(orders, rate=FIVE_PERCENT, minimum=0, seed=1)
    # then 10, 2 and 1: every provider is checked, at least once
    per_provider = Counter(orders[i].provider_id for i in sample)
    assert per_provider == {0: 10, 1: 2, 2: 1}


def test_the_minimum_is_shared_out_in_proportion() -> None:
    # given 13 orders from the rate but a minimum of 20 (Lanshan phones 20 a month)
    orders = orders_of([200, 40, 3])
    sample = revisit_sample(orders, rate=FIVE_PERCENT, minimum=20, seed=1)
    per_provider = Counter(orders[i].provider_id for i in sample)
    # then 20 in all, the extra 7 mostly to the largest provider
    assert len(sample) == 20
    assert per_provider[0] == 16 and per_provider[1] == 3 and per_provider[2] == 1


def test_fewer_orders_than_the_minimum_means_all_of_them() -> None:
    orders = orders_of([4, 2])
    assert revisit_sample(orders, rate=FIVE_PERCENT, minimum=20, seed=9) == list(range(6))


def test_the_same_seed_draws_the_same_sample_and_another_seed_another() -> None:
    orders = orders_of([300, 120])
    first = revisit_sample(orders, rate=FIVE_PERCENT, minimum=20, seed=202611)
    assert revisit_sample(orders, rate=FIVE_PERCENT, minimum=20, seed=202611) == first
    assert revisit_sample(orders, rate=FIVE_PERCENT, minimum=20, seed=202612) != first


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        revisit_sample(orders_of([3]), rate=Fraction(0), minimum=1, seed=1)
    with pytest.raises(ValueError):
        revisit_sample(orders_of([3]), rate=Fraction(3, 2), minimum=1, seed=1)
    with pytest.raises(ValueError):
        revisit_sample([Completed(1, 1), Completed(1, 2)], rate=FIVE_PERCENT, minimum=1, seed=1)


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=12),
    percent=st.integers(min_value=1, max_value=100),
    minimum=st.integers(min_value=0, max_value=80),
    seed=st.integers(min_value=0, max_value=10**6),
)
def test_sample_properties(sizes: list[int], percent: int, minimum: int, seed: int) -> None:
    orders = orders_of(sizes)
    rate = Fraction(percent, 100)
    sample = revisit_sample(orders, rate=rate, minimum=minimum, seed=seed)
    per_provider = Counter(orders[i].provider_id for i in sample)
    # distinct orders that exist
    assert len(set(sample)) == len(sample) and all(0 <= i < len(orders) for i in sample)
    # at least the rate (rounded up) and one per provider that served anyone
    for provider, size in enumerate(sizes):
        if size:
            assert per_provider[provider] >= max(1, min(size, math.ceil(rate * size)))
    # at least the minimum, or everything
    assert len(sample) >= min(minimum, len(orders))
    # and no more than the larger of the two needs
    from_rate = sum(max(1, math.ceil(rate * s)) for s in sizes if s)
    assert len(sample) == max(from_rate, min(minimum, len(orders)))
