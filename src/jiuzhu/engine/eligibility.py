"""Policy eligibility (政策找人): one SQL rule per policy over the registry snapshot.

A policy's rule is one ``SELECT`` in DuckDB's dialect returning, per household it
probably qualifies, ``household_id``, ``evidence`` (``json_object`` of the figures that
held) and ``explanation`` (the conditions that held, in Chinese). It may read the
registry snapshot tables of :mod:`jiuzhu.engine.inputs` and two derived tables the
matcher builds once per pass, so that fifty policies do not each aggregate five million
persons:

* ``household_facts`` — one row per active household with the figures most conditions
  are about (:data:`FACT_COLUMNS`);
* ``standards`` — the dated standards in force for each village and urban/rural type on
  the day of the pass (``region_code``, ``area_type``, ``name``, ``value``), from the
  applications app's ``Standard`` table.

Rules are validated like monitoring rules (sqlglot: one query, no writes, documented
tables only, placeholders declared) and may use ``:as_of``. The matcher then compares
each rule's households with the enrolments of the policy's category: eligible and not
enrolled is ``may_qualify``; enrolled and not eligible is ``no_longer_eligible``.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from jiuzhu.engine.dialects import to_sql
from jiuzhu.engine.inputs import REGISTRY_TABLES
from jiuzhu.engine.rules import (
    _FORBIDDEN,
    DIALECT,
    RuleError,
    _literal,
    parse,
)

RULE_OUTPUT_COLUMNS = ("household_id", "evidence", "explanation")
BUILTIN = ("as_of",)

# The derived household table every rule may read, column → DuckDB type.
FACT_COLUMNS: dict[str, str] = {
    "household_id": "BIGINT",
    "region_code": "VARCHAR",  # 12-digit village code
    "area_type": "VARCHAR",  # urban | rural
    "member_count": "INTEGER",  # living members
    "income_year": "INTEGER",  # the last full year before the pass
    "annual_income": "DECIMAL(14,2)",  # all incomes of that year
    "per_capita_monthly_income": "DECIMAL(14,2)",  # annual_income / 12 / members
    "dibao_standard": "DECIMAL(14,2)",  # 低保 standard in force (per person a month)
    "marginal_factor": "DECIMAL(8,4)",  # 低保边缘 factor (e.g. 1.5)
    "disposable_income": "DECIMAL(14,2)",  # last year's per-capita disposable income
    "rigid_share": "DECIMAL(8,4)",  # rigid-expenditure share of income
    "medical_spending": "DECIMAL(14,2)",  # out-of-pocket medical, income_year
    "education_spending": "DECIMAL(14,2)",  # education, income_year
    "deposits": "DECIMAL(14,2)",  # deposits and securities
    "vehicle_value": "DECIMAL(14,2)",
    "business_value": "DECIMAL(14,2)",
    "homes": "INTEGER",  # housing assets (one row, one home)
    "elders": "INTEGER",  # living members aged 60 or over on :as_of
    "elders_80": "INTEGER",  # aged 80 or over
    "children": "INTEGER",  # under 18
    "under_6": "INTEGER",  # under 6
    "students": "INTEGER",  # employment = student
    "working_age": "INTEGER",  # 16–59
    "unemployed": "INTEGER",  # employment = unemployed
    "unable_to_work": "INTEGER",  # labour_capacity = none
    "disabled": "INTEGER",  # any disability certificate
    "severely_disabled": "INTEGER",  # grade 1–2
    "seriously_ill": "INTEGER",  # members with a serious illness
    "enrolled": "VARCHAR[]",  # categories of active enrolments (household or member)
}
STANDARD_COLUMNS: dict[str, str] = {
    "region_code": "VARCHAR",
    "area_type": "VARCHAR",
    "name": "VARCHAR",
    "value": "DECIMAL(14,4)",
}
DERIVED_TABLES: dict[str, dict[str, str]] = {
    "household_facts": FACT_COLUMNS,
    "standards": STANDARD_COLUMNS,
}
# Standards the facts carry, with the value used when a county has not set one.
FACT_STANDARDS = {
    "dibao_monthly": "dibao_standard",
    "marginal_factor": "marginal_factor",
    "disposable_income": "disposable_income",
    "rigid_share": "rigid_share",
}


def eligibility_tables() -> dict[str, dict[str, str]]:
    """Every table an eligibility rule may read, with its columns."""
    return {**REGISTRY_TABLES, **DERIVED_TABLES}


@dataclass(frozen=True)
class EligibilityRule:
    """One policy's rule as the matcher needs it."""

    policy: str  # the policy's code
    version: int
    sql: str
    enrolment_category: str = ""  # '' = the registry cannot tell who already has it


def validate_rule_sql(sql: str, where: str = "rule") -> exp.Query:
    """The rule's syntax tree, or RuleError saying in plain words what is wrong (the
    policy page shows the message)."""
    if not sql.strip():
        raise RuleError(f"{where}: the rule is empty")
    tree = parse(sql, where)
    if not isinstance(tree, exp.Query):
        raise RuleError(f"{where}: a rule must be a single SELECT")
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN):
            raise RuleError(f"{where}: only SELECT is allowed ({node.key.upper()} found)")
    tables = eligibility_tables()
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table.args.get("db"):
            raise RuleError(f"{where}: reads from {table.sql()}, not a documented input table")
        if table.name not in tables and table.name not in ctes:
            raise RuleError(f"{where}: unknown table {table.name!r} (documented: {sorted(tables)})")
    used = {p.name for p in tree.find_all(exp.Placeholder)}
    if used - set(BUILTIN):
        raise RuleError(f"{where}: unknown parameters {sorted(used - set(BUILTIN))}")
    names = {e.alias_or_name for e in tree.selects}
    missing = [c for c in RULE_OUTPUT_COLUMNS if c not in names]
    if missing:
        raise RuleError(f"{where}: the SELECT must return {', '.join(missing)}")
    return tree


def bind_rule(sql: str, *, as_of: datetime.date, where: str = "rule") -> exp.Expression:
    """The rule's tree with ``:as_of`` replaced by a literal date."""
    tree = validate_rule_sql(sql, where)

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            return _literal("date", as_of)
        return node

    return tree.transform(replace)


# Names kept for the matcher below (filled in next).
_ = (json, time, Callable, Mapping, Sequence, field, Path, Any, pa, pc, sqlglot, to_sql, DIALECT)
