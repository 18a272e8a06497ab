"""The economic check's figures and tests on plain values (no database)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from jiuzhu.applications.check import Found, KindToTest, Member, compute

AS_OF = datetime.date(2026, 6, 1)


@dataclass
class _Standard:
    value: Decimal

    def as_json(self) -> dict[str, Any]:
        return {"value": str(self.value)}


STANDARDS = {
    "dibao_monthly": _Standard(Decimal(616)),
    "marginal_factor": _Standard(Decimal("1.5")),
    "disposable_income": _Standard(Decimal(23119)),
    "rigid_share": _Standard(Decimal("0.5")),
    "deposit_months": _Standard(Decimal(24)),
    "vehicle_limit": _Standard(Decimal(0)),
    "business_limit": _Standard(Decimal(50000)),
    "housing_limit": _Standard(Decimal(1)),
}
DIBAO = KindToTest("dibao", "最低生活保障", "dibao")
MARGINAL = KindToTest("dibao_marginal", "低保边缘家庭", "marginal")
RIGID = KindToTest("rigid_expenditure", "刚性支出困难家庭", "rigid")
TEMPORARY = KindToTest("temporary", "临时救助", "none")


def _members(n: int) -> list[Member]:
    return [Member(i, f"王*{i}", 40, "full", None) for i in range(1, n + 1)]


def _found(yearly_income: str, members: int = 2, **extra: Any) -> Found:
    return Found(
        members=_members(members),
        incomes=[{"person_id": 1, "kind": "agriculture", "year": 2025, "amount": yearly_income}],
        assets=extra.pop("assets", []),
        expenditures=extra.pop("expenditures", []),
        **extra,
    )


def _run(found: Found, *kinds: KindToTest, declared: Any = None) -> dict[str, Any]:
    report = compute(found, declared=declared or {}, standards=STANDARDS, kinds=kinds, as_of=AS_OF)
    return report.data


@pytest.mark.parametrize(
    ("yearly", "eligible"),
    [
        ("14783.76", True),  # 615.99 a person a month
        ("14784.00", False),  # exactly 616: the standard itself is not below it
        ("14784.24", False),
    ],
)
def test_dibao_income_line_is_strictly_below_the_standard(yearly: str, eligible: bool) -> None:
    data = _run(_found(yearly), DIBAO)
    assert data["verdicts"]["dibao"]["eligible"] is eligible
    income = data["verdicts"]["dibao"]["tests"][0]
    assert income["test"] == "per_capita_income" and income["limit"] == "616"


def test_marginal_line_is_one_and_a_half_times_the_standard() -> None:
    # 924 a month per person is the line; 923.99 passes, and 低保 fails at that income
    data = _run(_found("22175.76"), DIBAO, MARGINAL)
    assert data["verdicts"]["dibao"]["eligible"] is False
    assert data["verdicts"]["dibao_marginal"]["eligible"] is True
    assert data["verdicts"]["dibao_marginal"]["tests"][0]["limit"] == "924"
    assert _run(_found("22176.00"), MARGINAL)["verdicts"]["dibao_marginal"]["eligible"] is False


def test_wages_from_social_insurance_win_when_higher_than_the_registry() -> None:
    contributions = [
        {
            "person_id": 2,
            "period": datetime.date(2025, m, 1),
            "scheme": "employee_pension",
            "wage_base": Decimal(2000),
        }
        for m in range(6, 13)
    ] + [
        # outside the twelve months before the check, another scheme, the same month twice
        {
            "person_id": 2,
            "period": datetime.date(2025, 5, 1),
            "scheme": "employee_pension",
            "wage_base": Decimal(9999),
        },
        {
            "person_id": 2,
            "period": datetime.date(2025, 7, 1),
            "scheme": "unemployment",
            "wage_base": Decimal(9999),
        },
        {
            "person_id": 2,
            "period": datetime.date(2025, 7, 1),
            "scheme": "employee_pension",
            "wage_base": Decimal(9999),
        },
    ]
    found = _found("6000", contributions=contributions)
    found.incomes.append({"person_id": 2, "kind": "wages", "year": 2025, "amount": "3000"})
    data = _run(found, DIBAO, declared={("income", "wages"): Decimal(3000)})
    # seven months × 2 000, not the registry's 3 000
    assert data["figures"]["income_by_kind"]["wages"] == "14000.00"
    assert data["figures"]["annual_income"] == "20000.00"
    assert data["discrepancies"] == [
        {"item": "income", "declared": "3000.00", "found": "20000.00"},
        {"item": "income:agriculture", "declared": "0.00", "found": "6000.00"},
        {"item": "income:wages", "declared": "3000.00", "found": "14000.00"},
    ]


def test_a_car_held_fails_the_asset_test_but_a_motorcycle_does_not() -> None:
    vehicles = [
        {
            "plate": "赣A1",
            "registered_on": datetime.date(2023, 1, 5),
            "action": "registered",
            "kind": "car",
            "price": Decimal(80000),
        },
        {
            "plate": "赣A1",
            "registered_on": datetime.date(2025, 3, 5),
            "action": "scrapped",
            "kind": "car",
            "price": None,
        },
        {
            "plate": "赣A2",
            "registered_on": datetime.date(2024, 1, 5),
            "action": "registered",
            "kind": "motorcycle",
            "price": Decimal(6000),
        },
    ]
    data = _run(_found("6000", vehicles=vehicles), DIBAO, declared={("vehicles", ""): Decimal(0)})
    assert data["verdicts"]["dibao"]["eligible"] is True  # the car was scrapped
    vehicles.append(
        {
            "plate": "赣A3",
            "registered_on": datetime.date(2026, 2, 1),
            "action": "transferred_in",
            "kind": "car",
            "price": Decimal(35000),
        }
    )
    data = _run(_found("6000", vehicles=vehicles), DIBAO, declared={("vehicles", ""): Decimal(0)})
    failed = [t for t in data["verdicts"]["dibao"]["tests"] if not t["passed"]]
    assert [t["test"] for t in failed] == ["vehicle_value"]
    assert failed[0]["figure"] == "35000"
    assert {"item": "vehicles", "declared": 0, "found": 1} in data["discrepancies"]


def test_deposits_per_capita_limit_is_months_of_the_standard() -> None:
    limit = 24 * 616 * 2  # two members
    ok = _run(_found("6000"), DIBAO, declared={("deposits", ""): Decimal(limit)})
    assert ok["verdicts"]["dibao"]["eligible"] is True
    over = _run(_found("6000"), DIBAO, declared={("deposits", ""): Decimal(limit + 2)})
    assert over["verdicts"]["dibao"]["eligible"] is False


def test_rigid_expenditure_needs_income_below_disposable_income_and_the_share() -> None:
    spending = [{"kind": "medical", "year": 2025, "amount": "15000"}]
    data = _run(_found("30000", expenditures=spending), RIGID)
    # 15 000 / 30 000 = 0.5 reaches the share; 15 000 a person a year < 23 119
    assert data["verdicts"]["rigid_expenditure"]["eligible"] is True
    less = [{"kind": "medical", "year": 2025, "amount": "14999"}]
    assert (
        _run(_found("30000", expenditures=less), RIGID)["verdicts"]["rigid_expenditure"]["eligible"]
        is False
    )


def test_kinds_without_an_economic_test_are_recorded_as_such() -> None:
    data = _run(_found("90000"), TEMPORARY)
    assert data["verdicts"]["temporary"] == {"name": "临时救助", "eligible": None, "tests": []}


def test_a_second_home_and_a_large_business_fail_their_limits() -> None:
    properties = [
        {
            "certificate_number": f"C{i}",
            "registered_on": datetime.date(2020, 1, 1),
            "action": "acquired",
            "use": "residential",
            "area_m2": Decimal(90),
        }
        for i in range(2)
    ]
    businesses = [
        {
            "credit_code": "X1",
            "registered_on": datetime.date(2022, 1, 1),
            "action": "registered",
            "kind": "company",
            "capital": Decimal(500000),
        }
    ]
    data = _run(_found("6000", properties=properties, businesses=businesses), DIBAO)
    failed = {t["test"] for t in data["verdicts"]["dibao"]["tests"] if not t["passed"]}
    assert failed == {"homes", "business_capital"}
    assert data["figures"]["homes"] == 2 and data["figures"]["businesses"] == 1


def test_a_home_in_the_registry_is_one_home_whatever_its_floor_area() -> None:
    # the quantity of a housing asset is its floor area: 244 m² is one home, not 244
    one = {"kind": "housing", "value": "122466", "quantity": "244"}
    data = _run(_found("6000", assets=[one]), DIBAO)
    assert data["figures"]["homes"] == 1
    assert next(t for t in data["verdicts"]["dibao"]["tests"] if t["test"] == "homes")["passed"]
    two = _run(_found("6000", assets=[one, {**one, "quantity": "60"}]), DIBAO)
    assert two["figures"]["homes"] == 2
    assert two["verdicts"]["dibao"]["eligible"] is False
