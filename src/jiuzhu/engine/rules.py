"""Rule packs: a directory with one YAML file and one SQL file per rule.

The YAML says what the rule finds and why, its parameters (defaults and units), its levels
and the deadline of each level; the SQL (DuckDB's dialect) reads only the documented input
tables (:mod:`jiuzhu.engine.inputs`) and returns candidate warnings with the columns in
:data:`OUTPUT_COLUMNS`. Parameters appear in the SQL as ``:name`` placeholders; binding
replaces them in the syntax tree with literals (never by pasting strings), or with a
``CASE`` over the household's region where a county admin has overridden a value for part
of the area. ``:as_of`` (the run date) is always available.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp

DIALECT = "duckdb"
DEFAULT_PACK = Path(__file__).parent / "packs" / "default"
RULE_ID = re.compile(r"^[a-z][a-z0-9_]{2,60}$")
LEVELS = ("red", "yellow", "blue")  # most urgent first
PARAMETER_TYPES = ("number", "integer", "days", "text", "text_list", "date")
# What every rule's SELECT must return, in any order (more columns are allowed and ignored).
OUTPUT_COLUMNS = (
    "household_id",
    "rule_id",
    "level",
    "event_key",
    "event_date",
    "evidence",
    "explanation",
)
BUILTIN_PARAMETERS = ("as_of",)
_REGION_CODE = re.compile(r"^\d{2}(\d{2}){0,2}(\d{3}){0,2}$")  # 2/4/6/9/12 digits
# Anything that could write, read files or reach outside the documented tables.
_FORBIDDEN = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Copy,
    exp.Pragma,
    exp.Set,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.LoadData,
)


class RuleError(ValueError):
    """A rule is malformed; the message names the rule file and what is wrong."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any
    unit: str
    label_zh: str
    label_en: str
    description: str = ""


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    name_zh: str
    name_en: str
    finds: str  # what it finds (English, for docs)
    why: str  # why it matters, with the source
    finds_zh: str
    parameters: tuple[Parameter, ...]
    levels: tuple[str, ...]
    deadline_hours: Mapping[str, int]
    sql: str
    sql_path: Path
    # SQL expression naming the household's region where parameters are used; needed
    # for region overrides (None: the rule cannot be overridden by region).
    region_column: str | None = None
    # ``household``: a household's warnings depend only on its own records, so an
    # incremental run may look at touched households only. ``population``: the rule
    # ranks households against each other and runs only in full passes.
    scope: str = "household"
    evidence_labels: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.parameters}


@dataclass(frozen=True)
class RulePack:
    name: str
    directory: Path
    rules: tuple[Rule, ...]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def versions(self) -> dict[str, int]:
        return {rule.id: rule.version for rule in self.rules}


# ----------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------


def _bilingual(raw: Any, where: str) -> tuple[str, str]:
    if not isinstance(raw, Mapping) or not raw.get("zh") or not raw.get("en"):
        raise RuleError(f"{where}: needs zh and en texts")
    return str(raw["zh"]), str(raw["en"])


def coerce_parameter(parameter_type: str, value: Any, where: str) -> Any:
    """A parameter value of the declared type, or RuleError."""
    try:
        if parameter_type == "number":
            if isinstance(value, bool):
                raise TypeError
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        if parameter_type in ("integer", "days"):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise TypeError
            return int(value)
        if parameter_type == "text":
            if not isinstance(value, str):
                raise TypeError
            return value
        if parameter_type == "text_list":
            if isinstance(value, str):
                value = [v for v in re.split(r"[\s,，]+", value) if v]
            if not isinstance(value, list | tuple) or not value:
                raise TypeError
            return [str(v) for v in value]
        if parameter_type == "date":
            if isinstance(value, datetime.date):
                return value
            return datetime.date.fromisoformat(str(value))
    except (TypeError, ValueError) as exc:
        raise RuleError(f"{where}: {value!r} is not a valid {parameter_type}") from exc
    raise RuleError(f"{where}: unknown parameter type {parameter_type!r}")


def _parameter(name: str, raw: Any, where: str) -> Parameter:
    if not isinstance(raw, Mapping):
        raise RuleError(f"{where}: parameter {name} must be a mapping")
    kind = raw.get("type")
    if kind not in PARAMETER_TYPES:
        raise RuleError(f"{where}: parameter {name}: type must be one of {PARAMETER_TYPES}")
    if name in BUILTIN_PARAMETERS or not re.match(r"^[a-z][a-z0-9_]*$", name):
        raise RuleError(f"{where}: parameter name {name!r} is not allowed")
    label_zh, label_en = _bilingual(raw.get("label"), f"{where}: parameter {name} label")
    return Parameter(
        name=name,
        type=kind,
        default=coerce_parameter(kind, raw.get("default"), f"{where}: parameter {name}"),
        unit=str(raw.get("unit", "")),
        label_zh=label_zh,
        label_en=label_en,
        description=str(raw.get("description", "")),
    )


# libyaml's loader when PyYAML was built with it (ten times faster; the same safe subset).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_rule(yaml_path: Path, tables: Mapping[str, Mapping[str, str]]) -> Rule:
    where = yaml_path.name
    try:
        raw = yaml.load(yaml_path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506
    except yaml.YAMLError as exc:
        raise RuleError(f"{where}: not valid YAML ({exc})") from exc
    if not isinstance(raw, Mapping):
        raise RuleError(f"{where}: must be a mapping")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise RuleError(f"{where}: id must be snake_case")
    if yaml_path.stem != rule_id:
        raise RuleError(f"{where}: file name must be the rule id ({rule_id}.yaml)")
    version = raw.get("version")
    if not isinstance(version, int) or version < 1:
        raise RuleError(f"{where}: version must be a positive integer")
    name_zh, name_en = _bilingual(raw.get("name"), f"{where}: name")
    finds_zh, finds = _bilingual(raw.get("finds"), f"{where}: finds")
    why = raw.get("why")
    if not isinstance(why, str) or not why.strip():
        raise RuleError(f"{where}: why (the reasons for the rule) is required")
    params_raw = raw.get("parameters") or {}
    if not isinstance(params_raw, Mapping):
        raise RuleError(f"{where}: parameters must be a mapping")
    parameters = tuple(_parameter(str(k), v, where) for k, v in params_raw.items())
    levels = raw.get("levels")
    if not isinstance(levels, list) or not levels or any(lv not in LEVELS for lv in levels):
        raise RuleError(f"{where}: levels must be a list drawn from {LEVELS}")
    deadlines = raw.get("deadline_hours")
    if not isinstance(deadlines, Mapping) or set(deadlines) != set(levels):
        raise RuleError(f"{where}: deadline_hours needs exactly one entry per level")
    if any(not isinstance(h, int) or h < 1 for h in deadlines.values()):
        raise RuleError(f"{where}: deadlines are whole hours ≥ 1")
    scope = raw.get("scope", "household")
    if scope not in ("household", "population"):
        raise RuleError(f"{where}: scope must be household or population")
    evidence: dict[str, tuple[str, str, str]] = {}
    for key, value in (raw.get("evidence") or {}).items():
        zh, en = _bilingual(value, f"{where}: evidence {key}")
        evidence[str(key)] = (zh, en, str(value.get("unit", "")))
    sql_path = yaml_path.with_suffix(".sql")
    if not sql_path.exists():
        raise RuleError(f"{where}: the SQL file {sql_path.name} is missing")
    sql = sql_path.read_text(encoding="utf-8")
    rule = Rule(
        id=rule_id,
        version=version,
        name_zh=name_zh,
        name_en=name_en,
        finds=finds,
        why=why.strip(),
        finds_zh=finds_zh,
        parameters=parameters,
        levels=tuple(levels),
        deadline_hours={str(k): int(v) for k, v in deadlines.items()},
        sql=sql,
        sql_path=sql_path,
        region_column=raw.get("region_column"),
        scope=scope,
        evidence_labels=evidence,
    )
    validate_sql(rule, tables)
    return rule


def load_pack(
    directory: Path = DEFAULT_PACK, tables: Mapping[str, Mapping[str, str]] | None = None
) -> RulePack:
    """Every rule of a pack, validated (syntax, SELECT only, known tables, parameters)."""
    from jiuzhu.engine.inputs import input_tables

    if not directory.is_dir():
        raise RuleError(f"{directory}: not a directory")
    tables = tables if tables is not None else input_tables()
    yamls = sorted(directory.glob("*.yaml"))
    if not yamls:
        raise RuleError(f"{directory}: no rules (*.yaml)")
    orphans = {p.stem for p in directory.glob("*.sql")} - {p.stem for p in yamls}
    if orphans:
        raise RuleError(f"{directory}: SQL without a rule definition: {sorted(orphans)}")
    rules = tuple(load_rule(path, tables) for path in yamls)
    return RulePack(name=directory.name, directory=directory, rules=rules)


# ----------------------------------------------------------------------------------------
# Validation of the SQL
# ----------------------------------------------------------------------------------------


def parse(sql: str, where: str) -> exp.Expression:
    """The rule's syntax tree (a fresh copy: callers may change it)."""
    return _parsed(sql, where).copy()


@functools.lru_cache(maxsize=512)
def _parsed(sql: str, where: str) -> exp.Expression:
    """Parsed once per text: a pack is validated on load and bound on every run."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise RuleError(f"{where}: the SQL does not parse: {exc}") from exc
    if len(statements) != 1:
        raise RuleError(f"{where}: one SQL statement per rule, found {len(statements)}")
    statement = statements[0]
    if not isinstance(statement, exp.Expression):  # pragma: no cover - parse gives trees
        raise RuleError(f"{where}: not a statement")
    return statement


def check_query(sql: str, where: str, tables: Mapping[str, Mapping[str, str]]) -> exp.Query:
    """The tree of one SELECT that writes nothing and reads only ``tables`` (or its own
    CTEs); RuleError naming ``where`` otherwise. Shared by warning and policy rules."""
    tree = parse(sql, where)
    if not isinstance(tree, exp.Query):
        raise RuleError(f"{where}: a rule must be a single SELECT")
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN):
            raise RuleError(f"{where}: only SELECT is allowed ({node.key.upper()} found)")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table.args.get("db"):
            raise RuleError(f"{where}: reads from {table.sql()}, not a documented input table")
        name = table.name
        if name not in tables and name not in ctes:
            raise RuleError(f"{where}: unknown table {name!r} (documented: {sorted(tables)})")
    return tree


def validate_sql(rule: Rule, tables: Mapping[str, Mapping[str, str]]) -> None:
    where = rule.sql_path.name
    tree = check_query(rule.sql, where, tables)
    declared = {p.name for p in rule.parameters} | set(BUILTIN_PARAMETERS)
    used = {p.name for p in tree.find_all(exp.Placeholder)}
    if used - declared:
        raise RuleError(f"{where}: parameters used but not declared: {sorted(used - declared)}")
    unused = {p.name for p in rule.parameters} - used
    if unused:
        raise RuleError(f"{where}: parameters declared but not used: {sorted(unused)}")
    if rule.region_column is not None:
        try:
            sqlglot.parse_one(rule.region_column, read=DIALECT, into=exp.Column)
        except sqlglot.errors.SqlglotError as exc:
            raise RuleError(f"{where}: region_column must be a column reference") from exc


# ----------------------------------------------------------------------------------------
# Binding
# ----------------------------------------------------------------------------------------

# region code prefix → value, for one parameter
Overrides = Mapping[str, Mapping[str, Any]]


def _literal(parameter_type: str, value: Any) -> exp.Expression:
    if parameter_type in ("number", "integer"):
        if isinstance(value, float) and value.is_integer() and parameter_type == "integer":
            value = int(value)
        return exp.Literal.number(str(Decimal(str(value))))
    if parameter_type == "days":
        # A span of days binds as an interval, so ``:as_of - :window_days`` reads
        # naturally and transpiles to every engine.
        return exp.Interval(this=exp.Literal.string(str(int(value))), unit=exp.Var(this="DAY"))
    if parameter_type == "text":
        return exp.Literal.string(str(value))
    if parameter_type == "date":
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("date"))
    if parameter_type == "text_list":
        return exp.Tuple(expressions=[exp.Literal.string(str(v)) for v in value])
    raise RuleError(f"unknown parameter type {parameter_type}")


def resolve_values(rule: Rule, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid with ``values`` (coerced to the declared types)."""
    resolved = rule.defaults()
    for name, value in (values or {}).items():
        try:
            parameter = rule.parameter(name)
        except KeyError as exc:
            raise RuleError(f"{rule.id}: no parameter {name!r}") from exc
        resolved[name] = coerce_parameter(parameter.type, value, f"{rule.id}.{name}")
    return resolved


def bind(
    rule: Rule,
    *,
    as_of: datetime.date,
    values: Mapping[str, Any] | None = None,
    overrides: Overrides | None = None,
) -> exp.Expression:
    """The rule's syntax tree with every placeholder replaced.

    ``values`` replace defaults for the whole run; ``overrides`` give, per parameter,
    values for region-code prefixes (the longest matching prefix wins).
    """
    resolved = resolve_values(rule, values)
    overrides = overrides or {}
    region_column = (
        sqlglot.parse_one(rule.region_column, read=DIALECT) if rule.region_column else None
    )
    if overrides and any(overrides.values()) and region_column is None:
        raise RuleError(f"{rule.id}: this rule cannot be overridden by region")

    def value_of(name: str) -> exp.Expression:
        if name == "as_of":
            return _literal("date", as_of)
        parameter = rule.parameter(name)
        default = _literal(parameter.type, resolved[name])
        by_region = overrides.get(name) or {}
        if not by_region:
            return default
        if parameter.type == "text_list":
            raise RuleError(f"{rule.id}.{name}: lists cannot be overridden by region")
        assert region_column is not None
        case = exp.Case()
        # Longest prefix first: a village's value beats its town's, a town's its county's.
        for prefix in sorted(by_region, key=lambda p: (-len(p), p)):
            if not _REGION_CODE.match(prefix):
                raise RuleError(f"{rule.id}.{name}: {prefix!r} is not a region code")
            value = coerce_parameter(parameter.type, by_region[prefix], f"{rule.id}.{name}")
            condition = exp.Like(
                this=region_column.copy(), expression=exp.Literal.string(prefix + "%")
            )
            case = case.when(condition, _literal(parameter.type, value))
        return exp.Paren(this=case.else_(default))

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            return value_of(node.name)
        return node

    # transform() copies: the cached tree is left as parsed.
    return _parsed(rule.sql, rule.sql_path.name).transform(replace)


def bound_values(
    rule: Rule, values: Mapping[str, Any] | None, overrides: Overrides | None
) -> dict[str, Any]:
    """What a run records: the values used, with any region overrides."""
    resolved = resolve_values(rule, values)
    record: dict[str, Any] = {}
    for name, value in resolved.items():
        entry: Any = value.isoformat() if isinstance(value, datetime.date) else value
        by_region = (overrides or {}).get(name)
        if by_region:
            entry = {"default": entry, "by_region": dict(sorted(by_region.items()))}
        record[name] = entry
    return record


def referenced_columns(
    trees: Iterable[exp.Expression], tables: Mapping[str, Mapping[str, str]]
) -> dict[str, tuple[str, ...]]:
    """Per input table, the columns the rules can read: those whose name appears in some
    rule (by name, whatever the alias: a superset), or all of them where a rule selects
    ``*`` from the table or names the table itself as a value (DuckDB reads that as the
    whole row). Tables are loaded with these columns only."""
    names: set[str] = set()
    whole: set[str] = set()
    for tree in trees:
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        aliases = {
            t.alias_or_name: t.name
            for t in tree.find_all(exp.Table)
            if t.name in tables and t.name not in ctes
        }
        for column in tree.find_all(exp.Column):
            names.add(column.name)
            if not column.table and column.name in aliases:
                whole.add(aliases[column.name])
        if tree.find(exp.Columns):  # DuckDB's COLUMNS(…) picks columns by pattern
            whole.update(aliases.values())
        for select in tree.find_all(exp.Select):
            if not any(
                isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star)
                for e in select.expressions
            ):
                continue
            start = select.args.get("from_") or select.args.get("from")
            sources = [start.this] if start else []
            sources += [join.this for join in select.args.get("joins") or []]
            for source in sources:
                is_input = isinstance(source, exp.Table) and source.name not in ctes
                if is_input and source.name in tables:
                    whole.add(source.name)
    return {
        table: tuple(c for c in columns if table in whole or c in names)
        for table, columns in tables.items()
    }


def referenced_tables(trees: Iterable[exp.Expression]) -> set[str]:
    """The input tables the given (parsed or bound) rules read; their own CTEs excluded."""
    names: set[str] = set()
    for tree in trees:
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        names |= {t.name for t in tree.find_all(exp.Table)} - ctes
    return names
