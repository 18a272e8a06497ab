"""The plain-pandas rules (the benchmark's baseline) give exactly DuckDB's warnings.

A generated county of 3 000 households gets hand-built feed records that plant events
for every rule of the default pack, at every level, together with near misses on each
side of each condition (exact thresholds, window edges, incomplete meter days, ended
registrations, unknown persons …). Both engines run over the same snapshot and store;
the candidates must agree row for row (evidence numbers within 1e-6). The county of
``jiuzhu.synth.feeds`` is compared as well.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from jiuzhu.engine.inputs import Sources
from jiuzhu.engine.pandas_rules import RULES, run_pandas, run_pandas_timed
from jiuzhu.engine.rules import load_pack
from jiuzhu.engine.runner import CANDIDATE_SCHEMA, run
from jiuzhu.feeds.schema import catalogue
from jiuzhu.feeds.storage import arrow_schema
from jiuzhu.synth.population import generate_population
from jiuzhu.synth.stored import person_indexes, registry_snapshot, store_feeds

AS_OF = datetime.date(2026, 1, 1)
HOUSEHOLDS = 3000
SEED = 5
DAY = datetime.timedelta(days=1)
_FEED_TYPES = {
    "date": pa.date32(),
    "datetime": pa.timestamp("s"),
    "decimal": pa.decimal128(18, 2),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
}


def _index(ids: Any) -> list[str]:
    return [hashlib.sha256(i.encode()).hexdigest() for i in ids]


def _age(birth: datetime.date, on: datetime.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


# ----------------------------------------------------------------------------------------
# A small county with planted feed records
# ----------------------------------------------------------------------------------------


@dataclass
class _Person:
    key: int
    household: int
    birth: datetime.date
    id_number: str
    grade: int | None
    alive: bool = True

    @property
    def age(self) -> int:
        return _age(self.birth, AS_OF)


@dataclass
class _County:
    """The population, a picker of unused households and the planted feed rows."""

    population: dict[str, pa.Table]
    persons: list[_Person] = field(default_factory=list)
    members: dict[int, list[_Person]] = field(default_factory=dict)
    income: dict[int, Decimal] = field(default_factory=dict)
    since: dict[int, datetime.date] = field(default_factory=dict)  # assisted enrolment
    enrolled: set[int] = field(default_factory=set)  # any active enrolment
    used: set[int] = field(default_factory=set)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    expect: set[tuple[str, int, str]] = field(default_factory=set)  # rule, household, level
    refuse: set[tuple[str, int]] = field(default_factory=set)  # rule, household: no warning
    serial: int = 0

    def __post_init__(self) -> None:
        p = self.population["persons"].to_pydict()
        for i in range(len(p["person_key"])):
            person = _Person(
                key=p["person_key"][i],
                household=p["household_key"][i],
                birth=p["birth_date"][i],
                id_number=p["id_number"][i],
                grade=p["disability_grade"][i],
                alive=not p["is_deceased"][i],
            )
            self.persons.append(person)
            self.members.setdefault(person.household, []).append(person)
        incomes = self.population["incomes"].to_pydict()
        latest: dict[int, int] = {}
        for hh, year in zip(incomes["household_key"], incomes["year"], strict=True):
            latest[hh] = max(latest.get(hh, year), year)
        for hh, year, amount in zip(
            incomes["household_key"], incomes["year"], incomes["annual_amount"], strict=True
        ):
            if year == latest[hh]:
                self.income[hh] = self.income.get(hh, Decimal(0)) + amount
        e = self.population["enrolments"].to_pydict()
        assisted = ("dibao", "tekun_centralised", "tekun_dispersed", "dibao_marginal")
        for hh, category, status, start in zip(
            e["household_key"], e["category"], e["status"], e["start_date"], strict=True
        ):
            if status != "active":
                continue
            self.enrolled.add(hh)
            if category in assisted and start is not None:
                self.since[hh] = min(self.since.get(hh, start), start)

    def living(self, hh: int) -> list[_Person]:
        return [m for m in self.members[hh] if m.alive]

    def household(self, test: Any) -> int:
        """The first unused household that passes ``test(household_id)``."""
        for hh in sorted(self.members):
            if hh not in self.used and test(hh):
                self.used.add(hh)
                return hh
        raise LookupError("no household fits")

    def person(self, test: Any, household: Any = None) -> _Person:
        """A living person passing ``test`` in an unused household passing ``household``."""
        for person in self.persons:
            hh = person.household
            if hh in self.used or not person.alive or not test(person):
                continue
            if household is None or household(hh):
                self.used.add(hh)
                return person
        raise LookupError("no person fits")

    def add(self, feed: str, **row: Any) -> None:
        self.rows[feed].append(row)

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:08d}"

    # -- household facts on as_of ---------------------------------------------------------

    def dependants(self, hh: int, but: _Person | None = None) -> int:
        return sum(1 for m in self.living(hh) if m is not but and (m.age < 18 or m.age >= 60))

    def workers(self, hh: int, but: _Person | None = None) -> int:
        return sum(1 for m in self.living(hh) if m is not but and 18 <= m.age < 60)


def _plant_medical(c: _County) -> None:
    def settle(
        person: _Person, day: str, oop: Decimal, care: str = "inpatient", icd: str = "K35.8"
    ) -> None:
        c.add(
            "medical_settlement",
            settlement_id=c.next_id("S"),
            id_number=person.id_number,
            settled_on=_d(day),
            care_type=care,
            icd10=icd,
            total_amount=oop * 3,
            out_of_pocket=oop,
        )

    def earner(low: int, high: int, even: bool = False) -> _Person:
        def fits(hh: int) -> bool:
            income = c.income.get(hh, Decimal(0))
            cents_even = int(income * 100) % 4 == 0
            return low <= income <= high and (cents_even or not even)

        return c.person(lambda p: p.age >= 18, fits)

    # red: three bills; the running total crosses max(10 000, income) on the third
    p = earner(3000, 9000)
    third = Decimal(4000)
    for day in ("2025-02-10", "2025-05-20", "2025-11-03"):
        settle(p, day, third)
    c.expect.add(("medical_burden", p.household, "red"))
    # yellow: 0.7 × income in two bills, both on one day (tie on the date)
    p = earner(30000, 80000)
    half = (c.income[p.household] * Decimal("0.35")).quantize(Decimal("0.01"))
    settle(p, "2025-04-01", half)
    settle(p, "2025-04-01", half)
    c.expect.add(("medical_burden", p.household, "yellow"))
    # exactly half the income (the share is inclusive)
    p = earner(30000, 90000, even=True)
    quarter = c.income[p.household] / 4
    settle(p, "2025-03-01", quarter)
    settle(p, "2025-12-31", quarter)
    c.expect.add(("medical_burden", p.household, "yellow"))
    # near miss: 0.3 × income
    p = earner(40000, 200000)
    settle(p, "2025-06-01", (c.income[p.household] * Decimal("0.3")).quantize(Decimal("0.01")))
    c.refuse.add(("medical_burden", p.household))
    # near miss: a large bill the day before the window, a small one inside
    p = earner(3000, 15000)
    settle(p, "2024-12-31", Decimal(50000))
    settle(p, "2025-01-01", Decimal("999.99"))
    c.refuse.add(("medical_burden", p.household))
    # near miss: 9 999.99 for a household with little income
    p = earner(1000, 8000)
    settle(p, "2025-07-07", Decimal("9999.99"))
    c.refuse.add(("medical_burden", p.household))
    # serious diseases
    p = earner(60000, 10**7)
    settle(p, "2025-04-01", Decimal(25000), icd="C34.1")
    settle(p, "2025-10-01", Decimal(1000), icd="C34.9")
    c.expect.add(("serious_disease", p.household, "red"))
    p = earner(40000, 10**7)
    settle(p, "2025-05-01", Decimal(3000), icd="I63.9")
    settle(p, "2025-08-01", Decimal("19999.99"), icd="I63")
    c.expect.add(("serious_disease", p.household, "yellow"))
    for care, icd, day in (
        ("inpatient", "J18.9", "2025-05-05"),  # pneumonia is not on the list
        ("outpatient", "C50.9", "2025-05-05"),  # a listed disease in outpatient care
        ("chronic_outpatient", "N18.5", "2025-05-05"),
        ("inpatient", "C34.1", "2026-01-01"),  # on as_of: not yet in the window
        ("inpatient", "C34.1", "2024-12-31"),  # before the window
    ):
        p = earner(60000, 10**7)
        settle(p, day, Decimal(5000), care=care, icd=icd)
        c.refuse.add(("serious_disease", p.household))


def _plant_deaths(c: _County) -> list[_Person]:
    deceased = []

    def die(p: _Person, day: datetime.date) -> None:
        c.add("death", id_number=p.id_number, died_on=day, cause_icd10="I21.9")
        deceased.append(p)

    p = c.person(lambda p: 30 <= p.age < 55, lambda hh: c.dependants(hh) >= 1)
    die(p, _d("2025-06-15"))
    c.expect.add(("working_age_death", p.household, "red"))
    p = c.person(
        lambda p: 30 <= p.age < 55,
        lambda hh: c.dependants(hh) == 0 and len(c.living(hh)) >= 2,
    )
    die(p, _d("2025-07-01"))
    c.expect.add(("working_age_death", p.household, "yellow"))
    p = c.person(lambda p: p.age >= 73)
    die(p, _d("2025-03-03"))
    c.refuse.add(("working_age_death", p.household))
    # the 60th birthday inside the window: dying on it is 60, the day before 59
    in_window = lambda p: AS_OF - 365 * DAY < p.birth.replace(year=p.birth.year + 60) < AS_OF  # noqa: E731
    p = c.person(lambda p: in_window(p) and p.birth.month != 2)
    die(p, p.birth.replace(year=p.birth.year + 60))
    c.refuse.add(("working_age_death", p.household))
    p = c.person(lambda p: in_window(p) and p.birth.month != 2)
    die(p, p.birth.replace(year=p.birth.year + 60) - DAY)
    c.expect.add(
        ("working_age_death", p.household, "red" if c.dependants(p.household, p) else "yellow")
    )
    # died before the window
    p = c.person(lambda p: 30 <= p.age < 55)
    die(p, _d("2024-12-31"))
    c.refuse.add(("working_age_death", p.household))
    return deceased


def _plant_disability(c: _County) -> None:
    def register(p: _Person, grade: int, kind: str, day: str, action: str = "issued") -> None:
        c.add(
            "disability_registration",
            certificate_number=c.next_id("D"),
            id_number=p.id_number,
            registered_on=_d(day),
            action=action,
            disability_type=kind,
            grade=grade,
        )

    p = c.person(lambda p: p.grade is None, lambda hh: c.workers(hh) == 0)
    register(p, 1, "physical", "2025-03-10")
    c.expect.add(("severe_disability", p.household, "red"))
    p = c.person(lambda p: p.grade is None and 18 <= p.age < 60, lambda hh: c.workers(hh) >= 2)
    register(p, 3, "mental", "2025-04-10")
    c.expect.add(("severe_disability", p.household, "yellow"))
    p = c.person(lambda p: p.grade is None)
    register(p, 3, "physical", "2025-04-10")  # grade 3 physical is not severe
    c.refuse.add(("severe_disability", p.household))
    p = c.person(lambda p: p.grade == 2)
    register(p, 2, "visual", "2025-05-10", "reassessed")  # the registry knows it already
    c.refuse.add(("severe_disability", p.household))
    p = c.person(lambda p: p.grade in (2, 3))
    register(p, 1, "visual", "2025-05-10", "reassessed")  # worse than the registry
    c.expect.add(
        ("severe_disability", p.household, "red" if not c.workers(p.household, p) else "yellow")
    )
    p = c.person(lambda p: p.grade is None)
    register(p, 2, "hearing", "2025-02-01")
    register(p, 1, "hearing", "2025-09-01")  # the most severe is the event
    c.expect.add(
        ("severe_disability", p.household, "red" if not c.workers(p.household, p) else "yellow")
    )
    p = c.person(lambda p: p.grade is None)
    register(p, 1, "physical", "2025-05-10", "cancelled")
    c.refuse.add(("severe_disability", p.household))


def _plant_unemployment(c: _County) -> None:
    def record(p: _Person, day: str, action: str = "registered") -> None:
        c.add(
            "unemployment_registration", id_number=p.id_number, registered_on=_d(day), action=action
        )

    adult = lambda p: 25 <= p.age < 55  # noqa: E731
    p = c.person(adult, lambda hh: c.dependants(hh) >= 1 and c.workers(hh) == 1)
    record(p, "2025-03-01")
    c.expect.add(("unemployment_dependants", p.household, "red"))
    p = c.person(adult, lambda hh: c.dependants(hh) >= 1 and c.workers(hh) >= 2)
    record(p, "2025-03-01")
    record(p, "2024-11-01", "ended")  # an earlier spell ended before this one began
    c.expect.add(("unemployment_dependants", p.household, "yellow"))
    p = c.person(adult, lambda hh: c.dependants(hh) >= 1)
    record(p, "2025-03-01")
    record(p, "2025-06-01", "ended")
    c.refuse.add(("unemployment_dependants", p.household))
    p = c.person(adult, lambda hh: c.dependants(hh) >= 1)
    record(p, "2025-03-01")
    record(p, "2025-03-01", "ended")  # ended the same day
    c.refuse.add(("unemployment_dependants", p.household))
    p = c.person(adult, lambda hh: c.dependants(hh) == 0 and len(c.living(hh)) >= 2)
    record(p, "2025-03-01")
    c.refuse.add(("unemployment_dependants", p.household))
    p = c.person(adult, lambda hh: c.dependants(hh) >= 1)
    record(p, "2025-02-01")
    record(p, "2025-05-01", "ended")
    record(p, "2025-10-01")  # registered again: this one is open
    c.expect.add(
        (
            "unemployment_dependants",
            p.household,
            "red" if not c.workers(p.household, p) else "yellow",
        )
    )


def _plant_school(c: _County) -> None:
    def record(p: _Person, day: str, stage: str, status: str, owed: str | None = None) -> None:
        c.add(
            "school_status",
            id_number=p.id_number,
            recorded_on=_d(day),
            stage=stage,
            status=status,
            amount_owed=None if owed is None else Decimal(owed),
            school="第一小学",
        )

    pupil = lambda p: 7 <= p.age < 18  # noqa: E731
    p = c.person(pupil)
    record(p, "2025-09-15", "primary", "dropped_out")
    c.expect.add(("school_hardship", p.household, "red"))
    p = c.person(pupil)
    record(p, "2025-10-15", "senior", "dropped_out")
    c.expect.add(("school_hardship", p.household, "yellow"))
    p = c.person(pupil)
    record(p, "2025-03-01", "junior", "fee_arrears", "800")
    record(p, "2025-04-01", "junior", "fee_arrears", "900")  # the same year: one event
    c.expect.add(("school_hardship", p.household, "yellow"))
    p = c.person(pupil)
    record(p, "2025-03-01", "junior", "fee_arrears", "500.00")  # the threshold is inclusive
    c.expect.add(("school_hardship", p.household, "yellow"))
    for day, status, owed in (
        ("2025-03-01", "fee_arrears", "499.99"),
        ("2025-03-01", "fee_arrears", "300"),
        ("2024-12-20", "dropped_out", None),
        ("2025-03-01", "enrolled", None),
    ):
        p = c.person(pupil)
        record(p, day, "primary", status, owed)
        c.refuse.add(("school_hardship", p.household))


def _plant_housing(c: _County) -> None:
    def rate(p: _Person, house: str, day: str, rating: str) -> None:
        c.add(
            "housing_safety", house_id=house, id_number=p.id_number, rated_on=_d(day), rating=rating
        )

    adult = lambda p: p.age >= 30  # noqa: E731
    cases = [
        ([("2025-05-01", "D")], "red"),
        ([("2025-05-01", "C")], "yellow"),
        ([("2025-03-01", "D"), ("2025-09-01", "C")], "yellow"),  # the latest counts
        ([("2025-02-01", "C"), ("2025-08-01", "B")], None),
        ([("2025-02-01", "B")], None),
        ([("2024-10-01", "D")], None),
    ]
    for ratings, level in cases:
        p = c.person(adult)
        house = c.next_id("H")
        for day, rating in ratings:
            rate(p, house, day, rating)
        if level:
            c.expect.add(("unsafe_housing", p.household, level))
        else:
            c.refuse.add(("unsafe_housing", p.household))


def _plant_water(c: _County) -> None:
    def alone(hh: int) -> bool:
        living = c.living(hh)
        return len(living) == 1 and living[0].age >= 70

    def daily(p: _Person, meter: str, day: datetime.date, litres: str) -> None:
        at = datetime.datetime.combine(day, datetime.time(23, 59))
        c.add(
            "water_meter_reading",
            meter_id=meter,
            id_number=p.id_number,
            read_at=at,
            interval="day",
            litres=Decimal(litres),
        )

    def hourly(p: _Person, meter: str, day: datetime.date, litres: list[str]) -> None:
        for hour, value in enumerate(litres):
            at = datetime.datetime.combine(day, datetime.time(hour, 30))
            c.add(
                "water_meter_reading",
                meter_id=meter,
                id_number=p.id_number,
                read_at=at,
                interval="hour",
                litres=Decimal(value),
            )

    # a daily meter: a three-day low episode, a high day, a single low day
    p = c.person(lambda p: p.age >= 70, alone)
    meter = c.next_id("W")
    for back in range(1, 31):
        day = AS_OF - back * DAY
        value = {12: "5", 11: "4.5", 10: "6", 5: "1500", 3: "9.99", 2: "10.00"}.get(back, "100")
        daily(p, meter, day, value)
    daily(p, meter, AS_OF - 31 * DAY, "1")  # before the look-back
    daily(p, meter, AS_OF, "1")  # on as_of
    c.expect.add(("water_anomaly", p.household, "red"))
    c.expect.add(("water_anomaly", p.household, "yellow"))
    # an hourly meter: two complete low days, an incomplete one, a high day
    p = c.person(lambda p: p.age >= 70, alone)
    meter = c.next_id("W")
    for back in range(1, 15):
        day = AS_OF - back * DAY
        if back in (8, 7):
            hourly(p, meter, day, ["0.30"] * 24)
        elif back == 6:
            hourly(p, meter, day, ["0.10"] * 23)  # a missing hour: not a complete day
        elif back == 4:
            hourly(p, meter, day, ["100"] * 24)
        else:
            hourly(p, meter, day, ["5"] * 24)
    c.expect.add(("water_anomaly", p.household, "red"))
    c.expect.add(("water_anomaly", p.household, "yellow"))
    # near misses: 40 days ago; 12 litres a day; a daily and an hourly reading on one day
    p = c.person(lambda p: p.age >= 70, alone)
    daily(p, c.next_id("W"), AS_OF - 40 * DAY, "2")
    c.refuse.add(("water_anomaly", p.household))
    p = c.person(lambda p: p.age >= 70, alone)
    meter = c.next_id("W")
    for back in range(1, 31):
        daily(p, meter, AS_OF - back * DAY, "12")
    c.refuse.add(("water_anomaly", p.household))
    p = c.person(lambda p: p.age >= 70, alone)
    meter = c.next_id("W")
    daily(p, meter, AS_OF - 9 * DAY, "1")
    hourly(p, meter, AS_OF - 9 * DAY, ["0.5"])
    c.refuse.add(("water_anomaly", p.household))
    # an elder living with a spouse
    p = c.person(lambda p: p.age >= 70, lambda hh: len(c.living(hh)) == 2)
    meter = c.next_id("W")
    for back in range(1, 4):
        daily(p, meter, AS_OF - back * DAY, "5")
    c.refuse.add(("water_anomaly", p.household))


def _plant_assets(c: _County) -> None:
    def vehicle(
        p: _Person, plate: str, day: datetime.date, kind: str, action: str = "registered"
    ) -> None:
        c.add(
            "vehicle_registration",
            plate=plate,
            id_number=p.id_number,
            registered_on=day,
            action=action,
            kind=kind,
            price=Decimal(80000),
        )

    enrolled = lambda hh: hh in c.since and c.since[hh] < _d("2025-01-01")  # noqa: E731
    p = c.person(lambda p: p.age >= 18, enrolled)
    plate = c.next_id("赣D")
    vehicle(p, plate, _d("2025-04-01"), "car")
    vehicle(p, plate, _d("2025-06-01"), "car", "transferred_in")  # the same plate: one event
    c.expect.add(("enrolled_new_assets", p.household, "yellow"))
    p = c.person(lambda p: p.age >= 18, enrolled)
    c.add(
        "property_registration",
        certificate_number=c.next_id("P"),
        id_number=p.id_number,
        registered_on=_d("2025-07-01"),
        action="acquired",
        use="residential",
        area_m2=Decimal(90),
        region_code=None,
    )
    c.expect.add(("enrolled_new_assets", p.household, "yellow"))
    p = c.person(lambda p: p.age >= 18, enrolled)
    c.add(
        "business_registration",
        credit_code=c.next_id("91"),
        id_number=p.id_number,
        registered_on=_d("2025-08-01"),
        action="registered",
        kind="individual",
        capital=Decimal(10000),
    )
    c.expect.add(("enrolled_new_assets", p.household, "yellow"))
    p = c.person(lambda p: p.age >= 18, enrolled)
    c.add(
        "business_registration",
        credit_code=c.next_id("93"),
        id_number=p.id_number,
        registered_on=_d("2025-08-01"),
        action="registered",
        kind="cooperative",
        capital=None,
    )
    vehicle(p, c.next_id("赣D"), _d("2025-05-01"), "motorcycle")
    vehicle(p, c.next_id("赣D"), _d("2024-12-01"), "car")  # before the window
    c.refuse.add(("enrolled_new_assets", p.household))
    p = c.person(lambda p: p.age >= 18, lambda hh: hh not in c.enrolled)
    vehicle(p, c.next_id("赣D"), _d("2025-04-01"), "truck")
    c.refuse.add(("enrolled_new_assets", p.household))
    # enrolled during the window: before the start no, after it yes
    p = c.person(
        lambda p: p.age >= 18,
        lambda hh: hh in c.since and _d("2025-03-01") <= c.since[hh] <= _d("2025-10-01"),
    )
    vehicle(p, c.next_id("赣D"), c.since[p.household] - DAY, "car")
    vehicle(p, c.next_id("赣D"), c.since[p.household], "car")  # on the day: not after it
    c.refuse.add(("enrolled_new_assets", p.household))


def _feed_tables(rows: dict[str, list[dict[str, Any]]]) -> dict[str, pa.Table]:
    tables = {}
    for feed_id, feed in catalogue().items():
        schema = pa.schema(
            [(col.name, _FEED_TYPES.get(col.type, pa.string())) for col in feed.columns]
        )
        tables[feed_id] = pa.Table.from_pylist(rows.get(feed_id, []), schema=schema)
    return tables


def _write_county(
    out: Path, population: dict[str, pa.Table], feeds: dict[str, pa.Table]
) -> Sources:
    index = person_indexes(population, _index)
    registry_snapshot(population, out / "snapshot")
    store_feeds(
        feeds, out / "feeds", population=population, person_index=index, index_key=b"k" * 32
    )
    return Sources(snapshot=out / "snapshot", feeds_root=out / "feeds")


@dataclass(frozen=True)
class _Planted:
    sources: Sources
    expect: frozenset[tuple[str, int, str]]
    refuse: frozenset[tuple[str, int]]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> _Planted:
    population = generate_population(households=HOUSEHOLDS, seed=SEED)
    county = _County(population)
    _plant_medical(county)
    deceased = _plant_deaths(county)
    _plant_disability(county)
    _plant_unemployment(county)
    _plant_school(county)
    _plant_housing(county)
    _plant_water(county)
    _plant_assets(county)
    # The registry knows of the deaths: those persons no longer count as members.
    keys = pa.array([p.key for p in deceased], pa.int64())
    persons = population["persons"]
    dead = pc.or_(persons["is_deceased"], pc.is_in(persons["person_key"], keys))
    population = dict(population)
    population["persons"] = persons.set_column(
        persons.schema.get_field_index("is_deceased"), "is_deceased", dead
    )
    out = tmp_path_factory.mktemp("planted")
    sources = _write_county(out, population, _feed_tables(county.rows))
    # A record of a person the registry does not know, in a batch of its own.
    feed = catalogue()["medical_settlement"]
    stranger = {name: [None] for name in arrow_schema(feed).names}
    stranger.update(
        key_hash=["x" * 64],
        settlement_id=["S-unknown"],
        person_index=[_index(["000000000000000000"])[0]],
        person_id=[10**12],
        settled_on=[_d("2025-05-05")],
        care_type=["inpatient"],
        icd10=["C34.1"],
        total_amount=[Decimal(90000)],
        out_of_pocket=[Decimal(90000)],
        batch_id=[2],
    )
    directory = out / "feeds" / feed.id / f"v{feed.version}" / "period=2025-05"
    directory.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table(stranger, schema=arrow_schema(feed)), directory / "batch-00000002.parquet"
    )
    return _Planted(sources, frozenset(county.expect), frozenset(county.refuse))


# ----------------------------------------------------------------------------------------
# Comparing
# ----------------------------------------------------------------------------------------


def _rows(table: pa.Table) -> Iterator[dict[str, Any]]:
    assert table.schema.equals(CANDIDATE_SCHEMA)
    yield from table.to_pylist()


def _same_evidence(left: str, right: str) -> bool:
    a, b = json.loads(left), json.loads(right)
    if set(a) != set(b):
        return False
    for key, value in a.items():
        other = b[key]
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not isinstance(other, int | float) or not math.isclose(
                float(value), float(other), rel_tol=0, abs_tol=1e-6
            ):
                return False
        elif value != other:
            return False
    return True


def _assert_same(duck: pa.Table, pandas: pa.Table) -> None:
    """Same rows in the same order; evidence numbers within 1e-6, texts identical."""
    left, right = list(_rows(duck)), list(_rows(pandas))
    keys = ("household_id", "rule_id", "rule_version", "level", "event_key", "event_date")
    only_duck = {tuple(r[k] for k in keys) for r in left} - {
        tuple(r[k] for k in keys) for r in right
    }
    only_pandas = {tuple(r[k] for k in keys) for r in right} - {
        tuple(r[k] for k in keys) for r in left
    }
    assert not only_duck and not only_pandas, (sorted(only_duck)[:5], sorted(only_pandas)[:5])
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        assert tuple(a[k] for k in keys) == tuple(b[k] for k in keys)
        assert _same_evidence(a["evidence"], b["evidence"]), (a, b)
        assert a["explanation"] == b["explanation"], (a, b)


def _warned(table: pa.Table) -> set[tuple[str, int, str]]:
    return set(
        zip(
            table["rule_id"].to_pylist(),
            table["household_id"].to_pylist(),
            table["level"].to_pylist(),
            strict=True,
        )
    )


# ----------------------------------------------------------------------------------------
# Tests
# ----------------------------------------------------------------------------------------


def test_pandas_gives_duckdbs_warnings_on_planted_events(planted: _Planted) -> None:
    duck = run(load_pack(), planted.sources, as_of=AS_OF, engine="duckdb")
    pandas, seconds = run_pandas_timed(planted.sources, as_of=AS_OF)
    _assert_same(duck.candidates, pandas)
    # the planted events and near misses did what they were built for, on both engines
    warned = _warned(pandas)
    assert planted.expect <= warned, sorted(planted.expect - warned)
    hits = {(rule, hh) for rule, hh, _ in warned} & planted.refuse
    assert not hits, sorted(hits)
    # every rule warned, and every level of every rule occurs
    counts = defaultdict(int)
    levels = defaultdict(set)
    for rule, _, level in warned:
        counts[rule] += 1
        levels[rule].add(level)
    pack = load_pack()
    for rule in pack.rules:
        assert counts[rule.id] > 0, rule.id
        assert levels[rule.id] == set(rule.levels), (rule.id, levels[rule.id])
    assert set(seconds) == {"load"} | {f"rule:{r}" for r in RULES}


def test_the_stranger_and_the_window_edges_are_left_out(planted: _Planted) -> None:
    candidates = run_pandas(planted.sources, as_of=AS_OF)
    evidence = [json.loads(e) for e in candidates["evidence"].to_pylist()]
    assert not any(e.get("out_of_pocket") == 90000 for e in evidence)
    # the water episodes: days and bounds as planted
    water = [
        e
        for e, r in zip(evidence, candidates["rule_id"].to_pylist(), strict=True)
        if r == "water_anomaly"
    ]
    episodes = sorted((e["kind"], e["days"], e["litres_min"], e["litres_max"]) for e in water)
    assert episodes == [
        ("high", 1, 1500.0, 1500.0),
        ("high", 1, 2400.0, 2400.0),
        ("low", 1, 9.99, 9.99),
        ("low", 2, 7.2, 7.2),
        ("low", 3, 4.5, 6.0),
    ]


def test_parameters_reach_both_engines_alike(planted: _Planted) -> None:
    values = {
        "medical_burden": {"share": 0.25, "min_amount": 5000, "window_days": 200},
        "water_anomaly": {"low_litres": 12.5, "lookback_days": 45, "elder_age": 65},
        "income_below_standard": {"dibao_rural": 700, "marginal_factor": 1.25},
        "hardship_score": {"low_income_line": 0.025, "difficulty_line": 0.2},
        "serious_disease": {"icd10_codes": ["J18", "C34"], "red_amount": 4000},
        "school_hardship": {"min_owed": 300},
        "unemployment_dependants": {"min_dependants": 2},
    }
    duck = run(load_pack(), planted.sources, as_of=AS_OF, values=values)
    pandas = run_pandas(planted.sources, as_of=AS_OF, params=values)
    _assert_same(duck.candidates, pandas)
    assert pandas.num_rows > 0
    # the explanation states the lines in force, not the defaults
    lines = {
        r["level"]: r["explanation"]
        for r in duck.candidates.to_pylist()
        if r["rule_id"] == "hardship_score"
    }
    assert "低收入监测线（最困难2.5%）" in lines["yellow"]
    assert "相对困难监测线（最困难20%）" in lines["blue"]


def test_another_as_of_gives_the_same_warnings_too(planted: _Planted) -> None:
    as_of = datetime.date(2025, 12, 21)
    duck = run(load_pack(), planted.sources, as_of=as_of)
    _assert_same(duck.candidates, run_pandas(planted.sources, as_of=as_of))


def test_pandas_gives_duckdbs_warnings_on_the_synthetic_feeds(tmp_path: Path) -> None:
    try:
        from jiuzhu.synth.feeds import generate_feeds
    except ImportError:  # pragma: no cover - the generator lands separately
        pytest.skip("jiuzhu.synth.feeds is not available")
    population = generate_population(households=HOUSEHOLDS, seed=7)
    feeds, _ = generate_feeds(population, seed=7, as_of=AS_OF)
    sources = _write_county(tmp_path, population, feeds)
    duck = run(load_pack(), sources, as_of=AS_OF)
    pandas = run_pandas(sources, as_of=AS_OF)
    _assert_same(duck.candidates, pandas)
    assert all(n > 0 for n in duck.counts.values()), duck.counts
