"""How far back each feed must be read: windows derived from the rules' own SQL.

A rule that looks at the last 30 days of water-meter readings says so in its WHERE
clause (``w.read_at >= :as_of - :lookback_days``). Once the parameters are bound, that
bound is a constant, and the runner need not load a year of readings to apply it. This
module finds such bounds on a feed's event-date column in every reference to the feed,
and returns the smallest window that covers them all. Loading only that window changes
no result, because every row outside it would have been filtered out by the rule
itself:

- only top-level ``AND`` conjuncts of the ``WHERE`` of the SELECT that reads the feed
  count (a ``WHERE`` filters after all joins, where a comparison with NULL is not true,
  so this holds for any join type), plus the ``ON`` conjuncts of an inner or left join
  that brings the feed in;
- the other side of the comparison must be constant once bound: no columns, no
  subqueries. A region override turns a parameter into a ``CASE`` on the region code;
  then every branch is evaluated and the widest one kept;
- a feed is read whole as soon as one reference to it has no bound (such as a
  correlated ``e.registered_on >= u.registered_on``).

Bounds are evaluated by DuckDB (the rule dialect), so ``:as_of - INTERVAL '30' DAY``
means what the rule means by it.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import duckdb
from sqlglot import exp

from jiuzhu.feeds.schema import Feed

# More CASE combinations than this in one bound and the feed is simply read whole.
_MAX_VARIANTS = 64


@dataclass(frozen=True)
class Window:
    """Rows of a feed whose event date lies in ``[since, until]`` (either side open when
    None). Inclusive on both sides: a superset of what the rules read."""

    since: datetime.datetime | None = None
    until: datetime.datetime | None = None

    @property
    def unbounded(self) -> bool:
        return self.since is None and self.until is None

    def covers_period(self, start: datetime.date, end: datetime.date) -> bool:
        """Whether the period ``[start, end)`` has any day inside the window."""
        if self.since is not None and end <= self.since.date():
            return False
        return not (self.until is not None and start > self.until.date())

    def as_json(self) -> dict[str, str | None]:
        return {
            "since": None if self.since is None else self.since.isoformat(sep=" "),
            "until": None if self.until is None else self.until.isoformat(sep=" "),
        }


WHOLE = Window()


def _is_constant(node: exp.Expr) -> bool:
    return not any(
        isinstance(n, exp.Column | exp.Subquery | exp.Select | exp.Placeholder | exp.Star)
        for n in node.walk()
    )


def _variants(node: exp.Expr) -> list[exp.Expr] | None:
    """``node`` with each region CASE replaced by each of its outcomes; None when a
    variant is still not constant (the bound then depends on a row's data)."""
    cases = [c for c in node.find_all(exp.Case) if not c.find_ancestor(exp.Case)]
    if not cases:
        return [node] if _is_constant(node) else None
    outcomes = []
    for case in cases:
        branches = [when.args["true"] for when in case.args.get("ifs", [])]
        if case.args.get("default") is None:
            return None  # no ELSE: the outcome may be NULL
        branches.append(case.args["default"])
        outcomes.append(branches)
    combinations = 1
    for branches in outcomes:
        combinations *= len(branches)
    if combinations > _MAX_VARIANTS:
        return None
    result = []
    for choice in itertools.product(*outcomes):
        copy = node.copy()
        replaced = [c for c in copy.find_all(exp.Case) if not c.find_ancestor(exp.Case)]
        for case, outcome in zip(replaced, choice, strict=True):
            case.replace(outcome.copy())
        if not _is_constant(copy):
            return None
        result.append(copy)
    return result


@dataclass
class _Bound:
    lower: list[exp.Expr]
    upper: list[exp.Expr]


def _conjuncts(condition: exp.Expr | None) -> list[exp.Expr]:
    if condition is None:
        return []
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    return [condition]


def _is_event_column(node: exp.Expr, alias: str, column: str, sole_source: bool) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    if not isinstance(node, exp.Column) or node.name != column:
        return False
    return node.table == alias or (not node.table and sole_source)


def _bounds_in(conditions: Iterable[exp.Expr], alias: str, column: str, sole: bool) -> _Bound:
    bound = _Bound(lower=[], upper=[])
    for condition in conditions:
        if isinstance(condition, exp.Between) and _is_event_column(
            condition.this, alias, column, sole
        ):
            bound.lower.append(condition.args["low"])
            bound.upper.append(condition.args["high"])
            continue
        if not isinstance(condition, exp.GTE | exp.GT | exp.LTE | exp.LT | exp.EQ):
            continue
        left, right = condition.left, condition.right
        if _is_event_column(left, alias, column, sole):
            other, column_on_left = right, True
        elif _is_event_column(right, alias, column, sole):
            other, column_on_left = left, False
        else:
            continue
        if isinstance(condition, exp.EQ):
            bound.lower.append(other)
            bound.upper.append(other)
        elif isinstance(condition, exp.GTE | exp.GT) == column_on_left:
            bound.lower.append(other)  # column >= x, or x <= column
        else:
            bound.upper.append(other)
    return bound


def _reference_bound(table: exp.Table, column: str) -> _Bound | None:
    """The bounds one reference to a feed carries, or None if it cannot be analysed."""
    select = table.parent.parent if table.parent is not None else None
    if not isinstance(select, exp.Select):
        return None
    alias = table.alias_or_name
    conditions = _conjuncts(select.args["where"].this if select.args.get("where") else None)
    join = table.parent
    if isinstance(join, exp.Join) and join.side in ("", "LEFT") and join.kind != "CROSS":
        conditions += _conjuncts(join.args.get("on"))
    elif not isinstance(join, exp.From | exp.Join):
        return None
    sole = not select.args.get("joins")
    return _bounds_in(conditions, alias, column, sole)


def _evaluate(
    con: duckdb.DuckDBPyConnection, expressions: list[exp.Expr]
) -> list[datetime.datetime | None]:
    """Each constant expression as a timestamp, in DuckDB (None if it is not a date)."""
    values: list[datetime.datetime | None] = []
    for expression in expressions:
        try:
            row = con.execute(
                f"SELECT TRY_CAST(({expression.sql(dialect='duckdb')}) AS TIMESTAMP)"
            ).fetchone()
        except duckdb.Error:
            row = None
        values.append(row[0] if row else None)
    return values


def _widest(
    con: duckdb.DuckDBPyConnection, expressions: list[exp.Expr], *, lower: bool
) -> datetime.datetime | None:
    """The bound implied by one reference's conjuncts (all must hold, so the tightest),
    each conjunct's value being its widest region variant."""
    best: datetime.datetime | None = None
    for expression in expressions:
        variants = _variants(expression)
        if variants is None:
            continue  # depends on the row: it bounds nothing
        values = _evaluate(con, variants)
        if any(v is None for v in values):
            continue
        present = [v for v in values if v is not None]
        widest = min(present) if lower else max(present)
        if best is None or (widest > best if lower else widest < best):
            best = widest
    return best


def feed_windows(
    trees: Mapping[str, exp.Expression] | Iterable[exp.Expression], feeds: Iterable[Feed]
) -> dict[str, Window]:
    """The window of each feed that the bound rule trees read."""
    by_id = {feed.id: feed for feed in feeds}
    found: dict[str, list[tuple[datetime.datetime | None, datetime.datetime | None]]] = {}
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        for tree in trees.values() if isinstance(trees, Mapping) else trees:
            _collect(con, tree, by_id, found)
    finally:
        con.close()
    windows = {}
    for feed_id in by_id:
        references = found.get(feed_id, [])
        if not references:
            windows[feed_id] = WHOLE
            continue
        lowers = [lo for lo, _ in references]
        uppers = [up for _, up in references]
        windows[feed_id] = Window(
            since=None if any(v is None for v in lowers) else min(v for v in lowers if v),
            until=None if any(v is None for v in uppers) else max(v for v in uppers if v),
        )
    return windows


def _collect(
    con: duckdb.DuckDBPyConnection,
    tree: exp.Expression,
    feeds: Mapping[str, Feed],
    found: dict[str, list[tuple[datetime.datetime | None, datetime.datetime | None]]],
) -> None:
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        feed = feeds.get(table.name)
        if feed is None or table.name in ctes:
            continue
        bound = _reference_bound(table, feed.event_date_column)
        if bound is None:
            found.setdefault(feed.id, []).append((None, None))
            continue
        found.setdefault(feed.id, []).append(
            (_widest(con, bound.lower, lower=True), _widest(con, bound.upper, lower=False))
        )
