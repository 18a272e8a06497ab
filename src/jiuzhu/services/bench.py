"""``jiuzhu bench dispatch``: the optimiser against greedy nearest-first on a synthetic
county, in the same process. Pure numpy + the optimiser: no database.

The county is about 60 × 60 km around Xiajiang's seat. Towns are the service areas.
Orders cluster around the towns with uneven demand; providers sit near towns with a
different spread, each contracted for its own town and its nearest one or two, for three
to six of eight items. Total capacity exceeds the orders by a quarter, but busy towns have
less than they need nearby: the local shortages where nearest-first goes wrong (it fills
the near providers with the first orders it meets and sends later orders far away).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from ortools.graph.python import max_flow

from jiuzhu.services.optimiser import (
    Assignment,
    Problem,
    Weights,
    assign,
    assign_count,
    eligible_arcs,
    greedy,
)

SEAT = (27.58, 115.14)
SIDE_KM = 60.0
TOWNS = 14
ITEMS = 8
EXTRA_TOWNS = (1, 3)  # each provider also serves this many of its nearest towns (inclusive)
ITEMS_PER_PROVIDER = (4, 7)
SURPLUS = 1.25  # total capacity over orders
COUNTYWIDE = 0.1  # share of providers contracted for the whole county
DEMAND_SPREAD = 1.5  # Dirichlet concentration of orders over towns (lower: more uneven)
KM_PER_DEG_LAT = 111.2


def synthetic_problem(*, orders: int, providers: int, seed: int = 1) -> Problem:
    """A seeded instance; the same (orders, providers, seed) gives the same problem."""
    rng = np.random.default_rng(seed)
    km_per_deg_lon = KM_PER_DEG_LAT * np.cos(np.radians(SEAT[0]))

    def to_latlon(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lat = SEAT[0] + (xy[:, 1] - SIDE_KM / 2) / KM_PER_DEG_LAT
        lon = SEAT[1] + (xy[:, 0] - SIDE_KM / 2) / km_per_deg_lon
        return lat, lon

    towns = rng.uniform(5.0, SIDE_KM - 5.0, size=(TOWNS, 2))
    demand = rng.dirichlet(np.full(TOWNS, DEMAND_SPREAD))  # some towns far busier than others
    supply = rng.dirichlet(np.full(TOWNS, 2.0))  # providers spread more evenly

    order_town = rng.choice(TOWNS, size=orders, p=demand)
    order_xy = np.clip(towns[order_town] + rng.normal(0.0, 4.0, size=(orders, 2)), 0, SIDE_KM)
    item_share = rng.dirichlet(np.full(ITEMS, 2.0))
    order_item = rng.choice(ITEMS, size=orders, p=item_share)
    priority = rng.choice(3, size=orders, p=[0.85, 0.12, 0.03])

    provider_town = rng.choice(TOWNS, size=providers, p=supply)
    provider_xy = np.clip(
        towns[provider_town] + rng.normal(0.0, 3.0, size=(providers, 2)), 0, SIDE_KM
    )
    # Each provider serves its town and its one or two nearest towns.
    town_gap = np.linalg.norm(towns[:, None, :] - towns[None, :, :], axis=2)
    neighbours = np.argsort(town_gap, axis=1)  # column 0 is the town itself
    covers = np.zeros((providers, TOWNS), dtype=np.bool_)
    width = rng.integers(EXTRA_TOWNS[0], EXTRA_TOWNS[1] + 1, size=providers) + 1
    everyone = np.arange(providers)
    for rank in range(EXTRA_TOWNS[1] + 1):
        reach = width > rank
        covers[everyone[reach], neighbours[provider_town[reach], rank]] = True
    covers[rng.random(providers) < COUNTYWIDE] = True
    serves = np.zeros((providers, ITEMS), dtype=np.bool_)
    low, high = ITEMS_PER_PROVIDER
    for j in range(providers):
        serves[j, rng.choice(ITEMS, size=int(rng.integers(low, high + 1)), replace=False)] = True

    # Capacities: a quarter more than the orders in all, uneven between providers.
    weights = rng.gamma(2.0, 1.0, size=providers)
    capacity = np.maximum(1, np.floor(weights / weights.sum() * orders * SURPLUS)).astype(np.int64)
    workload = rng.integers(0, 4, size=providers).astype(np.int64)
    rating = np.round(rng.uniform(3.0, 5.0, size=providers), 1)
    rating[rng.random(providers) < 0.1] = np.nan

    eligible = covers[:, order_town].T & serves[:, order_item].T
    order_lat, order_lon = to_latlon(order_xy)
    provider_lat, provider_lon = to_latlon(provider_xy)
    # Urgent first, then creation order (the index): what both methods are given.
    order = np.lexsort((np.arange(orders), -priority))
    return Problem(
        order_ids=order.tolist(),
        provider_ids=list(range(providers)),
        order_lat=order_lat[order],
        order_lon=order_lon[order],
        order_priority=priority[order].astype(np.int64),
        provider_lat=provider_lat,
        provider_lon=provider_lon,
        capacity=capacity,
        rating=rating,
        workload=workload,
        eligible=eligible[order],
    )


def max_assignable(problem: Problem) -> int:
    """The most orders any assignment could serve (a max flow over every eligible arc):
    the check that the optimiser's "unassigned" penalty is large enough."""
    arcs = eligible_arcs(problem)
    n, m = problem.n_orders, problem.n_providers
    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(
        np.zeros(n, dtype=np.int32), np.arange(1, n + 1, dtype=np.int32), np.ones(n, np.int64)
    )
    solver.add_arcs_with_capacity(
        (arcs.order + 1).astype(np.int32),
        (arcs.provider + n + 1).astype(np.int32),
        np.ones(len(arcs), np.int64),
    )
    solver.add_arcs_with_capacity(
        np.arange(n + 1, n + m + 1, dtype=np.int32),
        np.full(m, n + m + 1, dtype=np.int32),
        problem.capacity.astype(np.int64),
    )
    if solver.solve(0, n + m + 1) != solver.OPTIMAL:
        raise RuntimeError("max flow failed")
    return int(solver.optimal_flow())


def _peak_mb() -> float:
    """Peak RSS of this process (VmHWM), as the other benchmarks report it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median_run(method: Any, problem: Problem, runs: int) -> tuple[Assignment, float]:
    results = [method(problem) for _ in range(runs)]
    first = results[0]
    if any(not np.array_equal(r.index, first.index) for r in results[1:]):
        raise RuntimeError(f"{first.method} is not deterministic")
    return first, statistics.median(r.seconds for r in results)


def bench_dispatch(
    *, orders: int, providers: int, seed: int = 1, runs: int = 3, weights: Weights | None = None
) -> dict[str, Any]:
    """One JSON-ready object: the instance, the optimiser and greedy (median seconds of
    ``runs``; totals recomputed by ``optimiser.evaluate``), and two checks: the most
    orders any assignment could serve, and the optimiser held to greedy's count."""
    clock = time.perf_counter()
    problem = synthetic_problem(orders=orders, providers=providers, seed=seed)
    build_seconds = time.perf_counter() - clock
    chosen = weights or Weights()
    optimised, optimiser_seconds = _median_run(lambda p: assign(p, chosen), problem, runs)
    nearest, greedy_seconds = _median_run(lambda p: greedy(p, chosen), problem, runs)
    same_count = assign_count(problem, nearest.assigned, chosen)

    def part(result: Assignment, seconds: float) -> dict[str, Any]:
        return {
            "seconds": round(seconds, 3),
            "total_distance_km": round(result.total_distance_km, 1),
            "assigned": result.assigned,
            "capacity_violations": result.capacity_violations,
            "ineligible_assignments": result.ineligible,
            "mean_km_per_order": round(result.total_distance_km / max(1, result.assigned), 3),
            "total_cost_units": result.total_cost,
        }

    def saved(ours: float, theirs: float) -> float:
        return round((theirs - ours) / theirs * 100, 2) if theirs else 0.0

    return {
        "orders": orders,
        "providers": providers,
        "seed": seed,
        "runs": runs,
        "k": chosen.k,
        "eligible_pairs": int(problem.eligible.sum()),
        "candidate_arcs": optimised.candidate_arcs,
        "total_capacity": int(problem.capacity.sum()),
        "max_assignable": max_assignable(problem),
        "instance_seconds": round(build_seconds, 3),
        "optimiser": {
            **part(optimised, optimiser_seconds),
            "rounds": optimised.rounds,
            "optimality_gap_units": optimised.gap_units,
        },
        "greedy": part(nearest, greedy_seconds),
        "distance_saved_percent": saved(optimised.total_distance_km, nearest.total_distance_km),
        # Held to greedy's number of orders (every eligible arc, not timed against the
        # target): the like-for-like comparison when the optimiser serves more.
        "optimiser_same_count": {
            "assigned": same_count.assigned,
            "total_distance_km": round(same_count.total_distance_km, 1),
            "capacity_violations": same_count.capacity_violations,
            "total_cost_units": same_count.total_cost,
            "distance_saved_percent": saved(
                same_count.total_distance_km, nearest.total_distance_km
            ),
        },
        "cpus": os.cpu_count(),
        "peak_rss_mb": round(_peak_mb(), 1),
    }


# --- `jiuzhu bench dispatch` (registered by core/management/commands/bench.py) ---------


def add_dispatch_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "dispatch", help="the dispatch optimiser against greedy nearest-first"
    )
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--providers", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="repeats (the median is reported)")
    parser.add_argument("--k", type=int, default=Weights().k, help="nearest providers per order")


def run_dispatch_command(command: Any, options: dict[str, Any]) -> None:
    from django.core.management.base import CommandError

    orders, providers, runs = (
        int(options["orders"]),
        int(options["providers"]),
        int(options["runs"]),
    )
    if orders < 1 or providers < 1 or runs < 1 or int(options["k"]) < 1:
        raise CommandError("--orders, --providers, --runs and --k must be at least 1")
    result = bench_dispatch(
        orders=orders,
        providers=providers,
        seed=int(options["seed"]),
        runs=runs,
        weights=Weights(k=int(options["k"])),
    )
    command.stdout.write(json.dumps(result, ensure_ascii=False))
