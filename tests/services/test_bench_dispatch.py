"""`jiuzhu bench dispatch` prints one JSON object with the optimiser and greedy side by
side; run small here, checking the shape and the invariants (not the timings)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

PART_KEYS = {"seconds", "total_distance_km", "assigned", "capacity_violations"}


def run(*args: str) -> dict[str, object]:
    out = io.StringIO()
    call_command("bench", "dispatch", *args, stdout=out)
    return json.loads(out.getvalue())


def test_bench_dispatch_prints_both_methods_and_their_invariants() -> None:
    # given / when
    result = run("--orders", "300", "--providers", "40", "--seed", "3", "--runs", "2")
    # then the shape
    assert result["orders"] == 300
    assert result["providers"] == 40
    assert {"candidate_arcs", "distance_saved_percent", "peak_rss_mb"} <= set(result)
    optimiser, greedy = result["optimiser"], result["greedy"]
    assert isinstance(optimiser, dict) and isinstance(greedy, dict)
    assert set(optimiser) >= PART_KEYS and set(greedy) >= PART_KEYS
    # and the invariants: nothing overfilled or ineligible, the optimiser serves as many
    # as any assignment could, and for greedy's count it costs no more than greedy
    for part in (optimiser, greedy):
        assert part["capacity_violations"] == 0
        assert part["ineligible_assignments"] == 0
    assert optimiser["assigned"] == result["max_assignable"]
    assert optimiser["assigned"] >= greedy["assigned"]
    assert optimiser["optimality_gap_units"] >= 0
    same = result["optimiser_same_count"]
    assert isinstance(same, dict)
    assert same["assigned"] == greedy["assigned"]
    assert same["capacity_violations"] == 0
    assert same["total_cost_units"] <= greedy["total_cost_units"]


def test_the_same_seed_gives_the_same_figures() -> None:
    # given / when
    first = run("--orders", "200", "--providers", "30", "--runs", "1")
    second = run("--orders", "200", "--providers", "30", "--runs", "1")
    # then
    for key in ("optimiser", "greedy"):
        a, b = first[key], second[key]
        assert isinstance(a, dict) and isinstance(b, dict)
        assert a["total_distance_km"] == b["total_distance_km"]
        assert a["assigned"] == b["assigned"]


def test_nonsense_sizes_are_refused() -> None:
    with pytest.raises(CommandError):
        run("--orders", "0", "--providers", "10")
