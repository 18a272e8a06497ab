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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from jiuzhu.core.dates import add_months
from jiuzhu.engine.dialects import to_sql
from jiuzhu.engine.duck import path_literal
from jiuzhu.engine.inputs import REGISTRY_TABLES
from jiuzhu.engine.rules import RuleError, _literal, check_query
from jiuzhu.engine.runner import empty_select

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
    region_prefix: str = ""  # a county's own policy applies to its households only


def validate_rule_sql(sql: str, where: str = "rule") -> exp.Query:
    """The rule's syntax tree, or RuleError saying in plain words what is wrong (the
    policy page shows the message)."""
    if not sql.strip():
        raise RuleError(f"{where}: the rule is empty")
    tree = check_query(sql, where, eligibility_tables())
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


# ----------------------------------------------------------------------------------------
# Matching
# ----------------------------------------------------------------------------------------

MATCH_SCHEMA = pa.schema(
    [
        pa.field("policy", pa.string(), nullable=False),
        pa.field("household_id", pa.int64(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),  # may_qualify | no_longer_eligible
        pa.field("evidence", pa.string(), nullable=False),  # JSON object
        pa.field("explanation", pa.string(), nullable=False),
    ]
)
MAY_QUALIFY = "may_qualify"
NO_LONGER_ELIGIBLE = "no_longer_eligible"
ProgressFn = Callable[[str], None]

# The figures shown for a household enrolled in a policy's category that its rule no
# longer finds: what a worker re-checks first.
_RECHECK_EVIDENCE = (
    "per_capita_monthly_income",
    "dibao_standard",
    "member_count",
    "homes",
    "vehicle_value",
    "deposits",
)


@dataclass
class MatchResult:
    as_of: datetime.date
    matches: pa.Table  # MATCH_SCHEMA, sorted by policy, kind, household
    households: int
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # policy → kind → n
    errors: dict[str, str] = field(default_factory=dict)  # policy → message


def facts_sql(snapshot: Path, as_of: datetime.date) -> str:
    """The SELECT that builds ``household_facts`` from the snapshot files and the
    ``standards`` table (DuckDB). One pass over each file; ages on ``as_of``."""

    def src(table: str) -> str:
        return f"read_parquet({path_literal(snapshot / f'{table}.parquet')})"

    def born_by(years: int) -> str:
        return f"DATE '{add_months(as_of, -12 * years).isoformat()}'"

    standard_columns = ",\n            ".join(
        f"MAX(CASE WHEN name = '{name}' THEN value END) AS {column}"
        for name, column in FACT_STANDARDS.items()
    )
    return f"""
    WITH living AS (
        SELECT * FROM {src("persons")} WHERE NOT is_deceased
    ),
    members AS (
        SELECT
            household_id,
            COUNT(*) FILTER (WHERE birth_date <= {born_by(60)}) AS elders,
            COUNT(*) FILTER (WHERE birth_date <= {born_by(80)}) AS elders_80,
            COUNT(*) FILTER (WHERE birth_date > {born_by(18)}) AS children,
            COUNT(*) FILTER (WHERE birth_date > {born_by(6)}) AS under_6,
            COUNT(*) FILTER (WHERE employment = 'student') AS students,
            COUNT(*) FILTER (
                WHERE birth_date <= {born_by(16)} AND birth_date > {born_by(60)}
            ) AS working_age,
            COUNT(*) FILTER (WHERE employment = 'unemployed') AS unemployed,
            COUNT(*) FILTER (WHERE labour_capacity = 'none') AS unable_to_work,
            COUNT(*) FILTER (WHERE disability_type <> '') AS disabled,
            COUNT(*) FILTER (WHERE disability_grade IN (1, 2)) AS severely_disabled
        FROM living
        GROUP BY household_id
    ),
    ill AS (
        SELECT i.household_id, COUNT(DISTINCT i.person_id) AS seriously_ill
        FROM {src("illnesses")} AS i
        SEMI JOIN living AS p ON p.person_id = i.person_id
        WHERE i.is_serious
        GROUP BY i.household_id
    ),
    income_years AS (
        SELECT household_id, year, SUM(annual_amount) AS income
        FROM {src("incomes")}
        WHERE year <= {as_of.year}
        GROUP BY household_id, year
    ),
    income AS (
        SELECT household_id, arg_max(year, year) AS year, arg_max(income, year) AS income
        FROM income_years
        GROUP BY household_id
    ),
    spending AS (
        SELECT
            e.household_id,
            SUM(e.amount) FILTER (WHERE e.kind = 'medical') AS medical,
            SUM(e.amount) FILTER (WHERE e.kind = 'education') AS education
        FROM {src("expenditures")} AS e
        JOIN income AS i ON i.household_id = e.household_id AND i.year = e.year
        GROUP BY e.household_id
    ),
    owned AS (
        SELECT
            household_id,
            SUM(value) FILTER (WHERE kind IN ('deposit', 'securities')) AS deposits,
            SUM(value) FILTER (WHERE kind = 'vehicle') AS vehicle_value,
            SUM(value) FILTER (WHERE kind = 'business') AS business_value,
            COUNT(*) FILTER (WHERE kind = 'housing') AS homes
        FROM {src("assets")}
        GROUP BY household_id
    ),
    enrolled AS (
        SELECT household_id, list_sort(list(DISTINCT category)) AS enrolled
        FROM {src("enrolments")}
        WHERE status = 'active'
        GROUP BY household_id
    ),
    standard AS (
        SELECT
            region_code,
            area_type,
            {standard_columns}
        FROM standards
        GROUP BY region_code, area_type
    )
    SELECT
        h.household_id,
        h.region_code,
        h.area_type,
        h.member_count,
        COALESCE(i.year, {as_of.year - 1}) AS income_year,
        CAST(COALESCE(i.income, 0) AS DECIMAL(14, 2)) AS annual_income,
        CAST(
            COALESCE(i.income, 0) / 12.0 / GREATEST(h.member_count, 1) AS DECIMAL(14, 2)
        ) AS per_capita_monthly_income,
        CAST(s.dibao_standard AS DECIMAL(14, 2)) AS dibao_standard,
        CAST(s.marginal_factor AS DECIMAL(8, 4)) AS marginal_factor,
        CAST(s.disposable_income AS DECIMAL(14, 2)) AS disposable_income,
        CAST(s.rigid_share AS DECIMAL(8, 4)) AS rigid_share,
        CAST(COALESCE(sp.medical, 0) AS DECIMAL(14, 2)) AS medical_spending,
        CAST(COALESCE(sp.education, 0) AS DECIMAL(14, 2)) AS education_spending,
        CAST(COALESCE(o.deposits, 0) AS DECIMAL(14, 2)) AS deposits,
        CAST(COALESCE(o.vehicle_value, 0) AS DECIMAL(14, 2)) AS vehicle_value,
        CAST(COALESCE(o.business_value, 0) AS DECIMAL(14, 2)) AS business_value,
        CAST(COALESCE(o.homes, 0) AS INTEGER) AS homes,
        CAST(COALESCE(m.elders, 0) AS INTEGER) AS elders,
        CAST(COALESCE(m.elders_80, 0) AS INTEGER) AS elders_80,
        CAST(COALESCE(m.children, 0) AS INTEGER) AS children,
        CAST(COALESCE(m.under_6, 0) AS INTEGER) AS under_6,
        CAST(COALESCE(m.students, 0) AS INTEGER) AS students,
        CAST(COALESCE(m.working_age, 0) AS INTEGER) AS working_age,
        CAST(COALESCE(m.unemployed, 0) AS INTEGER) AS unemployed,
        CAST(COALESCE(m.unable_to_work, 0) AS INTEGER) AS unable_to_work,
        CAST(COALESCE(m.disabled, 0) AS INTEGER) AS disabled,
        CAST(COALESCE(m.severely_disabled, 0) AS INTEGER) AS severely_disabled,
        CAST(COALESCE(ill.seriously_ill, 0) AS INTEGER) AS seriously_ill,
        COALESCE(e.enrolled, CAST([] AS VARCHAR[])) AS enrolled
    FROM {src("households")} AS h
    LEFT JOIN members AS m ON m.household_id = h.household_id
    LEFT JOIN ill ON ill.household_id = h.household_id
    LEFT JOIN income AS i ON i.household_id = h.household_id
    LEFT JOIN spending AS sp ON sp.household_id = h.household_id
    LEFT JOIN owned AS o ON o.household_id = h.household_id
    LEFT JOIN enrolled AS e ON e.household_id = h.household_id
    LEFT JOIN standard AS s ON s.region_code = h.region_code AND s.area_type = h.area_type
    WHERE h.member_count > 0
    """  # noqa: S608 - paths quoted, dates and names from this module


def _standards_arrow(standards: pa.Table | None) -> pa.Table:
    schema = pa.schema(
        [
            ("region_code", pa.string()),
            ("area_type", pa.string()),
            ("name", pa.string()),
            ("value", pa.decimal128(14, 4)),
        ]
    )
    if standards is None:
        return schema.empty_table()
    return standards.select(list(schema.names)).cast(schema)


def _recheck_evidence_sql() -> str:
    pairs = ", ".join(f"'{c}', f.{c}" for c in _RECHECK_EVIDENCE)
    return f"CAST(json_object({pairs}) AS VARCHAR)"


def match(
    rules: Sequence[EligibilityRule],
    snapshot: Path,
    *,
    as_of: datetime.date,
    standards: pa.Table | None = None,
    threads: int | None = None,
    progress: ProgressFn | None = None,
) -> MatchResult:
    """Every household that each rule finds, less those already enrolled in the policy's
    category (``may_qualify``); and those enrolled whom the rule no longer finds
    (``no_longer_eligible``). A rule that fails at run time is reported in ``errors`` and
    the others still run: one bad policy must not hide the rest."""
    import duckdb

    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    bound = {}
    errors: dict[str, str] = {}
    for rule in rules:
        try:
            bound[rule.policy] = bind_rule(rule.sql, as_of=as_of, where=rule.policy)
        except RuleError as exc:
            errors[rule.policy] = str(exc)
    raw_tables = {
        t.name
        for tree in bound.values()
        for t in tree.find_all(exp.Table)
        if t.name in REGISTRY_TABLES
    } - {cte.alias_or_name for tree in bound.values() for cte in tree.find_all(exp.CTE)}
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    try:
        con.register("_standards", _standards_arrow(standards))
        con.execute("CREATE TEMP TABLE standards AS SELECT * FROM _standards")
        con.unregister("_standards")
        con.execute(f"CREATE TEMP TABLE household_facts AS {facts_sql(snapshot, as_of)}")
        for table in sorted(raw_tables):
            path = snapshot / f"{table}.parquet"
            con.execute(
                f"CREATE TEMP TABLE {table} AS SELECT * FROM read_parquet({path_literal(path)})"  # noqa: S608
            )
        for table in REGISTRY_TABLES:
            if table not in raw_tables:  # unused, but every documented name must exist
                con.execute(f"CREATE TEMP TABLE {table} AS {empty_select(REGISTRY_TABLES[table])}")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        n_households = int(con.sql("SELECT COUNT(*) FROM household_facts").fetchall()[0][0])
        seconds["facts"] = time.perf_counter() - clock
        if progress:
            progress("facts")
        con.execute(
            "CREATE TEMP TABLE matches (policy VARCHAR, household_id BIGINT, kind VARCHAR, "
            "evidence VARCHAR, explanation VARCHAR)"
        )
        counts: dict[str, dict[str, int]] = {}
        for rule in rules:
            tree = bound.get(rule.policy)
            if tree is None:
                continue
            clock = time.perf_counter()
            try:
                counts[rule.policy] = _match_one(con, rule, tree)
            except duckdb.Error as exc:
                errors[rule.policy] = f"{rule.policy}: {exc}"
            seconds[f"policy:{rule.policy}"] = time.perf_counter() - clock
            if progress:
                progress(rule.policy)
        clock = time.perf_counter()
        table = con.sql(
            "SELECT policy, household_id, kind, evidence, explanation FROM matches "
            "ORDER BY policy, kind, household_id"
        ).to_arrow_table()
        seconds["collect"] = time.perf_counter() - clock
    finally:
        con.close()
    return MatchResult(
        as_of=as_of,
        matches=table.cast(MATCH_SCHEMA),
        households=n_households,
        seconds=seconds,
        counts=counts,
        errors=errors,
    )


def _match_one(con: Any, rule: EligibilityRule, tree: exp.Expression) -> dict[str, int]:
    """Insert one policy's matches; both kinds counted."""
    if rule.region_prefix and not rule.region_prefix.isdigit():
        raise RuleError(f"{rule.policy}: region prefix {rule.region_prefix!r} is not a code")
    sql = to_sql(tree, "duckdb")
    policy = rule.policy.replace("'", "''")
    category = rule.enrolment_category.replace("'", "''")
    # A household found twice (a rule joining members) counts once; the smallest
    # explanation is kept so that reruns agree.
    found = f"""
        SELECT household_id, MIN(CAST(evidence AS VARCHAR)) AS evidence,
               MIN(explanation) AS explanation
        FROM ({sql}) AS rule
        WHERE household_id IS NOT NULL
        GROUP BY household_id
    """  # noqa: S608 - validated rule text
    con.execute(f"CREATE OR REPLACE TEMP TABLE _found AS {found}")
    not_enrolled = f"AND NOT list_contains(f.enrolled, '{category}')" if category else ""
    in_region = f"AND f.region_code LIKE '{rule.region_prefix}%'" if rule.region_prefix else ""
    may = _inserted(
        con,
        f"""INSERT INTO matches
        SELECT '{policy}', r.household_id, '{MAY_QUALIFY}', r.evidence, r.explanation
        FROM _found AS r JOIN household_facts AS f ON f.household_id = r.household_id
        WHERE true {not_enrolled} {in_region}""",  # noqa: S608
    )
    gone = 0
    if category:
        gone = _inserted(
            con,
            f"""INSERT INTO matches
            SELECT '{policy}', f.household_id, '{NO_LONGER_ELIGIBLE}',
                   {_recheck_evidence_sql()},
                   '已纳入本政策对应类别，但按本期数据不再满足本政策条件，请复核'
            FROM household_facts AS f
            ANTI JOIN _found AS r ON r.household_id = f.household_id
            WHERE list_contains(f.enrolled, '{category}') {in_region}""",  # noqa: S608
        )
    return {MAY_QUALIFY: may, NO_LONGER_ELIGIBLE: gone}


def _inserted(con: Any, insert: str) -> int:
    """Run an INSERT; DuckDB answers with the number of rows it added."""
    return int(con.execute(insert).fetchall()[0][0])
