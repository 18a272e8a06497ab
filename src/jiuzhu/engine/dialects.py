"""Rule SQL for other engines: DuckDB's dialect transpiled with sqlglot.

sqlglot translates nearly everything the rules use (dates, intervals, QUALIFY, string
functions). What it leaves as DuckDB-only is rewritten here on the syntax tree:

* ``json_object(k, v, …)`` (the evidence column) becomes ``to_json(named_struct(k, v, …))``
  on Spark and ``json_build_object(k, v, …)::text`` on PostgreSQL.
* ``ROUND(x, n)`` rounds ``x`` as NUMERIC on PostgreSQL, which has no ROUND for a double
  with decimals.

The SQL that Spark receives for the default pack is snapshot-tested
(tests/engine/snapshots/), so a change in sqlglot or in a rule shows up in review.
"""

from __future__ import annotations

from sqlglot import exp

TARGETS = ("duckdb", "spark", "postgres")


def _json_arguments(node: exp.JSONObject) -> list[exp.Expression]:
    arguments: list[exp.Expression] = []
    for pair in node.expressions:
        if isinstance(pair, exp.JSONKeyValue):
            arguments += [pair.this.copy(), pair.expression.copy()]
        else:  # pragma: no cover - sqlglot always pairs them for duckdb's json_object
            arguments.append(pair.copy())
    return arguments


def rewrite_for(tree: exp.Expression, dialect: str) -> exp.Expression:
    """A copy of ``tree`` with DuckDB-only constructs replaced for ``dialect``."""
    if dialect not in TARGETS:
        raise ValueError(f"unknown dialect {dialect}")
    if dialect == "duckdb":
        return tree

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.JSONObject):
            arguments = _json_arguments(node)
            if dialect == "spark":
                struct = exp.Anonymous(this="named_struct", expressions=arguments)
                return exp.Anonymous(this="to_json", expressions=[struct])
            built = exp.Anonymous(this="json_build_object", expressions=arguments)
            return exp.cast(built, exp.DataType.build("text"))
        return node

    def numeric_round(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Round) and node.args.get("decimals"):
            numeric = exp.cast(node.this.copy(), exp.DataType.build("numeric"))
            return exp.Round(this=numeric, decimals=node.args["decimals"].copy())
        return node

    rewritten = tree.copy()
    if dialect == "postgres":
        rewritten = rewritten.transform(numeric_round)
    return rewritten.transform(replace)


def to_sql(tree: exp.Expression, dialect: str, *, pretty: bool = False) -> str:
    return rewrite_for(tree, dialect).sql(dialect=dialect, pretty=pretty)
