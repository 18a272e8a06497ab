"""The household economic check (家庭经济状况核对): figures, tests and the report.

Pure computation over what :mod:`jiuzhu.applications.services` gathers from the registry
and the department feeds, so every rule here is tested on plain values. The report lists
every source and figure, every standard with the row it came from, each kind's tests with
the figure and the limit that decided, and where the declaration and the data disagree.

How figures are found (docs/applications.md says the same for staff):

- **members**: living members of the household;
- **income**: the registry's incomes of the latest year up to the check's year; a
  member's wages are the larger of the registry's and twelve months of the employee
  pension contribution base (社保缴费基数) before the check — the department's figure
  wins when it is higher;
- **deposits**: the larger of the declaration and the registry (banks are not a feed);
- **vehicles**: held now by the feed's registrations (registered / transferred in minus
  transferred out / scrapped, per plate), motorcycles, tricycles and tractors exempt as
  means of livelihood; or the registry's value if higher;
- **homes**: residential properties held now (acquired minus removed, per certificate);
- **businesses**: businesses registered and not closed, with their registered capital;
- **rigid expenditure**: the registry's medical and education spending of the income year.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
EXEMPT_VEHICLES = frozenset({"motorcycle", "tricycle", "tractor"})
# A declared amount is "different" beyond this share of the found one, or 100 yuan.
TOLERANCE_SHARE = Decimal("0.05")
TOLERANCE_YUAN = Decimal(100)


def money(value: Decimal | int | float | str) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _text(value: Decimal) -> str:
    return str(money(value))


@dataclass(frozen=True)
class Member:
    person_id: int
    name_masked: str
    age: int
    labour_capacity: str
    disability_grade: int | None


@dataclass
class Found:
    """Everything the check reads about one household."""

    members: list[Member]
    incomes: list[dict[str, Any]]  # person_id, kind, year, amount
    assets: list[dict[str, Any]]  # kind, value, quantity
    expenditures: list[dict[str, Any]]  # kind, year, amount
    contributions: list[dict[str, Any]] = field(default_factory=list)
    vehicles: list[dict[str, Any]] = field(default_factory=list)
    properties: list[dict[str, Any]] = field(default_factory=list)
    businesses: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class KindToTest:
    code: str
    name_zh: str
    income_test: str  # dibao | marginal | rigid | none


@dataclass
class Report:
    members: int
    annual_income: Decimal
    per_capita_monthly_income: Decimal
    data: dict[str, Any]


def _held(
    records: Iterable[Mapping[str, Any]], key: str, adds: set[str], removes: set[str]
) -> list[Mapping[str, Any]]:
    """The last event per key decides whether it is held now (records oldest first)."""
    latest: dict[str, Mapping[str, Any]] = {}
    for record in records:
        latest[str(record[key])] = record
    return [r for r in latest.values() if r["action"] in adds and r["action"] not in removes]


def _different(declared: Decimal, found: Decimal) -> bool:
    allowed = max(TOLERANCE_YUAN, abs(found) * TOLERANCE_SHARE)
    return abs(declared - found) > allowed


def compute(
    found: Found,
    *,
    declared: Mapping[tuple[str, str], Decimal],
    standards: Mapping[str, Any],
    kinds: Sequence[KindToTest],
    as_of: datetime.date,
) -> Report:
    """The figures, tests and discrepancies of one check. ``standards`` maps a standard's
    name to an object with ``value`` and ``as_json()`` (selectors.StandardInForce)."""
    sources: list[dict[str, Any]] = []
    members = max(1, len(found.members))

    # --- income -------------------------------------------------------------------
    years = [int(i["year"]) for i in found.incomes if int(i["year"]) <= as_of.year]
    income_year = max(years, default=as_of.year - 1)
    by_kind: dict[str, Decimal] = {}
    registry_wages: dict[int | None, Decimal] = {}
    for income in found.incomes:
        if int(income["year"]) != income_year:
            continue
        amount = Decimal(str(income["amount"]))
        sources.append(
            {
                "source": "registry.income",
                "kind": income["kind"],
                "year": income_year,
                "person_id": income.get("person_id"),
                "amount": _text(amount),
            }
        )
        if income["kind"] == "wages":
            person = income.get("person_id")
            registry_wages[person] = registry_wages.get(person, Decimal(0)) + amount
        else:
            by_kind[income["kind"]] = by_kind.get(income["kind"], Decimal(0)) + amount
    since = as_of.replace(year=as_of.year - 1)
    insured_wages: dict[int, Decimal] = {}
    months: dict[int, set[datetime.date]] = {}
    for record in found.contributions:
        period = record["period"]
        if record.get("scheme") != "employee_pension" or not (since <= period < as_of):
            continue
        person = int(record["person_id"])
        if period in months.setdefault(person, set()):
            continue  # the same month twice (two employers): counted once
        months[person].add(period)
        base = Decimal(str(record.get("wage_base") or 0))
        insured_wages[person] = insured_wages.get(person, Decimal(0)) + base
    for person, amount in sorted(insured_wages.items()):
        sources.append(
            {
                "source": "feed.social_insurance_contribution",
                "person_id": person,
                "months": len(months[person]),
                "amount": _text(amount),
            }
        )
    wages = Decimal(0)
    for person in set(registry_wages) | set(insured_wages):
        registry = registry_wages.get(person, Decimal(0))
        insured = insured_wages.get(person, Decimal(0)) if person is not None else Decimal(0)
        wages += max(registry, insured)
    if wages:
        by_kind["wages"] = wages
    annual_income = money(sum(by_kind.values(), Decimal(0)))
    per_capita = money(annual_income / 12 / members)

    # --- assets ---------------------------------------------------------------------
    registry_assets: dict[str, Decimal] = {}
    registry_homes = Decimal(0)
    for asset in found.assets:
        value = Decimal(str(asset["value"]))
        registry_assets[asset["kind"]] = registry_assets.get(asset["kind"], Decimal(0)) + value
        if asset["kind"] == "housing":
            # one row, one home: the quantity of a housing asset is its floor area (m²)
            registry_homes += 1
        sources.append({"source": "registry.asset", "kind": asset["kind"], "value": _text(value)})
    declared_deposits = declared.get(("deposits", ""))
    deposits = max(registry_assets.get("deposit", Decimal(0)), declared_deposits or Decimal(0))
    vehicles = _held(
        found.vehicles, "plate", {"registered", "transferred_in"}, {"transferred_out", "scrapped"}
    )
    counted_vehicles = [v for v in vehicles if v.get("kind") not in EXEMPT_VEHICLES]
    vehicle_value = sum((Decimal(str(v.get("price") or 0)) for v in counted_vehicles), Decimal(0))
    vehicle_value = max(vehicle_value, registry_assets.get("vehicle", Decimal(0)))
    for v in vehicles:
        sources.append(
            {
                "source": "feed.vehicle_registration",
                "kind": v.get("kind"),
                "registered_on": str(v.get("registered_on")),
                "price": _text(Decimal(str(v.get("price") or 0))),
                "exempt": v.get("kind") in EXEMPT_VEHICLES,
            }
        )
    homes_held = [
        p
        for p in _held(found.properties, "certificate_number", {"acquired"}, {"removed"})
        if p.get("use") == "residential"
    ]
    for p in homes_held:
        sources.append(
            {
                "source": "feed.property_registration",
                "use": p.get("use"),
                "area_m2": str(p.get("area_m2")),
                "registered_on": str(p.get("registered_on")),
            }
        )
    homes = max(Decimal(len(homes_held)), registry_homes)
    businesses = _held(found.businesses, "credit_code", {"registered"}, {"closed"})
    capital = sum((Decimal(str(b.get("capital") or 0)) for b in businesses), Decimal(0))
    for b in businesses:
        sources.append(
            {
                "source": "feed.business_registration",
                "kind": b.get("kind"),
                "capital": _text(Decimal(str(b.get("capital") or 0))),
                "registered_on": str(b.get("registered_on")),
            }
        )
    rigid = sum(
        (
            Decimal(str(x["amount"]))
            for x in found.expenditures
            if int(x["year"]) == income_year and x["kind"] in ("medical", "education")
        ),
        Decimal(0),
    )

    figures = {
        "members": members,
        "income_year": income_year,
        "income_by_kind": {k: _text(v) for k, v in sorted(by_kind.items())},
        "annual_income": _text(annual_income),
        "per_capita_monthly_income": _text(per_capita),
        "deposits": _text(deposits),
        "deposits_per_capita": _text(deposits / members),
        "vehicles": {"held": len(vehicles), "counted": len(counted_vehicles)},
        "vehicle_value": _text(vehicle_value),
        "homes": int(homes),
        "businesses": len(businesses),
        "business_capital": _text(capital),
        "rigid_expenditure": _text(rigid),
    }

    # --- tests per kind ---------------------------------------------------------------
    def standard(name: str) -> Decimal:
        return Decimal(str(standards[name].value))

    def assets_within() -> list[dict[str, Any]]:
        deposit_limit = standard("deposit_months") * standard("dibao_monthly")
        return [
            _test("deposits_per_capita", money(deposits / members), deposit_limit, "<="),
            _test("vehicle_value", money(vehicle_value), standard("vehicle_limit"), "<="),
            _test("homes", homes, standard("housing_limit"), "<="),
            _test("business_capital", money(capital), standard("business_limit"), "<="),
        ]

    verdicts: dict[str, Any] = {}
    for kind in kinds:
        tests: list[dict[str, Any]]
        if kind.income_test == "dibao":
            tests = [_test("per_capita_income", per_capita, standard("dibao_monthly"), "<")]
            tests += assets_within()
        elif kind.income_test == "marginal":
            line = money(standard("marginal_factor") * standard("dibao_monthly"))
            tests = [_test("per_capita_income", per_capita, line, "<")]
            tests += assets_within()
        elif kind.income_test == "rigid":
            yearly = money(annual_income / members)
            # exact, not rounded: 14 999 / 30 000 must not round up to a 0.5 share
            share = Decimal(1) if annual_income <= 0 and rigid > 0 else Decimal(0)
            if annual_income > 0:
                share = rigid / annual_income
            tests = [_test("per_capita_income_year", yearly, standard("disposable_income"), "<")]
            tests += assets_within()
            tests.append(_test("rigid_share", share, standard("rigid_share"), ">="))
        else:
            verdicts[kind.code] = {"name": kind.name_zh, "eligible": None, "tests": []}
            continue
        verdicts[kind.code] = {
            "name": kind.name_zh,
            "eligible": all(t["passed"] for t in tests),
            "tests": tests,
        }

    # --- declared against found -----------------------------------------------------
    discrepancies: list[dict[str, Any]] = []
    declared_income = {d: a for (item, d), a in declared.items() if item == "income"}
    if declared_income:
        total = sum(declared_income.values(), Decimal(0))
        if _different(total, annual_income):
            discrepancies.append(
                {"item": "income", "declared": _text(total), "found": _text(annual_income)}
            )
        # every kind declared or found: undeclared wages are a discrepancy too
        for detail in sorted((set(declared_income) | set(by_kind)) - {""}):
            amount = declared_income.get(detail, Decimal(0))
            found_amount = by_kind.get(detail, Decimal(0))
            if _different(amount, found_amount):
                discrepancies.append(
                    {
                        "item": f"income:{detail}",
                        "declared": _text(amount),
                        "found": _text(found_amount),
                    }
                )
    registry_deposits = registry_assets.get("deposit")
    if (
        declared_deposits is not None
        and registry_deposits is not None
        and _different(declared_deposits, registry_deposits)
    ):
        discrepancies.append(
            {
                "item": "deposits",
                "declared": _text(declared_deposits),
                "found": _text(registry_deposits),
            }
        )
    for item, count in (
        ("vehicles", len(counted_vehicles)),
        ("homes", int(homes)),
        ("businesses", len(businesses)),
    ):
        stated = declared.get((item, ""))
        if stated is not None and int(stated) != count:
            discrepancies.append({"item": item, "declared": int(stated), "found": count})

    return Report(
        members=members,
        annual_income=annual_income,
        per_capita_monthly_income=per_capita,
        data={
            "as_of": as_of.isoformat(),
            "members": [
                {"person_id": m.person_id, "name": m.name_masked, "age": m.age}
                for m in found.members
            ],
            "sources": sources,
            "figures": figures,
            "standards": {name: s.as_json() for name, s in sorted(standards.items())},
            "verdicts": verdicts,
            "discrepancies": discrepancies,
        },
    )


def _test(name: str, figure: Decimal, limit: Decimal, op: str) -> dict[str, Any]:
    passed = {
        "<": figure < limit,
        "<=": figure <= limit,
        ">=": figure >= limit,
    }[op]
    return {
        "test": name,
        "figure": plain(figure),
        "op": op,
        "limit": plain(limit),
        "passed": passed,
    }


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 600, 0.05, 1234.5."""
    return format(Decimal(value).normalize(), "f")
