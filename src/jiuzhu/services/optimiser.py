"""Dispatch as a min-cost assignment (派单), and the greedy baseline. Pure: numpy and
OR-Tools, no Django, no database.

The problem: open orders, each with the providers that may take it (the caller decides
eligibility: area, item under contract, contract in force, provider active and not red),
and providers with the orders they can still take (remaining capacity). Assign each order
to at most one eligible provider so that no capacity is exceeded, as many orders as
possible are assigned, and among those assignments the total cost is least.

Cost of giving order *o* to provider *p*, in integer units of 10 metres
(``UNITS_PER_KM`` = 100)::

    cost(o, p) = distance_km(o, p)
               + rating_km × (5 − stars(p))        # unrated: ``unrated_stars``
               + load_km × workload(p) / (workload(p) + capacity(p))

Distance is the great-circle (haversine) distance from where the provider's workers set
out to the order's place. With the default weights a provider rated 1 star "costs" 1.2 km
more than one rated 5, and one already at full load 0.5 km more than an idle one: distance
dominates, rating and load break near-ties. A place without coordinates counts
``unknown_km``.

It is solved as a min-cost flow with OR-Tools' ``SimpleMinCostFlow``::

    source ─1→ order ─1, cost(o,p)→ provider ─capacity→ sink
                  └────────── 1, unassigned penalty ─────────┘

The "unassigned" arc keeps the problem feasible whatever the shortages. Its penalty
(``unassigned_km``, 1 000 km-equivalent; ×2 urgent, ×3 critical) is far above any
county-scale rerouting, so the flow assigns as many orders as possible — urgent ones
first when capacity is short — and only then minimises cost (the benchmark checks the
count against a maximum flow).

For scale each order starts with arcs to its ``k`` nearest eligible providers only (30).
Truncation alone would be wrong under local shortages, when an order's k nearest are all
full but a farther provider has room. So the solution is priced (LP duality, as in column
generation): from the flow, prices are derived for every order and provider that prove it
optimal over the arcs used so far; every left-out eligible arc whose reduced cost under
those prices is negative could lower the cost, and is added; the flow is solved again.
When no such arc is left the assignment is optimal over *all* eligible arcs, and in any
round the same prices give a lower bound on that optimum, so ``gap_units`` says how far
from it the answer can be at most (the loop also stops once that is below ``gap_ratio``).

``greedy`` is the baseline: orders one by one in the given order, each to the nearest
eligible provider with capacity left. ``evaluate`` recomputes the totals of any
assignment from scratch (distances, costs, capacity violations, ineligible arcs) so that
neither method is trusted to report on itself. See docs/dispatch.md and ADR 0018.
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

EARTH_RADIUS_KM = 6371.0088
UNITS_PER_KM = 100  # the integer solver counts in units of 10 metres

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Weights:
    rating_km: float = 0.3  # km-equivalent per star short of 5
    unrated_stars: float = 4.0  # a provider nobody has rated yet counts as this
    load_km: float = 0.5  # km-equivalent at full load (open orders / day's total)
    unknown_km: float = 30.0  # distance assumed when a place has no coordinates
    k: int = 30  # candidate providers per order (nearest eligible first)
    unassigned_km: float = 1000.0  # what leaving an order waiting costs (×2 urgent, ×3 critical)
    max_rounds: int = 6  # solve, price, add arcs: until no left-out arc would help…
    gap_ratio: float = 1e-4  # …or the answer is proven within this share of the optimum


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class OrderIn:
    id: Hashable
    lat: float | None
    lon: float | None
    candidates: Sequence[Hashable]  # ids of the providers that may take it
    priority: int = 0  # 0 normal, 1 urgent, 2 critical: served first when capacity is short


@dataclass(frozen=True)
class ProviderIn:
    id: Hashable
    lat: float | None
    lon: float | None
    capacity: int  # orders it can still take
    rating: float | None = None  # 0–5
    workload: int = 0  # orders it already holds


@dataclass
class Problem:
    """The arrays both methods work on. ``eligible[i, j]``: provider j may take order i."""

    order_ids: list[Hashable]
    provider_ids: list[Hashable]
    order_lat: FloatArray
    order_lon: FloatArray
    order_priority: IntArray
    provider_lat: FloatArray
    provider_lon: FloatArray
    capacity: IntArray
    rating: FloatArray  # NaN: unrated
    workload: IntArray
    eligible: BoolArray

    @property
    def n_orders(self) -> int:
        return len(self.order_ids)

    @property
    def n_providers(self) -> int:
        return len(self.provider_ids)


@dataclass
class Assignment:
    """The outcome of one method, totals recomputed by :func:`evaluate`."""

    method: str
    order_ids: list[Hashable]
    provider_ids: list[Hashable]
    index: IntArray  # per order: provider index, −1 for none
    distance_km: FloatArray  # per order: NaN for none or unknown
    cost: IntArray  # per order: in units, −1 for none
    total_distance_km: float
    total_cost: int
    assigned: int
    capacity_violations: int  # orders beyond a provider's capacity, summed
    ineligible: int  # orders given to a provider that may not take them
    candidate_arcs: int
    seconds: float
    rounds: int = 0  # optimiser: flows solved
    # Optimiser: how far above the optimum over every eligible arc it may be, at most
    # (units; 0: proven optimal; -1: not known).
    gap_units: int = -1
    _by_order: dict[Hashable, Hashable | None] = field(default_factory=dict, repr=False)

    def provider_for(self, order_id: Hashable) -> Hashable | None:
        if not self._by_order:
            self._by_order = {
                oid: (self.provider_ids[j] if j >= 0 else None)
                for oid, j in zip(self.order_ids, self.index.tolist(), strict=True)
            }
        return self._by_order[order_id]

    def summary(self) -> dict[str, float | int]:
        return {
            "seconds": round(self.seconds, 3),
            "total_distance_km": round(self.total_distance_km, 1),
            "assigned": self.assigned,
            "capacity_violations": self.capacity_violations,
        }


# --- building the problem -------------------------------------------------------------


def _coord(value: float | None) -> float:
    return math.nan if value is None else float(value)


def problem_from(orders: Sequence[OrderIn], providers: Sequence[ProviderIn]) -> Problem:
    """Arrays from plain records; candidates that name no known provider are ignored."""
    column = {p.id: j for j, p in enumerate(providers)}
    if len(column) != len(providers):
        raise ValueError("provider ids must be unique")
    eligible = np.zeros((len(orders), len(providers)), dtype=np.bool_)
    for i, order in enumerate(orders):
        cols = [column[c] for c in order.candidates if c in column]
        if cols:
            eligible[i, cols] = True
    return Problem(
        order_ids=[o.id for o in orders],
        provider_ids=[p.id for p in providers],
        order_lat=np.array([_coord(o.lat) for o in orders], dtype=np.float64),
        order_lon=np.array([_coord(o.lon) for o in orders], dtype=np.float64),
        order_priority=np.array([o.priority for o in orders], dtype=np.int64),
        provider_lat=np.array([_coord(p.lat) for p in providers], dtype=np.float64),
        provider_lon=np.array([_coord(p.lon) for p in providers], dtype=np.float64),
        capacity=np.array([max(0, int(p.capacity)) for p in providers], dtype=np.int64),
        rating=np.array(
            [math.nan if p.rating is None else float(p.rating) for p in providers],
            dtype=np.float64,
        ),
        workload=np.array([max(0, int(p.workload)) for p in providers], dtype=np.int64),
        eligible=eligible,
    )


# --- distances and costs --------------------------------------------------------------


def haversine_km(
    lat1: FloatArray | float,
    lon1: FloatArray | float,
    lat2: FloatArray | float,
    lon2: FloatArray | float,
) -> FloatArray:
    """Great-circle distance in km; broadcasts like numpy. NaN where a place is unknown."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def provider_penalty_units(problem: Problem, weights: Weights) -> IntArray:
    """The rating and load parts of the cost, per provider, in units."""
    stars = np.where(np.isnan(problem.rating), weights.unrated_stars, problem.rating)
    stars = np.clip(stars, 0.0, 5.0)
    total = problem.workload + problem.capacity
    load = np.divide(
        problem.workload, total, out=np.zeros(len(total), dtype=np.float64), where=total > 0
    )
    km = weights.rating_km * (5.0 - stars) + weights.load_km * load
    return np.rint(km * UNITS_PER_KM).astype(np.int64)


def _unit_vectors(lat: FloatArray, lon: FloatArray) -> FloatArray:
    phi, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=1)


def _pair_distance_km(problem: Problem, orders: IntArray, providers: IntArray) -> FloatArray:
    """Great-circle distance of each pair, from the chord between the points on the unit
    sphere: the haversine formula's own quantity (a = chord² / 4), computed from n + m
    points' coordinates rather than per pair, which is what makes a million pairs cheap."""
    a = _unit_vectors(problem.order_lat, problem.order_lon)[orders]
    b = _unit_vectors(problem.provider_lat, problem.provider_lon)[providers]
    chord = np.sqrt(((a - b) ** 2).sum(axis=1))
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0.0, 1.0)))


def pair_costs(
    problem: Problem, orders: IntArray, providers: IntArray, weights: Weights = DEFAULT_WEIGHTS
) -> IntArray:
    """The cost of each (order index, provider index) pair, in units (10 m)."""
    d = _pair_distance_km(problem, orders, providers)
    d = np.where(np.isnan(d), weights.unknown_km, d)
    return (
        np.rint(d * UNITS_PER_KM).astype(np.int64)
        + (provider_penalty_units(problem, weights)[providers])
    )


@dataclass
class Arcs:
    """Every arc that may be used: eligible pairs whose provider has room, sorted by
    order, then distance, then provider (so "the k nearest" is the first k of a run)."""

    order: IntArray
    provider: IntArray
    cost: IntArray
    distance_km: FloatArray
    start: IntArray  # order i's arcs are [start[i], start[i + 1])

    def __len__(self) -> int:
        return len(self.order)


def eligible_arcs(problem: Problem, weights: Weights = DEFAULT_WEIGHTS) -> Arcs:
    """Every eligible (order, provider) pair whose provider has room, with its cost."""
    rows, cols = np.nonzero(problem.eligible & (problem.capacity > 0)[None, :])
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    distance = _pair_distance_km(problem, rows, cols)
    distance = np.where(np.isnan(distance), weights.unknown_km, distance)
    cost = (
        np.rint(distance * UNITS_PER_KM).astype(np.int64)
        + (provider_penalty_units(problem, weights)[cols])
    )
    if problem.n_orders < 2**23 and problem.n_providers < 2**17:
        # One integer key (order, distance in units, provider) sorts faster than lexsort.
        units = np.minimum(np.rint(distance * UNITS_PER_KM), 2**23 - 1).astype(np.int64)
        order = np.argsort((rows << 40) | (units << 17) | cols, kind="stable")
    else:
        order = np.lexsort((cols, distance, rows))
    rows, cols, cost, distance = rows[order], cols[order], cost[order], distance[order]
    start = np.searchsorted(rows, np.arange(problem.n_orders + 1))
    return Arcs(order=rows, provider=cols, cost=cost, distance_km=distance, start=start)


# --- the check of any assignment ------------------------------------------------------


def evaluate(
    problem: Problem,
    index: IntArray,
    *,
    method: str,
    weights: Weights = DEFAULT_WEIGHTS,
    candidate_arcs: int = 0,
    seconds: float = 0.0,
    rounds: int = 0,
    gap_units: int = -1,
) -> Assignment:
    """Totals of an assignment, recomputed from the problem alone: nothing the method
    reported about itself is used."""
    index = np.asarray(index, dtype=np.int64)
    n, m = problem.n_orders, problem.n_providers
    if index.shape != (n,) or (index >= m).any() or (index < -1).any():
        raise ValueError("index must give a provider index or -1 per order")
    rows = np.nonzero(index >= 0)[0]
    cols = index[rows]
    raw = _pair_distance_km(problem, rows, cols)
    distance = np.full(n, np.nan)
    distance[rows] = raw
    cost = np.full(n, -1, dtype=np.int64)
    cost[rows] = pair_costs(problem, rows, cols, weights)
    used = np.bincount(cols, minlength=m)
    return Assignment(
        method=method,
        order_ids=problem.order_ids,
        provider_ids=problem.provider_ids,
        index=index,
        distance_km=distance,
        cost=cost,
        total_distance_km=float(np.nansum(raw)) if len(rows) else 0.0,
        total_cost=int(cost[rows].sum()),
        assigned=len(rows),
        capacity_violations=int(np.maximum(used - problem.capacity, 0).sum()),
        ineligible=int((~problem.eligible[rows, cols]).sum()),
        candidate_arcs=candidate_arcs,
        seconds=seconds,
        rounds=rounds,
        gap_units=gap_units,
    )


# --- the optimiser --------------------------------------------------------------------


def _unassigned_costs(problem: Problem, weights: Weights) -> IntArray:
    """What leaving each order waiting costs, in units: ``unassigned_km`` (×2 urgent,
    ×3 critical, so they are the last left waiting when capacity is short)."""
    base = round(weights.unassigned_km * UNITS_PER_KM)
    return base * (1 + np.clip(problem.order_priority, 0, 2)).astype(np.int64)


def _solve(
    problem: Problem,
    arcs: Arcs,
    chosen: IntArray,
    unassigned: IntArray | None,
    flow: int | None = None,
) -> IntArray:
    """One min-cost flow over the chosen arcs; the provider index per order (-1: none).
    Without ``unassigned`` arcs exactly ``flow`` orders are assigned (must be feasible)."""
    n, m = problem.n_orders, problem.n_providers
    flow = n if flow is None else flow
    index = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return index
    source, sink = 0, n + m + 1
    order_node = np.arange(1, n + 1, dtype=np.int32)
    provider_node = np.arange(n + 1, n + m + 1, dtype=np.int32)
    arc_order, arc_provider = arcs.order[chosen], arcs.provider[chosen]
    solver = min_cost_flow.SimpleMinCostFlow()
    ones = np.ones(n, dtype=np.int64)
    solver.add_arcs_with_capacity_and_unit_cost(
        np.full(n, source, dtype=np.int32), order_node, ones, np.zeros(n, dtype=np.int64)
    )
    candidate = solver.add_arcs_with_capacity_and_unit_cost(
        order_node[arc_order],
        provider_node[arc_provider],
        np.ones(len(chosen), dtype=np.int64),
        arcs.cost[chosen],
    )
    solver.add_arcs_with_capacity_and_unit_cost(
        provider_node,
        np.full(m, sink, dtype=np.int32),
        problem.capacity.astype(np.int64),
        np.zeros(m, dtype=np.int64),
    )
    if unassigned is not None:
        solver.add_arcs_with_capacity_and_unit_cost(
            order_node, np.full(n, sink, dtype=np.int32), ones, unassigned
        )
    supplies = np.zeros(n + m + 2, dtype=np.int64)
    supplies[source], supplies[sink] = flow, -flow
    solver.set_nodes_supplies(np.arange(n + m + 2, dtype=np.int32), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    used = np.asarray(solver.flows(np.asarray(candidate, dtype=np.int32))) > 0
    index[arc_order[used]] = arc_provider[used]
    return index


def _duals(
    problem: Problem, arcs: Arcs, chosen: IntArray, index: IntArray, unassigned: IntArray
) -> tuple[IntArray, IntArray] | None:
    """Prices that prove the flow optimal over the chosen arcs (LP duality): ``alpha``
    per order, ``beta`` >= 0 per provider (0 unless it is full), with
    ``cost(o, p) - alpha[o] + beta[p] >= 0`` on every chosen arc and equality on the
    arcs used. The least such ``beta`` is a longest-path problem between providers
    (an order on q that could go to p ties beta[p] to beta[q]), relaxed Bellman-Ford
    style. None if it does not settle (it always should on an optimal flow)."""
    n, m = problem.n_orders, problem.n_providers
    o, p, c = arcs.order[chosen], arcs.provider[chosen], arcs.cost[chosen]
    own = p == index[o]
    own_cost = np.zeros(n, dtype=np.int64)
    own_cost[o[own]] = c[own]
    o, p, c = o[~own], p[~own], c[~own]
    beta = np.zeros(m, dtype=np.int64)
    waiting = index[o] < 0
    np.maximum.at(beta, p[waiting], unassigned[o[waiting]] - c[waiting])
    held = ~waiting
    src, tgt = index[o[held]], p[held]
    gain = own_cost[o[held]] - c[held]
    by_target = np.argsort(tgt, kind="stable")
    src, tgt, gain = src[by_target], tgt[by_target], gain[by_target]
    if len(tgt):
        heads, first = np.unique(tgt, return_index=True)
        for _ in range(m + 1):
            best = np.maximum.reduceat(beta[src] + gain, first)
            raised = best > beta[heads]
            if not raised.any():
                break
            beta[heads[raised]] = best[raised]
        else:
            return None
    alpha = unassigned.copy()
    held_orders = index >= 0
    alpha[held_orders] = own_cost[held_orders] + beta[index[held_orders]]
    return alpha, beta


def _lower_bound(problem: Problem, arcs: Arcs, beta: IntArray, unassigned: IntArray) -> int:
    """A lower bound on the optimum over every eligible arc (LP duality): with the
    providers' prices ``beta`` fixed, each order's best price is its cheapest way out."""
    alpha = unassigned.copy()
    present = arcs.start[1:] > arcs.start[:-1]
    if present.any():
        through = arcs.cost + beta[arcs.provider]
        cheapest = np.minimum.reduceat(through, arcs.start[:-1][present])
        alpha[present] = np.minimum(alpha[present], cheapest)
    return int(alpha.sum() - (problem.capacity * beta).sum())


def assign(problem: Problem, weights: Weights = DEFAULT_WEIGHTS) -> Assignment:
    """The min-cost assignment (see the module's docstring)."""
    clock = time.perf_counter()
    arcs = eligible_arcs(problem, weights)
    unassigned = _unassigned_costs(problem, weights)
    # Each order's k nearest: the first k arcs of its run.
    rank = np.arange(len(arcs)) - arcs.start[arcs.order]
    selected = rank < max(1, weights.k)
    rounds, gap = 0, -1
    index = np.full(problem.n_orders, -1, dtype=np.int64)
    while rounds < weights.max_rounds:
        rounds += 1
        chosen = np.nonzero(selected)[0]
        index = _solve(problem, arcs, chosen, unassigned)
        prices = _duals(problem, arcs, chosen, index, unassigned)
        if prices is None:
            gap = -1
            break
        alpha, beta = prices
        reduced = arcs.cost - alpha[arcs.order] + beta[arcs.provider]
        better = (reduced < 0) & ~selected
        own = np.nonzero(index >= 0)[0]
        served = int(pair_costs(problem, own, index[own], weights).sum())
        total = served + int(unassigned[index < 0].sum())
        gap = max(0, total - _lower_bound(problem, arcs, beta, unassigned))
        if not better.any() or gap <= weights.gap_ratio * served:
            break
        selected |= better
    seconds = time.perf_counter() - clock
    return evaluate(
        problem,
        index,
        method="optimiser",
        weights=weights,
        candidate_arcs=int(selected.sum()),
        seconds=seconds,
        rounds=rounds,
        gap_units=gap,
    )


def assign_all_arcs(problem: Problem, weights: Weights = DEFAULT_WEIGHTS) -> Assignment:
    """The same flow over every eligible arc at once (no k nearest, no pricing): the
    reference the tests compare :func:`assign` with."""
    result = assign(problem, replace(weights, k=max(1, problem.n_providers)))
    result.method = "optimiser_all_arcs"
    return result


def assign_count(problem: Problem, count: int, weights: Weights = DEFAULT_WEIGHTS) -> Assignment:
    """The cheapest way to assign exactly ``count`` orders (over every eligible arc):
    what the optimiser does when it must serve no more orders than another method did,
    for a like-for-like comparison. ``count`` must be feasible."""
    clock = time.perf_counter()
    arcs = eligible_arcs(problem, weights)
    index = _solve(problem, arcs, np.arange(len(arcs)), None, flow=count)
    return evaluate(
        problem,
        index,
        method="optimiser_same_count",
        weights=weights,
        candidate_arcs=len(arcs),
        seconds=time.perf_counter() - clock,
    )


# --- the baseline ---------------------------------------------------------------------


def greedy(problem: Problem, weights: Weights = DEFAULT_WEIGHTS) -> Assignment:
    """Nearest-first: each order in turn (the caller orders them, e.g. by urgency then
    creation) to the nearest eligible provider that still has capacity."""
    clock = time.perf_counter()
    arcs = eligible_arcs(problem, weights)
    remaining = problem.capacity.astype(np.int64).copy()
    index = np.full(problem.n_orders, -1, dtype=np.int64)
    start = arcs.start.tolist()
    for i in range(problem.n_orders):
        candidates = arcs.provider[start[i] : start[i + 1]]
        free = np.nonzero(remaining[candidates] > 0)[0]
        if len(free):
            j = int(candidates[free[0]])
            index[i] = j
            remaining[j] -= 1
    seconds = time.perf_counter() - clock
    return evaluate(problem, index, method="greedy", weights=weights, seconds=seconds)
