"""The monthly revisit sample (回访抽样). Pure: no Django.

Lanshan's towns visit at least 5 % of the people served each month, and the district
phones 20 of them. The sample here is drawn from the month's completed orders, stratified
by provider so that every provider that served anyone is checked, and is at least a
configured minimum (or everything, when there is less):

    sample = revisit_sample(orders, rate=Fraction(5, 100), minimum=20, seed=202611)

1. each provider gets ``ceil(rate × its orders)``, and at least one;
2. if that is below ``minimum``, the rest is shared out by largest remainder in proportion
   to each provider's orders not yet drawn;
3. within a provider, orders are drawn at random with ``seed`` (so a month's sample can be
   drawn again and audited: same orders, same seed, same sample).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Completed:
    order_id: int
    provider_id: int


def revisit_sample(
    orders: Sequence[Completed], *, rate: Fraction, minimum: int, seed: int
) -> list[int]:
    """The order ids to revisit, sorted. ``rate`` in (0, 1]; ``minimum`` ≥ 0."""
    if not 0 < rate <= 1:
        raise ValueError("rate must be in (0, 1]")
    if minimum < 0:
        raise ValueError("minimum must be at least 0")
    by_provider: dict[int, list[int]] = defaultdict(list)
    for order in orders:
        by_provider[order.provider_id].append(order.order_id)
    if len({o.order_id for o in orders}) != len(orders):
        raise ValueError("an order appears twice")
    quota = {
        provider: min(len(ids), max(1, math.ceil(rate * len(ids))))
        for provider, ids in by_provider.items()
    }
    short = min(minimum, len(orders)) - sum(quota.values())
    if short > 0:
        _share_out(quota, by_provider, short)
    draw = random.Random(seed)
    chosen: list[int] = []
    for provider in sorted(by_provider):
        ids = sorted(by_provider[provider])
        chosen.extend(draw.sample(ids, quota[provider]))
    return sorted(chosen)


def _share_out(quota: dict[int, int], by_provider: dict[int, list[int]], extra: int) -> None:
    """Add ``extra`` draws in proportion to what each provider has left (largest
    remainder, ties to the lower provider id), never more than a provider has."""
    while extra > 0:
        left = {p: len(by_provider[p]) - quota[p] for p in quota if len(by_provider[p]) > quota[p]}
        total_left = sum(left.values())
        shares = {p: Fraction(extra * n, total_left) for p, n in left.items()}
        whole = {p: min(left[p], math.floor(s)) for p, s in shares.items()}
        given = sum(whole.values())
        for provider, n in whole.items():
            quota[provider] += n
        rest = extra - given
        by_remainder = sorted(left, key=lambda p: (-(shares[p] - math.floor(shares[p])), p))
        for provider in by_remainder:
            if rest == 0:
                break
            if quota[provider] < len(by_provider[provider]):
                quota[provider] += 1
                rest -= 1
        extra = rest
