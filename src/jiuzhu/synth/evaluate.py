"""Recall and precision of a monitoring run against the planted truth.

A warning matches when its household and rule equal those of a truth row with
``expected = warn``. Recall: the share of those (household, rule) pairs that warned.
Precision: the share of warned (household, rule) pairs that the truth expected. Near-miss
rows (``expected = no_warn``) that warned are counted separately: they are the false
alarms the planted traps were built to catch.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa


def evaluate(candidates: pa.Table, truth: pa.Table) -> dict[str, Any]:
    warned = set(
        zip(candidates["household_id"].to_pylist(), candidates["rule_id"].to_pylist(), strict=True)
    )
    expected_rows = truth.filter(pa.compute.equal(truth["expected"], "warn"))
    near_rows = truth.filter(pa.compute.equal(truth["expected"], "no_warn"))
    expected = set(
        zip(
            expected_rows["household_key"].to_pylist(),
            expected_rows["rule"].to_pylist(),
            strict=True,
        )
    )
    near = (
        set(zip(near_rows["household_key"].to_pylist(), near_rows["rule"].to_pylist(), strict=True))
        - expected
    )
    hits = warned & expected
    rules = sorted({r for _, r in expected | warned})
    per_rule = {}
    for rule in rules:
        e = {p for p in expected if p[1] == rule}
        w = {p for p in warned if p[1] == rule}
        per_rule[rule] = {
            "expected": len(e),
            "warned": len(w),
            "recall": round(len(e & w) / len(e), 4) if e else None,
            "precision": round(len(e & w) / len(w), 4) if w else None,
            "near_misses_warned": len({p for p in near if p[1] == rule} & w),
        }
    return {
        "recall": round(len(hits) / len(expected), 4) if expected else None,
        "precision": round(len(hits) / len(warned), 4) if warned else None,
        "expected": len(expected),
        "warned": len(warned),
        "near_misses": len(near),
        "near_misses_warned": len(near & warned),
        "per_rule": per_rule,
    }
