"""The twelve rules of the default pack in plain pandas — the benchmark's baseline.

The benchmark times "the same rules in plain pandas" against the DuckDB runner, so this
module computes exactly the candidate warnings of ``runner.run(load_pack(), sources,
engine="duckdb")`` with pandas and NumPy only (pyarrow reads the Parquet files; no SQL).
The SQL files of ``packs/default`` are the specification; every function below names the
rule it mirrors and follows its CTEs in order.

How SQL semantics are kept:

* **Money** (``DECIMAL(…, 2)`` in the registry and the feeds) is held as whole cents in
  float64 (exact below 2**53). Sums are exact, like DuckDB's decimal sums, and
  comparisons against parameters (``total >= :share × income``) are done in exact
  rational arithmetic, as DuckDB compares decimals. Where DuckDB turns a decimal into a
  double (a division), ``cents / 100`` gives the same double.
* **Doubles** are computed in the SQL's order of operations, so results are bit-identical;
  ``ROUND`` on a double is DuckDB's ``std::round(x · 10^d) / 10^d`` (half away from
  zero), not NumPy's half-to-even.
* **Dates** are day numbers (days since 1970-01-01) in float64, NULL as NaN: a comparison
  with NaN is false, as a NULL comparison in a WHERE clause. Timestamps are microseconds.
* ``QUALIFY ROW_NUMBER() … = 1`` is a stable sort and the first row of each partition
  (NULLs last, DuckDB's default); ``NOT IN`` of a set holding NULL selects nothing.
* Feed rows are resolved to persons like ``runner.feed_select``: an inner join on the
  ``person_id`` the importer stored; rows of unknown persons are left out.

``run_pandas`` returns the candidates as :data:`jiuzhu.engine.runner.CANDIDATE_SCHEMA`,
sorted like :func:`jiuzhu.engine.runner.sort_candidates`; ``run_pandas_timed`` also
returns the seconds of loading and of each rule (keys ``load`` and ``rule:<id>``, as
``RunResult.seconds``).
"""

from __future__ import annotations

import calendar
import datetime
import json
import math
import operator
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jiuzhu.engine.inputs import REGISTRY_TABLES, Sources, feed_stored_columns
from jiuzhu.engine.rules import RulePack, load_pack, resolve_values
from jiuzhu.engine.runner import CANDIDATE_SCHEMA, sort_candidates
from jiuzhu.feeds.schema import Feed, catalogue

Arr = npt.NDArray[Any]
EPOCH = datetime.date(1970, 1, 1)
ASSISTED = ("dibao", "tekun_centralised", "tekun_dispersed")
MICROS_A_DAY = 86_400_000_000

# The columns each rule reads, beyond the resolved person_id and household_id.
REGISTRY_COLUMNS: dict[str, tuple[str, ...]] = {
    "households": ("household_id", "area_type", "member_count"),
    "persons": (
        "person_id",
        "household_id",
        "birth_date",
        "disability_grade",
        "labour_capacity",
        "is_deceased",
    ),
    "illnesses": ("person_id", "household_id", "is_serious"),
    "incomes": ("household_id", "year", "annual_amount"),
    "expenditures": ("household_id", "kind", "year", "amount"),
    "enrolments": ("household_id", "category", "status", "start_date"),
}
FEED_COLUMNS: dict[str, tuple[str, ...]] = {
    "medical_settlement": ("settlement_id", "settled_on", "care_type", "icd10", "out_of_pocket"),
    "death": ("died_on",),
    "disability_registration": ("registered_on", "action", "disability_type", "grade"),
    "unemployment_registration": ("registered_on", "action"),
    "school_status": ("recorded_on", "stage", "status", "amount_owed"),
    "housing_safety": ("house_id", "rated_on", "rating"),
    "water_meter_reading": ("meter_id", "read_at", "interval", "litres"),
    "vehicle_registration": ("plate", "registered_on", "action", "kind"),
    "property_registration": ("certificate_number", "registered_on", "action", "use"),
    "business_registration": ("credit_code", "registered_on", "action", "kind"),
}


# ----------------------------------------------------------------------------------------
# Reading the inputs
# ----------------------------------------------------------------------------------------


def _arrow_type(duck_type: str) -> pa.DataType:
    if duck_type.startswith("DECIMAL("):
        precision, scale = duck_type[len("DECIMAL(") : -1].split(",")
        return pa.decimal128(int(precision), int(scale))
    return {
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "VARCHAR": pa.string(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"),
        "BOOLEAN": pa.bool_(),
    }[duck_type]


def _floats(values: pa.ChunkedArray | pa.Array) -> Arr:
    return np.asarray(
        pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )


def _pandas_column(values: pa.ChunkedArray) -> Any:
    """One Arrow column as the representation the rules compute on (module docstring)."""
    kind = values.type
    if pa.types.is_date(kind):
        return _floats(pc.cast(pc.cast(values, pa.date32()), pa.int32()))
    if pa.types.is_timestamp(kind):
        return _floats(pc.cast(pc.cast(values, pa.timestamp("us")), pa.int64()))
    if pa.types.is_decimal(kind):
        return np.rint(_floats(values) * 10.0**kind.scale)  # cents, exactly
    if pa.types.is_integer(kind):
        if values.null_count:
            return _floats(values)
        return np.asarray(values.to_numpy(), dtype=np.int64)
    if pa.types.is_boolean(kind):
        # A NULL condition selects nothing: NULL counts as false.
        return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), bool)
    return values.to_pandas()


def _frame(table: pa.Table) -> pd.DataFrame:
    return pd.DataFrame({name: _pandas_column(table[name]) for name in table.column_names})


def _read_registry(sources: Sources, table: str) -> pa.Table:
    path = sources.registry_file(table)
    if not path.exists():
        raise FileNotFoundError(f"registry snapshot lacks {path.name} ({sources.snapshot})")
    names = list(REGISTRY_COLUMNS[table])
    raw = pq.read_table(path, columns=names)
    kinds = REGISTRY_TABLES[table]
    return pa.table({n: pc.cast(raw[n], _arrow_type(kinds[n])) for n in names})


_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
# Read as dictionaries (pandas categoricals): repeated values, never sorted on.
DICTIONARY_COLUMNS = frozenset(
    {"meter_id", "interval", "care_type", "action", "kind", "status", "stage"}
)


def _read_feed_files(sources: Sources, feed: Feed, names: Sequence[str]) -> pa.Table:
    """The stored columns ``names`` of every file of a feed (missing columns are NULL, as
    DuckDB's ``union_by_name``)."""
    kinds = feed_stored_columns(feed)
    fields = []
    for name in names:
        kind = _arrow_type(kinds[name])
        fields.append((name, _DICTIONARY if name in DICTIONARY_COLUMNS else kind))
    schema = pa.schema(fields)
    parts = []
    for path in sources.files_of(feed):
        present = set(pq.read_schema(path).names)
        wanted = [n for n in names if n in present]
        raw = pq.read_table(
            path, columns=wanted, read_dictionary=[n for n in wanted if n in DICTIONARY_COLUMNS]
        )
        columns = []
        for item in schema:
            if item.name not in present:
                columns.append(pa.chunked_array([pa.nulls(raw.num_rows, item.type)], item.type))
            elif raw[item.name].type == item.type:
                columns.append(raw[item.name])
            else:
                columns.append(pc.cast(raw[item.name], item.type))
        parts.append(pa.table(columns, schema=schema))
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _positions(persons: pa.Table, table: pa.Table) -> Arr:
    """Each feed row's row in ``persons`` (-1: unknown person), as ``feed_select``'s join
    on ``person_id`` (unique in the snapshot, as the registry's primary key)."""
    usable = pc.is_valid(persons["household_id"]).to_numpy(zero_copy_only=False)
    ids = np.asarray(persons["person_id"].to_numpy(), dtype=np.int64)
    index = pd.Index(np.where(usable, ids, -1))
    wanted = np.asarray(pc.fill_null(table["person_id"], -1).to_numpy(), dtype=np.int64)
    at = np.asarray(index.get_indexer(wanted), dtype=np.int64)
    at[wanted == -1] = -1
    return at


def _resolved_frame(table: pa.Table, persons: pa.Table) -> pd.DataFrame:
    at = _positions(persons, table)
    known = at >= 0
    frame = _frame(table.drop_columns(["person_id"]).filter(pa.array(known)))
    rows = at[known]
    ids = np.asarray(persons["person_id"].to_numpy(), dtype=np.int64)
    households = np.asarray(persons["household_id"].to_numpy(zero_copy_only=False))
    frame.insert(0, "household_id", households[rows].astype(np.int64))
    frame.insert(0, "person_id", ids[rows])
    return frame


@dataclass
class Inputs:
    """The registry tables and resolved feeds the rules read, as pandas frames."""

    households: pd.DataFrame
    persons: pd.DataFrame
    illnesses: pd.DataFrame
    incomes: pd.DataFrame
    expenditures: pd.DataFrame
    enrolments: pd.DataFrame
    feeds: dict[str, pd.DataFrame] = field(default_factory=dict)


def load_inputs(sources: Sources) -> Inputs:
    """Read only the columns the twelve rules need."""
    registry = {name: _read_registry(sources, name) for name in REGISTRY_COLUMNS}
    persons_raw = registry["persons"]
    definitions = catalogue()
    tables = {
        feed_id: _read_feed_files(sources, definitions[feed_id], ["person_id", *columns])
        for feed_id, columns in FEED_COLUMNS.items()
    }
    if pc.count_distinct(persons_raw["person_id"]).as_py() != persons_raw.num_rows:
        raise ValueError("the snapshot's person_id is not unique")
    feeds = {feed_id: _resolved_frame(table, persons_raw) for feed_id, table in tables.items()}
    # NOT p.is_deceased is true only for false (NULL selects nothing).
    alive = pc.fill_null(pc.equal(persons_raw["is_deceased"], False), False)
    persons = _frame(persons_raw.drop_columns(["is_deceased"]))
    persons["alive"] = np.asarray(alive.to_numpy(zero_copy_only=False), dtype=bool)
    return Inputs(
        households=_frame(registry["households"]),
        persons=persons,
        illnesses=_frame(registry["illnesses"]),
        incomes=_frame(registry["incomes"]),
        expenditures=_frame(registry["expenditures"]),
        enrolments=_frame(registry["enrolments"]),
        feeds=feeds,
    )


# ----------------------------------------------------------------------------------------
# SQL semantics in NumPy
# ----------------------------------------------------------------------------------------


def _day(value: datetime.date) -> int:
    return (value - EPOCH).days


def _years_before(value: datetime.date, years: int) -> int:
    """``DATE - INTERVAL n YEAR`` (month arithmetic: 29 February becomes the 28th)."""
    year = value.year - years
    last = calendar.monthrange(year, value.month)[1]
    return _day(datetime.date(year, value.month, min(value.day, last)))


def _dates(days: Arr) -> Arr:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]")


def _years(days: Arr) -> Arr:
    return _dates(days).astype("datetime64[Y]").astype(np.int64) + 1970


def _iso(days: Arr) -> list[str]:
    return [str(v) for v in np.datetime_as_string(_dates(days), unit="D")]


def _duck_round(values: Arr, digits: int = 0) -> Arr:
    """DuckDB's ROUND of a double: ``std::round(x · 10^d) / 10^d`` (half away from zero)."""
    modifier = 10.0**digits
    scaled = np.asarray(values, dtype=np.float64) * modifier
    whole = np.trunc(scaled)
    away = np.abs(scaled - whole) >= 0.5
    rounded = (whole + np.where(away, np.sign(scaled), 0.0)) / modifier
    return np.where(np.isfinite(rounded), rounded, values)


def _round_cents(cents: Arr) -> Arr:
    """``CAST(ROUND(decimal) AS BIGINT)`` for an amount in cents (half away from zero)."""
    c = np.asarray(cents, dtype=np.float64)
    return (np.sign(c) * np.floor((np.abs(c) + 50.0) / 100.0)).astype(np.int64)


def _percent(line: float) -> str:
    """A monitoring line as the SQL writes it: whole tenths of a percent (3 %, 2.5 %)."""
    permille = int((Decimal(str(line)) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return f"{permille // 10}" + ("" if permille % 10 == 0 else f".{permille % 10}") + "%"


def _decimal_text(value: float) -> str:
    """``CAST(x AS VARCHAR)`` of a bound number parameter (a decimal literal)."""
    return str(Decimal(str(value)))


def _decimal_whole(value: float) -> int:
    """``CAST(ROUND(literal) AS BIGINT)`` of a bound number parameter."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<": operator.lt,
}


def _compare(cents: Arr, op: str, value: float, base_cents: Arr | None = None) -> Arr:
    """``x op value`` (``base_cents`` None) or ``x op value × base`` exactly, as DuckDB
    compares decimals; NULL (NaN) compares false."""
    ratio = Fraction(Decimal(str(value)))
    left = np.asarray(cents, dtype=np.float64)
    right = np.full(len(left), 100.0) if base_cents is None else np.asarray(base_cents, np.float64)
    valid = ~(np.isnan(left) | np.isnan(right))
    lhs = np.where(valid, left, 0.0) * ratio.denominator
    rhs = np.where(valid, right, 0.0) * ratio.numerator
    bound = max(float(np.abs(lhs).max(initial=0.0)), float(np.abs(rhs).max(initial=0.0)))
    if bound < 2.0**53:  # every product is an exact integer in float64
        result = _OPS[op](lhs, rhs)
    else:  # pragma: no cover - amounts beyond 10^13 yuan
        exact_l = [int(v) * ratio.denominator for v in np.where(valid, left, 0.0)]
        exact_r = [int(v) * ratio.numerator for v in np.where(valid, right, 0.0)]
        result = np.array([_OPS[op](a, b) for a, b in zip(exact_l, exact_r, strict=True)])
    return np.asarray(result, dtype=bool) & valid


def _not_in(values: pd.Series, subset: pd.Series) -> Any:
    """``x NOT IN (subquery)``: nothing qualifies when the subquery yields a NULL."""
    if subset.isna().any():
        return np.zeros(len(values), dtype=bool)
    return ~values.isin(subset).to_numpy()


def _first_per(
    frame: pd.DataFrame, partition: Sequence[str], order: Sequence[str], descending: bool = False
) -> pd.DataFrame:
    """``QUALIFY ROW_NUMBER() OVER (PARTITION BY … ORDER BY …) = 1`` (NULLs last)."""
    ordered = frame.sort_values(
        list(order), ascending=not descending, na_position="last", kind="stable"
    )
    return ordered.drop_duplicates(subset=list(partition), keep="first")


def _latest_income(incomes: pd.DataFrame) -> pd.DataFrame:
    """The ``income`` CTE: the sum of the household's latest income year."""
    sums = (
        incomes.groupby(["household_id", "year"], dropna=False, sort=False)["annual_amount"]
        .sum(min_count=1)
        .rename("income")
        .reset_index()
    )
    sums = sums[sums["household_id"].notna()]
    latest = _first_per(sums, ["household_id"], ["year"], descending=True)
    return latest.set_index("household_id")


def _working_age(birth: Arr, as_of: datetime.date) -> Arr:
    """18 ≤ age < 60 on ``as_of`` (``birth <= as_of - 18 y AND birth > as_of - 60 y``)."""
    return (birth <= _years_before(as_of, 18)) & (birth > _years_before(as_of, 60))


def _dependant_age(birth: Arr, as_of: datetime.date) -> Arr:
    """Under 18 or 60 and over on ``as_of``."""
    return (birth > _years_before(as_of, 18)) | (birth <= _years_before(as_of, 60))


def _per_household(households: Arr, mask: Arr, keys: pd.Index | Arr) -> Arr:
    """How many rows of ``mask`` each household of ``keys`` has."""
    counts = pd.Series(np.asarray(mask, dtype=np.int64)).groupby(households).sum()
    return np.asarray(counts.reindex(keys, fill_value=0).to_numpy(), dtype=np.int64)


def _in_households(frame: pd.DataFrame, inputs: Inputs) -> pd.DataFrame:
    """``JOIN households AS h ON h.household_id = x.household_id``."""
    return frame[frame["household_id"].isin(inputs.households["household_id"])]


def _window(frame: pd.DataFrame, column: str, start: int, end: int) -> pd.DataFrame:
    values = frame[column].to_numpy()
    return frame[(values >= start) & (values < end)]


def _json(records: dict[str, list[Any]]) -> list[str]:
    """``json_object`` as ``runner.finish`` normalises it: sorted keys, no ASCII escapes,
    NULL members left out."""
    names = list(records)
    return [
        json.dumps(
            {k: v for k, v in zip(names, row, strict=True) if v is not None},
            ensure_ascii=False,
            sort_keys=True,
        )
        for row in zip(*records.values(), strict=True)
    ]


def _nullable(values: Any, kind: Callable[[Any], Any]) -> list[Any]:
    return [None if pd.isna(v) else kind(v) for v in values]


@dataclass
class _Out:
    """One rule's candidates before they become Arrow."""

    household_id: Arr
    level: list[str]
    event_key: list[str]
    event_date: Arr  # day numbers
    evidence: list[str]
    explanation: list[str]


def _empty() -> _Out:
    return _Out(np.zeros(0, np.int64), [], [], np.zeros(0, np.int64), [], [])


Params = Mapping[str, Any]


# ----------------------------------------------------------------------------------------
# The rules (each follows its SQL file)
# ----------------------------------------------------------------------------------------


def medical_burden(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    end = _day(as_of)
    m = inputs.feeds["medical_settlement"]
    spent = _window(m, "settled_on", end - p["window_days"], end)[
        ["household_id", "settled_on", "settlement_id", "out_of_pocket"]
    ]
    grouped = _in_households(spent, inputs).groupby("household_id", sort=False)
    large = pd.DataFrame(
        {
            "total": grouped["out_of_pocket"].sum(min_count=1),
            "settlements": grouped.size(),
        }
    )
    large = large[_compare(large["total"].to_numpy(), ">=", p["min_amount"])]
    income = _latest_income(inputs.incomes)["income"]
    large["income"] = income.reindex(large.index).fillna(0.0).to_numpy()
    total = large["total"].to_numpy()
    burden = large[_compare(total, ">=", p["share"], large["income"].to_numpy())]
    if burden.empty:
        return _empty()
    running = spent[spent["household_id"].isin(burden.index)].sort_values(
        ["household_id", "settled_on", "settlement_id"], na_position="last", kind="stable"
    )
    running_total = (
        running["out_of_pocket"].fillna(0.0).groupby(running["household_id"]).cumsum().to_numpy()
    )
    line_income = burden["income"].reindex(running["household_id"]).to_numpy()
    crossed_mask = _compare(running_total, ">=", p["min_amount"]) & _compare(
        running_total, ">=", p["share"], line_income
    )
    crossed = running[crossed_mask].groupby("household_id")["settled_on"].min()
    b = burden.join(crossed.rename("crossed_on"), how="inner")
    b = b[b.index.isin(inputs.households["household_id"])]
    total, income_c = b["total"].to_numpy(), b["income"].to_numpy()
    red = _compare(total, ">=", p["red_share"], income_c)
    positive = income_c > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(positive, _duck_round((total / 100.0) / (income_c / 100.0), 2), np.nan)
        percent = np.where(positive, _duck_round(total / (income_c / 100.0)), 0.0)
    crossed_on = b["crossed_on"].to_numpy()
    years = _years(crossed_on)
    return _Out(
        household_id=b.index.to_numpy(np.int64),
        level=["red" if r else "yellow" for r in red],
        event_key=[f"medical_burden:{y}" for y in years],
        event_date=crossed_on,
        evidence=_json(
            {
                "out_of_pocket": (total / 100.0).tolist(),
                "household_income": (income_c / 100.0).tolist(),
                "share_of_income": _nullable(share, float),
                "settlements": b["settlements"].astype(np.int64).tolist(),
            }
        ),
        explanation=[
            f"近一年个人自付医疗费用 {t} 元，"
            + (f"为家庭年收入的 {int(pct)}%" if pos else "家庭无登记收入")
            for t, pos, pct in zip(_round_cents(total), positive, percent, strict=True)
        ],
    )


def serious_disease(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    end = _day(as_of)
    m = inputs.feeds["medical_settlement"]
    m = _window(
        m[(m["care_type"] == "inpatient").to_numpy()], "settled_on", end - p["window_days"], end
    )
    icd3 = m["icd10"].str.slice(0, 3)
    stays = m.assign(icd3=icd3)[icd3.isin(list(p["icd10_codes"])).to_numpy()]
    grouped = stays.groupby(["household_id", "person_id", "icd3"], sort=False)
    d = pd.DataFrame(
        {
            "first_on": grouped["settled_on"].min(),
            "stays": grouped.size(),
            "out_of_pocket": grouped["out_of_pocket"].sum(min_count=1),
            "largest": grouped["out_of_pocket"].max(),
        }
    ).reset_index()
    d = _in_households(d, inputs)
    if d.empty:
        return _empty()
    largest, oop = d["largest"].to_numpy(), d["out_of_pocket"].to_numpy()
    red = _compare(largest, ">=", p["red_amount"])
    person, code, count = d["person_id"].tolist(), d["icd3"].tolist(), d["stays"].tolist()
    return _Out(
        household_id=d["household_id"].to_numpy(np.int64),
        level=["red" if r else "yellow" for r in red],
        event_key=[f"serious_disease:{pid}:{c}" for pid, c in zip(person, code, strict=True)],
        event_date=d["first_on"].to_numpy(),
        evidence=_json(
            {
                "person_id": person,
                "icd10": code,
                "stays": count,
                "out_of_pocket": _nullable(oop / 100.0, float),
                "largest_out_of_pocket": _nullable(largest / 100.0, float),
            }
        ),
        explanation=[
            f"家庭成员因重特大疾病（{c}）住院 {n} 次，自付 {t} 元"
            for c, n, t in zip(code, count, _round_cents(oop), strict=True)
        ],
    )


def working_age_death(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    end = _day(as_of)
    d = _window(inputs.feeds["death"], "died_on", end - p["window_days"], end)
    persons = inputs.persons
    births = persons[["person_id", "birth_date"]]
    x = d[["household_id", "person_id", "died_on"]].merge(births, on="person_id", how="inner")
    # the earliest record of a person's death is the event (two departments may report it)
    x = x.sort_values(["person_id", "died_on"], kind="stable").drop_duplicates("person_id")
    if x.empty:
        return _empty()
    died, birth = x["died_on"].to_numpy(), x["birth_date"].to_numpy()
    known = ~(np.isnan(died) | np.isnan(birth))
    age = np.full(len(x), np.nan)
    if known.any():
        dd, bb = _dates(died[known]), _dates(birth[known])
        dy, by = _years(died[known]), _years(birth[known])
        d_md = (dd.astype("datetime64[M]") - dd.astype("datetime64[Y]")).astype(np.int64) * 100 + (
            dd - dd.astype("datetime64[M]")
        ).astype(np.int64)
        b_md = (bb.astype("datetime64[M]") - bb.astype("datetime64[Y]")).astype(np.int64) * 100 + (
            bb - bb.astype("datetime64[M]")
        ).astype(np.int64)
        age[known] = dy - by - (d_md < b_md)
    x["age"] = age
    # others: per deceased, the other living members under 18 or 60 and over, summed over
    # every death row of that person in the window (the SQL groups by x.person_id).
    households = x["household_id"].unique()
    members = persons[persons["household_id"].isin(households)]
    dependant = members["alive"].to_numpy() & _dependant_age(
        members["birth_date"].to_numpy(), as_of
    )
    per_household = _per_household(members["household_id"].to_numpy(), dependant, households)
    count_of = dict(zip(households.tolist(), per_household.tolist(), strict=True))
    self_dependant = pd.Series(dependant, index=members["person_id"].to_numpy())
    self_dependant = self_dependant[~self_dependant.index.duplicated()]
    own = self_dependant.reindex(x["person_id"], fill_value=False).to_numpy(dtype=bool)
    per_row = np.array([count_of[h] for h in x["household_id"].tolist()], np.int64) - own
    x["dependants"] = x.groupby("person_id")["person_id"].transform("size").to_numpy() * per_row
    x = x[(x["age"] >= p["min_age"]).to_numpy() & (x["age"] < p["max_age"]).to_numpy()]
    x = _in_households(x, inputs)
    if x.empty:
        return _empty()
    person, ages = x["person_id"].tolist(), x["age"].astype(np.int64).tolist()
    dependants = x["dependants"].astype(np.int64).tolist()
    return _Out(
        household_id=x["household_id"].to_numpy(np.int64),
        level=["red" if n > 0 else "yellow" for n in dependants],
        event_key=[f"working_age_death:{pid}" for pid in person],
        event_date=x["died_on"].to_numpy(),
        evidence=_json({"person_id": person, "age": ages, "dependants": dependants}),
        explanation=[
            f"劳动年龄家庭成员死亡（{a} 岁），家中另有未成年人或老人 {n} 人"
            for a, n in zip(ages, dependants, strict=True)
        ],
    )


def _other_workers(inputs: Inputs, frame: pd.DataFrame, as_of: datetime.date) -> Arr:
    """For each row (person_id, household_id): the household's other living members aged
    18–59 on ``as_of``."""
    persons = inputs.persons
    households = frame["household_id"].unique()
    members = persons[persons["household_id"].isin(households)]
    working = members["alive"].to_numpy() & _working_age(members["birth_date"].to_numpy(), as_of)
    per_household = pd.Series(
        _per_household(members["household_id"].to_numpy(), working, households), index=households
    )
    own = pd.Series(working, index=members["person_id"].to_numpy())
    own = own[~own.index.duplicated()]
    total = per_household.reindex(frame["household_id"]).to_numpy()
    mine = own.reindex(frame["person_id"], fill_value=False).to_numpy(dtype=np.int64)
    return np.asarray(total - mine, dtype=np.int64)


def severe_disability(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    end = _day(as_of)
    r = inputs.feeds["disability_registration"]
    r = _window(
        r[r["action"].isin(["issued", "reassessed"]).to_numpy()],
        "registered_on",
        end - p["window_days"],
        end,
    )
    grade = r["grade"].to_numpy(dtype=np.float64)
    severe = (grade <= p["severe_grade"]) | (
        (grade <= p["mental_grade"])
        & r["disability_type"].isin(["mental", "intellectual"]).to_numpy()
    )
    r = r[severe]
    previous = inputs.persons[["person_id", "disability_grade"]].rename(
        columns={"disability_grade": "previous_grade"}
    )
    n = r.merge(previous, on="person_id", how="inner")
    n = _in_households(n, inputs)
    prev = n["previous_grade"].to_numpy(dtype=np.float64)
    n = n[np.isnan(prev) | (prev > n["grade"].to_numpy(dtype=np.float64))]
    n = _first_per(n, ["person_id"], ["grade", "registered_on"])
    if n.empty:
        return _empty()
    working = _other_workers(inputs, n, as_of)
    person, grades = n["person_id"].tolist(), n["grade"].astype(np.int64).tolist()
    kinds = n["disability_type"].tolist()
    return _Out(
        household_id=n["household_id"].to_numpy(np.int64),
        level=["red" if w == 0 else "yellow" for w in working],
        event_key=[f"severe_disability:{pid}:{g}" for pid, g in zip(person, grades, strict=True)],
        event_date=n["registered_on"].to_numpy(),
        evidence=_json(
            {
                "person_id": person,
                "grade": grades,
                "disability_type": kinds,
                "previous_grade": _nullable(n["previous_grade"].to_numpy(np.float64), int),
                "working_age_members": working.tolist(),
            }
        ),
        explanation=[
            f"家庭成员新认定为{g}级残疾（{k}）" + ("，家中无其他劳动年龄成员" if w == 0 else "")
            for g, k, w in zip(grades, kinds, working, strict=True)
        ],
    )


def unemployment_dependants(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    end = _day(as_of)
    u = inputs.feeds["unemployment_registration"]
    registered = _window(
        u[(u["action"] == "registered").to_numpy()], "registered_on", end - p["window_days"], end
    )
    ended = u[(u["action"] == "ended").to_numpy() & (u["registered_on"].to_numpy() < end)]
    last_end = ended.groupby("person_id")["registered_on"].max()
    last = last_end.reindex(registered["person_id"]).to_numpy()
    # NOT EXISTS an ended record on or after the registration (and before as_of).
    open_ = registered[np.isnan(last) | (last < registered["registered_on"].to_numpy())]
    r = (
        open_.groupby(["household_id", "person_id", "registered_on"], sort=False)
        .size()
        .rename("rows")
        .reset_index()
    )
    if r.empty:
        return _empty()
    persons = inputs.persons
    households = r["household_id"].unique()
    members = persons[persons["household_id"].isin(households) & persons["alive"]]
    birth = members["birth_date"].to_numpy()
    hh = members["household_id"].to_numpy()
    living = pd.Series(_per_household(hh, np.ones(len(members), bool), households), households)
    r = r[living.reindex(r["household_id"]).to_numpy() > 0]  # JOIN persons: someone alive
    dependants_hh = pd.Series(
        _per_household(hh, _dependant_age(birth, as_of), households), households
    )
    rows = r["rows"].to_numpy()
    # the registrant is not their own dependant
    is_dependant = pd.Series(_dependant_age(birth, as_of), index=members["person_id"].to_numpy())
    is_dependant = is_dependant[~is_dependant.index.duplicated()]
    own = is_dependant.reindex(r["person_id"], fill_value=False).to_numpy(dtype=bool)
    r["dependants"] = rows * (dependants_hh.reindex(r["household_id"]).to_numpy() - own)
    r["working_age"] = rows * _other_workers(inputs, r, as_of)
    r = r[(r["dependants"] >= p["min_dependants"]).to_numpy()]
    r = _in_households(r, inputs)
    if r.empty:
        return _empty()
    person, dependants = r["person_id"].tolist(), r["dependants"].astype(np.int64).tolist()
    working = r["working_age"].astype(np.int64).tolist()
    on = r["registered_on"].to_numpy()
    return _Out(
        household_id=r["household_id"].to_numpy(np.int64),
        level=["red" if w == 0 else "yellow" for w in working],
        event_key=[
            f"unemployment_dependants:{pid}:{d}" for pid, d in zip(person, _iso(on), strict=True)
        ],
        event_date=on,
        evidence=_json(
            {"person_id": person, "dependants": dependants, "working_age_members": working}
        ),
        explanation=[
            f"家庭成员登记失业，家中有未成年人或老人 {d} 人"
            + ("，无其他劳动年龄成员" if w == 0 else "")
            for d, w in zip(dependants, working, strict=True)
        ],
    )


def _urban(area_type: pd.Series) -> Arr:
    return np.asarray((area_type == "urban").fillna(False).to_numpy(dtype=bool), dtype=bool)


def _standard(area_type: pd.Series, p: Params, factor: float | None = None) -> Arr:
    """``CASE WHEN h.area_type = 'urban' THEN :dibao_urban ELSE :dibao_rural END`` as a
    double, optionally times ``factor`` (a decimal product, then a double)."""
    scale = Decimal(1) if factor is None else Decimal(str(factor))
    urban, rural = (float(scale * Decimal(str(p[k]))) for k in ("dibao_urban", "dibao_rural"))
    return np.where(_urban(area_type), urban, rural)


def _standard_text(area_type: pd.Series, p: Params) -> list[int]:
    """``CAST(ROUND(standard) AS BIGINT)``."""
    urban, rural = (_decimal_whole(p[k]) for k in ("dibao_urban", "dibao_rural"))
    return [urban if u else rural for u in _urban(area_type)]


def _enrolment_flags(enrolments: pd.DataFrame) -> pd.DataFrame:
    active = enrolments[(enrolments["status"] == "active").to_numpy()]
    flags = pd.DataFrame(
        {
            "household_id": active["household_id"].to_numpy(),
            "assisted": active["category"].isin(ASSISTED).to_numpy(),
            "marginal": (active["category"] == "dibao_marginal").fillna(False).to_numpy(bool),
        }
    )
    return flags.groupby("household_id").max()


def income_below_standard(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    h = inputs.households
    h = h[(h["member_count"] > 0).to_numpy()]
    income = _latest_income(inputs.incomes)
    ids = h["household_id"]
    year = income["year"].reindex(ids).to_numpy(dtype=np.float64)
    year = np.where(np.isnan(year), as_of.year - 1, year).astype(np.int64)
    income_c = income["income"].reindex(ids).fillna(0.0).to_numpy()
    members = h["member_count"].to_numpy(dtype=np.float64)
    per_capita = (income_c / 100.0) / 12.0 / members
    standard = _standard(h["area_type"], p)
    flags = _enrolment_flags(inputs.enrolments)
    assisted = flags["assisted"].reindex(ids, fill_value=False).to_numpy(bool)
    marginal = flags["marginal"].reindex(ids, fill_value=False).to_numpy(bool)
    line = _standard(h["area_type"], p, p["marginal_factor"])
    yellow = per_capita < standard
    blue = ~yellow & (per_capita < line) & ~marginal
    keep = ~assisted & (yellow | blue)
    if not keep.any():
        return _empty()
    yellow, year, per_capita, standard = yellow[keep], year[keep], per_capita[keep], standard[keep]
    factor_text = _decimal_text(p["marginal_factor"])
    return _Out(
        household_id=ids.to_numpy(np.int64)[keep],
        level=["yellow" if y else "blue" for y in yellow],
        event_key=[
            f"income_below_standard:{y}:{'dibao' if low else 'marginal'}"
            for y, low in zip(year.tolist(), yellow, strict=True)
        ],
        event_date=np.array([_day(datetime.date(y, 12, 31)) for y in year.tolist()], np.int64),
        evidence=_json(
            {
                "per_capita_monthly": _duck_round(per_capita, 2).tolist(),
                "standard": standard.tolist(),
                "members": h["member_count"].to_numpy(np.int64)[keep].tolist(),
                "income_year": year.tolist(),
            }
        ),
        explanation=[
            f"家庭月人均收入 {int(pc_)} 元，"
            + ("低于低保标准 " if low else f"低于低保边缘标准（{factor_text}倍） ")
            + f"{s} 元，未纳入救助"
            for pc_, low, s in zip(
                _duck_round(per_capita),
                yellow,
                _standard_text(h["area_type"][keep], p),
                strict=True,
            )
        ],
    )


def rigid_expenditure(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    income = _latest_income(inputs.incomes)
    x = inputs.expenditures
    x = x[x["kind"].isin(["medical", "education"]).to_numpy()]
    x = x.merge(income["year"].rename("income_year").reset_index(), on="household_id", how="inner")
    x = x[(x["year"] == x["income_year"]).to_numpy()]
    rigid = x.groupby("household_id")["amount"].sum(min_count=1)
    h = inputs.households
    enrolments = inputs.enrolments
    excluded = enrolments[
        (enrolments["status"] == "active").to_numpy()
        & enrolments["category"].isin([*ASSISTED, "rigid_expenditure"]).to_numpy()
    ]["household_id"]
    h = h[
        (h["member_count"] > 0).to_numpy()
        & h["household_id"].isin(income.index).to_numpy()
        & h["household_id"].isin(rigid.index).to_numpy()
        & _not_in(h["household_id"], excluded)
    ]
    ids = h["household_id"]
    income_c = income["income"].reindex(ids).to_numpy()
    rigid_c = rigid.reindex(ids).to_numpy()
    year = income["year"].reindex(ids).to_numpy()
    members = h["member_count"].to_numpy(dtype=np.float64)
    per_capita = (income_c / 100.0) / 12.0 / members
    after = ((income_c - rigid_c) / 100.0) / 12.0 / members
    standard = _standard(h["area_type"], p)
    keep = (after < standard) & (per_capita >= standard)
    if not keep.any():
        return _empty()
    year = year[keep].astype(np.int64)
    income_c, rigid_c, after, standard = income_c[keep], rigid_c[keep], after[keep], standard[keep]
    return _Out(
        household_id=ids.to_numpy(np.int64)[keep],
        level=["yellow"] * int(keep.sum()),
        event_key=[f"rigid_expenditure:{y}" for y in year.tolist()],
        event_date=np.array([_day(datetime.date(y, 12, 31)) for y in year.tolist()], np.int64),
        evidence=_json(
            {
                "income": (income_c / 100.0).tolist(),
                "rigid_expenditure": (rigid_c / 100.0).tolist(),
                "per_capita_after": _duck_round(after, 2).tolist(),
                "standard": standard.tolist(),
                "income_year": year.tolist(),
            }
        ),
        explanation=[
            f"扣除医疗、教育刚性支出 {r} 元后，月人均 {int(a)} 元，低于低保标准 {s} 元"
            for r, a, s in zip(
                _round_cents(rigid_c),
                _duck_round(after),
                _standard_text(h["area_type"][keep], p),
                strict=True,
            )
        ],
    )


def school_hardship(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    end = _day(as_of)
    s = _in_households(inputs.feeds["school_status"], inputs)
    s = _window(s, "recorded_on", end - p["window_days"], end)
    dropped = (s["status"] == "dropped_out").fillna(False).to_numpy(bool)
    arrears = (s["status"] == "fee_arrears").fillna(False).to_numpy(bool) & _compare(
        s["amount_owed"].to_numpy(), ">=", p["min_owed"]
    )
    s = s[dropped | arrears]
    s = s.assign(year=_years(s["recorded_on"].to_numpy()) if len(s) else np.zeros(0, np.int64))
    r = _first_per(s, ["person_id", "status", "year"], ["recorded_on"])
    if r.empty:
        return _empty()
    person, status, stage = r["person_id"].tolist(), r["status"].tolist(), r["stage"].tolist()
    owed = r["amount_owed"].to_numpy()
    red = (r["status"] == "dropped_out").to_numpy(bool) & r["stage"].isin(
        ["primary", "junior"]
    ).to_numpy(bool)
    return _Out(
        household_id=r["household_id"].to_numpy(np.int64),
        level=["red" if x else "yellow" for x in red],
        event_key=[
            f"school_hardship:{pid}:{st}:{y}"
            for pid, st, y in zip(person, status, r["year"].tolist(), strict=True)
        ],
        event_date=r["recorded_on"].to_numpy(),
        evidence=_json(
            {
                "person_id": person,
                "status": status,
                "stage": _nullable(stage, str),
                "amount_owed": _nullable(owed / 100.0, float),
            }
        ),
        explanation=[
            f"学生辍学（{sg}）"
            if st == "dropped_out"
            else f"欠缴学费 {_round_cents(np.array([o]))[0]} 元"
            for st, sg, o in zip(status, stage, owed, strict=True)
        ],
    )


def _latest_ratings(frame: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """Each house's latest rating in the window (ties: the higher letter)."""
    rated = _window(frame, "rated_on", start, end)
    return _first_per(rated, ["house_id"], ["rated_on", "rating"], descending=True)


def unsafe_housing(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    end = _day(as_of)
    r = _in_households(inputs.feeds["housing_safety"], inputs)
    latest = _latest_ratings(r, end - p["window_days"], end)
    latest = latest[latest["rating"].isin(["C", "D"]).to_numpy()]
    if latest.empty:
        return _empty()
    house, rating = latest["house_id"].tolist(), latest["rating"].tolist()
    return _Out(
        household_id=latest["household_id"].to_numpy(np.int64),
        level=["red" if x == "D" else "yellow" for x in rating],
        event_key=[f"unsafe_housing:{h}:{x}" for h, x in zip(house, rating, strict=True)],
        event_date=latest["rated_on"].to_numpy(),
        evidence=_json({"house_id": house, "rating": rating}),
        explanation=[
            f"住房安全鉴定为{x}级" + ("（整体危险）" if x == "D" else "（局部危险）")
            for x in rating
        ],
    )


def water_anomaly(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    end = _day(as_of)
    persons = inputs.persons
    living = persons[
        persons["alive"].to_numpy()
        & persons["household_id"].isin(inputs.households["household_id"]).to_numpy()
    ]
    by_household = living.groupby("household_id")["birth_date"]
    count, youngest = by_household.size(), by_household.max()
    threshold = _years_before(as_of, int(p["elder_age"]))
    alone = count.index[(count.to_numpy() == 1) & (youngest.to_numpy() <= threshold)]
    w = inputs.feeds["water_meter_reading"]
    at = w["read_at"].to_numpy()
    start_us = float(end - p["lookback_days"]) * MICROS_A_DAY
    w = w[(at >= start_us) & (at < float(end) * MICROS_A_DAY)]
    w = w[w["household_id"].isin(alone).to_numpy()]
    if w.empty:
        return _empty()
    interval = w["interval"]
    days = pd.DataFrame(
        {
            "household_id": w["household_id"].to_numpy(),
            "meter_id": w["meter_id"].array,
            "day": np.floor(w["read_at"].to_numpy() / MICROS_A_DAY),
            "litres": w["litres"].to_numpy(),
            "valued": interval.notna().to_numpy(),
            "daily": (interval == "day").fillna(False).to_numpy(bool),
            "hourly": (interval == "hour").fillna(False).to_numpy(bool),
        }
    )
    g = days.groupby(["household_id", "meter_id", "day"], sort=False, dropna=False)
    d = pd.DataFrame(
        {
            "litres": g["litres"].sum(min_count=1),
            "readings": g.size(),
            "valued": g["valued"].sum(),
            "daily": g["daily"].sum(),
            "hourly": g["hourly"].sum(),
        }
    ).reset_index()
    readings, valued = d["readings"].to_numpy(), d["valued"].to_numpy()
    complete = (valued > 0) & (
        ((d["daily"].to_numpy() == valued) & (readings == 1))
        | ((d["hourly"].to_numpy() == valued) & (readings == 24))
    )
    litres = d["litres"].to_numpy()
    low = _compare(litres, "<", p["low_litres"])
    high = _compare(litres, ">", p["high_litres"])
    d["kind"] = np.where(low, "low", "high")
    u = d[complete & (low | high)]
    u = _in_households(u, inputs)
    if u.empty:
        return _empty()
    u = u.sort_values(["meter_id", "kind", "day"], kind="stable")
    row_number = u.groupby(["meter_id", "kind"], sort=False, dropna=False).cumcount() + 1
    u = u.assign(island=u["day"].to_numpy() - row_number.to_numpy())
    g2 = u.groupby(["household_id", "meter_id", "kind", "island"], sort=False, dropna=False)
    e = pd.DataFrame(
        {
            "first_day": g2["day"].min(),
            "last_day": g2["day"].max(),
            "days": g2.size(),
            "litres_min": g2["litres"].min(),
            "litres_max": g2["litres"].max(),
        }
    ).reset_index()
    meter, kind, n = e["meter_id"].tolist(), e["kind"].tolist(), e["days"].tolist()
    first, last = e["first_day"].to_numpy(), e["last_day"].to_numpy()
    first_iso = _iso(first)
    lo, hi = e["litres_min"].to_numpy(), e["litres_max"].to_numpy()
    return _Out(
        household_id=e["household_id"].to_numpy(np.int64),
        level=["red" if k == "low" else "yellow" for k in kind],
        event_key=[
            f"water_anomaly:{m}:{k}:{f}" for m, k, f in zip(meter, kind, first_iso, strict=True)
        ],
        event_date=first,
        evidence=_json(
            {
                "meter_id": meter,
                "kind": kind,
                "days": n,
                "first_day": first_iso,
                "last_day": _iso(last),
                "litres_min": (lo / 100.0).tolist(),
                "litres_max": (hi / 100.0).tolist(),
            }
        ),
        explanation=[
            f"独居老人{c}天用水"
            + (f"过低（最低 {a} 升/日）" if k == "low" else f"过高（最高 {b} 升/日）")
            for c, k, a, b in zip(n, kind, _round_cents(lo), _round_cents(hi), strict=True)
        ],
    )


_ASSET_WORDS = {"vehicle": "机动车", "property": "房产"}


def enrolled_new_assets(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    end = _day(as_of)
    en = inputs.enrolments
    active = en[
        (en["status"] == "active").to_numpy()
        & en["category"].isin([*ASSISTED, "dibao_marginal"]).to_numpy()
    ]
    since = active.groupby("household_id")["start_date"].min()
    v = inputs.feeds["vehicle_registration"]
    v = v[
        v["action"].isin(["registered", "transferred_in"]).to_numpy()
        & v["kind"].isin(list(p["vehicle_kinds"])).to_numpy()
    ]
    pr = inputs.feeds["property_registration"]
    pr = pr[(pr["action"] == "acquired").fillna(False).to_numpy(bool)]
    b = inputs.feeds["business_registration"]
    b = b[
        (b["action"] == "registered").fillna(False).to_numpy(bool)
        & b["kind"].isin(list(p["business_kinds"])).to_numpy()
    ]

    def part(frame: pd.DataFrame, asset: str, asset_id: str, detail: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "household_id": frame["household_id"].to_numpy(),
                "person_id": frame["person_id"].to_numpy(),
                "on_date": frame["registered_on"].to_numpy(),
                "asset": asset,
                "asset_id": frame[asset_id].to_numpy(),
                "detail": frame[detail].to_numpy(),
            }
        )

    a = pd.concat(
        [
            part(v, "vehicle", "plate", "kind"),
            part(pr, "property", "certificate_number", "use"),
            part(b, "business", "credit_code", "kind"),
        ],
        ignore_index=True,
    )
    a = a[a["household_id"].isin(since.index).to_numpy()]
    a = _in_households(a, inputs)
    a = a.assign(since=since.reindex(a["household_id"]).to_numpy())
    on = a["on_date"].to_numpy()
    a = a[(on > a["since"].to_numpy()) & (on >= end - p["window_days"]) & (on < end)]
    hits = _first_per(a, ["household_id", "asset", "asset_id"], ["on_date", "person_id"])
    if hits.empty:
        return _empty()
    asset, asset_id = hits["asset"].tolist(), hits["asset_id"].tolist()
    detail = hits["detail"].tolist()
    return _Out(
        household_id=hits["household_id"].to_numpy(np.int64),
        level=["yellow"] * len(hits),
        event_key=[f"enrolled_new_assets:{x}:{i}" for x, i in zip(asset, asset_id, strict=True)],
        event_date=hits["on_date"].to_numpy(),
        evidence=_json(
            {
                "person_id": hits["person_id"].tolist(),
                "asset": asset,
                "asset_id": asset_id,
                "detail": detail,
                "enrolled_since": _iso(hits["since"].to_numpy()),
            }
        ),
        explanation=[
            f"在保家庭成员纳入救助后新增{_ASSET_WORDS.get(x, '市场主体')}（{t}），需复核"
            for x, t in zip(asset, detail, strict=True)
        ],
    )


def hardship_score(inputs: Inputs, p: Params, as_of: datetime.date) -> _Out:
    end = _day(as_of)
    start = end - p["window_days"]
    income = _latest_income(inputs.incomes)["income"]
    persons = inputs.persons
    living = persons[persons["alive"].to_numpy()]
    birth = living["birth_date"].to_numpy()
    grade = living["disability_grade"].to_numpy(dtype=np.float64)
    members = (
        pd.DataFrame(
            {
                "household_id": living["household_id"].to_numpy(),
                "workers": (
                    (living["labour_capacity"] == "full").fillna(False).to_numpy(bool)
                    & _working_age(birth, as_of)
                ),
                "severe": grade <= 2,
                "dependants": _dependant_age(birth, as_of),
            }
        )
        .groupby("household_id")
        .sum()
    )
    ill = inputs.illnesses
    ill = ill[ill["is_serious"].to_numpy()]
    ill = ill[ill["person_id"].isin(living["person_id"]).to_numpy()]
    seriously_ill = ill.groupby("household_id")["person_id"].nunique()
    m = inputs.feeds["medical_settlement"]
    m = _window(m, "settled_on", start, end)
    medical = m.groupby("household_id")["out_of_pocket"].sum(min_count=1)
    latest = _latest_ratings(inputs.feeds["housing_safety"], start, end)
    unsafe = (
        pd.Series(latest["rating"].isin(["C", "D"]).to_numpy(), index=latest["household_id"])
        .groupby(level=0)
        .max()
    )
    en = inputs.enrolments
    enrolled = en[(en["status"] == "active").to_numpy()]["household_id"]
    h = inputs.households
    h = h[(h["member_count"] > 0).to_numpy() & h["household_id"].isin(members.index).to_numpy()]
    ids = h["household_id"]
    count = h["member_count"].to_numpy(dtype=np.float64)
    income_c = income.reindex(ids).fillna(0.0).to_numpy()
    mem = members.reindex(ids)
    standard = _standard(h["area_type"], p)
    income_term = 2.0 * np.maximum(0.0, 2.0 - (income_c / 100.0) / 12.0 / count / standard)
    no_worker_term = np.where(mem["workers"].to_numpy() == 0, 1.5, 0.0)
    disability_term = np.minimum(mem["severe"].to_numpy(np.int64), 2) * 8 / 10.0
    ill_count = seriously_ill.reindex(ids).fillna(0).to_numpy(np.int64)
    illness_term = np.minimum(ill_count, 2) * 8 / 10.0
    dependants_term = mem["dependants"].to_numpy(np.float64) / count
    oop_c = medical.reindex(ids).fillna(0.0).to_numpy()
    medical_term = np.minimum((oop_c / 100.0) / (np.maximum(income_c, 100.0) / 100.0), 2.0)
    housing_term = np.where(unsafe.reindex(ids, fill_value=False).to_numpy(bool), 1.0, 0.0)
    score = _duck_round(
        income_term
        + no_worker_term
        + disability_term
        + illness_term
        + dependants_term
        + medical_term
        + housing_term,
        6,
    )
    hid = ids.to_numpy(np.int64)
    order = np.lexsort((hid, -score))
    rank = np.empty(len(hid), np.int64)
    rank[order] = np.arange(1, len(hid) + 1)
    ranked = len(hid)
    yellow_line = math.ceil(Decimal(str(p["low_income_line"])) * ranked)
    blue_line = math.ceil(Decimal(str(p["difficulty_line"])) * ranked)
    level = np.where(rank <= yellow_line, "yellow", np.where(rank <= blue_line, "blue", ""))
    keep = (level != "") & _not_in(ids, enrolled)
    if not keep.any():
        return _empty()
    cents = _duck_round(score[keep] * 100).astype(np.int64)
    levels = level[keep].tolist()
    ranks = rank[keep].tolist()
    year = as_of.year
    line_text = {"yellow": _percent(p["low_income_line"]), "blue": _percent(p["difficulty_line"])}
    return _Out(
        household_id=hid[keep],
        level=levels,
        event_key=[
            f"hardship_score:{'low_income' if x == 'yellow' else 'difficulty'}:{year}"
            for x in levels
        ],
        event_date=np.full(int(keep.sum()), end, np.int64),
        evidence=_json(
            {
                "score": _duck_round(score[keep], 3).tolist(),
                "rank": ranks,
                "ranked_households": [ranked] * len(ranks),
                "income_term": _duck_round(income_term[keep], 3).tolist(),
                "no_worker_term": no_worker_term[keep].tolist(),
                "disability_term": _duck_round(disability_term[keep], 3).tolist(),
                "illness_term": _duck_round(illness_term[keep], 3).tolist(),
                "dependants_term": _duck_round(dependants_term[keep], 3).tolist(),
                "medical_term": _duck_round(medical_term[keep], 3).tolist(),
                "housing_term": housing_term[keep].tolist(),
            }
        ),
        explanation=[
            f"困难指数 {c // 100}.{c % 100:02d}，全县排名第 {r} 位，位于"
            + ("低收入监测线" if x == "yellow" else "相对困难监测线")
            + f"（最困难{line_text[x]}）"
            + "内，未纳入任何救助"
            for c, r, x in zip(cents.tolist(), ranks, levels, strict=True)
        ],
    )


RuleFn = Callable[[Inputs, Params, datetime.date], _Out]
RULES: dict[str, RuleFn] = {
    "enrolled_new_assets": enrolled_new_assets,
    "hardship_score": hardship_score,
    "income_below_standard": income_below_standard,
    "medical_burden": medical_burden,
    "rigid_expenditure": rigid_expenditure,
    "school_hardship": school_hardship,
    "serious_disease": serious_disease,
    "severe_disability": severe_disability,
    "unemployment_dependants": unemployment_dependants,
    "unsafe_housing": unsafe_housing,
    "water_anomaly": water_anomaly,
    "working_age_death": working_age_death,
}


# ----------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------


def _table(rule_id: str, version: int, out: _Out) -> pa.Table:
    n = len(out.household_id)
    days = np.asarray(out.event_date, dtype=np.float64)
    return pa.table(
        {
            "household_id": pa.array(np.asarray(out.household_id, np.int64), pa.int64()),
            "rule_id": pa.array([rule_id] * n, pa.string()),
            "rule_version": pa.array(np.full(n, version, np.int32), pa.int32()),
            "level": pa.array(out.level, pa.string()),
            "event_key": pa.array(out.event_key, pa.string()),
            "event_date": pc.cast(pa.array(days.astype(np.int32), pa.int32()), pa.date32()),
            "evidence": pa.array(out.evidence, pa.string()),
            "explanation": pa.array(out.explanation, pa.string()),
        },
        schema=CANDIDATE_SCHEMA,
    )


def run_pandas_timed(
    sources: Sources,
    *,
    as_of: datetime.date,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    pack: RulePack | None = None,
) -> tuple[pa.Table, dict[str, float]]:
    """The default pack's candidates and the seconds of ``load`` and of each ``rule:<id>``.

    ``params`` overlays the pack's defaults per rule (``{"medical_burden": {"share":
    0.4}}``), coerced like the runner's ``values``; ``days`` parameters are whole days.
    """
    pack = pack or load_pack()
    params = params or {}
    unknown = set(params) - set(RULES)
    if unknown:
        raise KeyError(f"no pandas implementation of {sorted(unknown)}")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    inputs = load_inputs(sources)
    seconds["load"] = time.perf_counter() - clock
    parts = []
    for rule in pack.rules:
        implementation = RULES.get(rule.id)
        if implementation is None:
            raise KeyError(f"no pandas implementation of rule {rule.id!r}")
        values = resolve_values(rule, params.get(rule.id))
        clock = time.perf_counter()
        out = implementation(inputs, values, as_of)
        parts.append(_table(rule.id, rule.version, out))
        seconds[f"rule:{rule.id}"] = time.perf_counter() - clock
    candidates = pa.concat_tables(parts) if parts else CANDIDATE_SCHEMA.empty_table()
    return sort_candidates(candidates), seconds


def run_pandas(
    sources: Sources,
    *,
    as_of: datetime.date,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> pa.Table:
    """The default pack's candidate warnings, computed with pandas (``CANDIDATE_SCHEMA``)."""
    return run_pandas_timed(sources, as_of=as_of, params=params)[0]
