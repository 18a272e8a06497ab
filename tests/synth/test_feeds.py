"""Synthetic department feeds and their truth: valid rows, volumes, determinism, and an
independent re-reading of the rules in docs/monitoring-rules.md over the generated data
that must find exactly what the truth file says."""

from __future__ import annotations

import datetime
import hashlib
import math
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from django.core.management import call_command

from jiuzhu.feeds.schema import catalogue, validate_row
from jiuzhu.synth.feeds import (
    FEED_IDS,
    RULES,
    SERIOUS_CODES,
    TRUTH_SCHEMA,
    VOLUMES,
    generate_feeds,
    read_feeds,
    read_truth,
    write_feeds,
)
from jiuzhu.synth.population import generate_population

HOUSEHOLDS = 3_000
SEED = 11
AS_OF = datetime.date(2026, 1, 1)
WINDOW_START = AS_OF - datetime.timedelta(days=365)
EVENT_RULES = (
    "medical_burden",
    "serious_disease",
    "working_age_death",
    "severe_disability",
    "unemployment_dependants",
    "school_hardship",
    "unsafe_housing",
    "water_anomaly",
    "enrolled_new_assets",
)
ASSISTED = {"dibao", "tekun_centralised", "tekun_dispersed"}

World = tuple[dict[str, pa.Table], dict[str, pa.Table], pa.Table]


@pytest.fixture(scope="module")
def world() -> World:
    population = generate_population(households=HOUSEHOLDS, seed=SEED, as_of=AS_OF)
    feeds, truth = generate_feeds(population, seed=SEED, as_of=AS_OF)
    return population, feeds, truth


# --------------------------------------------------------------------------------------
# Independent helpers (pandas), written from the specification
# --------------------------------------------------------------------------------------


def frame(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas()


def ages(birth: pd.Series, day: pd.Series) -> pd.Series:
    """Whole years on ``day``."""
    birth, day = pd.to_datetime(birth), pd.to_datetime(day)
    before = (day.dt.month * 100 + day.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    return day.dt.year - birth.dt.year - before.astype(int)


def persons_frame(population: dict[str, pa.Table]) -> pd.DataFrame:
    persons = frame(population["persons"])
    return persons[~persons["is_deceased"]]


def with_person(feed: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    return feed.merge(
        persons[["id_number", "person_key", "household_key", "birth_date"]],
        on="id_number",
        how="left",
        validate="many_to_one",
    )


def household_income(population: dict[str, pa.Table]) -> pd.Series:
    incomes = frame(population["incomes"])
    incomes["amount"] = incomes["annual_amount"].astype(float)
    latest = incomes.groupby("household_key")["year"].transform("max")
    income = incomes[incomes["year"] == latest].groupby("household_key")["amount"].sum()
    keys = frame(population["households"])["household_key"]
    return income.reindex(keys, fill_value=0.0)


def other_members(events: pd.DataFrame, persons: pd.DataFrame, day: str) -> pd.DataFrame:
    """For each event (one row a person): every other living member and their age on
    the event's ``day``."""
    members = events[["person_key", "household_key", day]].merge(
        persons[["person_key", "household_key", "birth_date"]].rename(
            columns={"person_key": "member"}
        ),
        on="household_key",
    )
    members = members[members["member"] != members["person_key"]].copy()
    members["age"] = ages(members["birth_date"], members[day])
    return members


def flag_any(events: pd.DataFrame, members: pd.DataFrame, condition: pd.Series) -> pd.Series:
    hits = set(members.loc[condition, "person_key"])
    return events["person_key"].isin(hits)


def truth_rows(truth: pa.Table, rule: str, kind: str | None = None) -> pd.DataFrame:
    rows = frame(truth)
    rows = rows[rows["rule"] == rule]
    return rows if kind is None else rows[rows["kind"] == kind]


def expected_set(truth: pa.Table, rule: str, with_date: bool = True) -> set[tuple]:  # type: ignore[type-arg]
    rows = truth_rows(truth, rule, "planted")
    if with_date:
        return set(zip(rows["household_key"], rows["level"], rows["event_date"], strict=True))
    return set(zip(rows["household_key"], rows["level"], strict=True))


def near_miss_households(truth: pa.Table, rule: str) -> set[int]:
    return set(truth_rows(truth, rule, "near_miss")["household_key"])


# --------------------------------------------------------------------------------------
# Shape: catalogue columns, valid values, people of the population, natural keys
# --------------------------------------------------------------------------------------


def test_every_feed_has_exactly_the_catalogue_columns_and_types(world: World) -> None:
    # given
    _population, feeds, _truth = world
    types = {
        "date": pa.date32(),
        "datetime": pa.timestamp("s"),
        "decimal": pa.decimal128(18, 2),
        "integer": pa.int64(),
    }
    # then
    assert set(feeds) == set(catalogue()) == set(FEED_IDS)
    for feed_id, table in feeds.items():
        feed = catalogue()[feed_id]
        assert table.column_names == [c.name for c in feed.columns], feed_id
        for column in feed.columns:
            assert table.schema.field(column.name).type == types.get(column.type, pa.string())


def test_every_row_validates_against_its_catalogue_definition(world: World) -> None:
    # given
    _population, feeds, _truth = world
    # when / then: each feed in full except the water readings, of which every 7th row
    for feed_id, table in feeds.items():
        feed = catalogue()[feed_id]
        rows = table.to_pylist()
        if feed_id == "water_meter_reading":
            rows = rows[::7]
        for row in rows:
            _values, errors = validate_row(feed, row, today=AS_OF)
            assert not errors, (feed_id, row, errors)


def test_every_id_number_belongs_to_a_person_of_the_population(world: World) -> None:
    # given
    population, feeds, _truth = world
    known = set(population["persons"]["id_number"].to_pylist())
    # then
    for feed_id, table in feeds.items():
        assert set(table["id_number"].to_pylist()) <= known, feed_id


def test_natural_keys_are_unique_within_each_feed(world: World) -> None:
    # given
    _population, feeds, _truth = world
    # then
    for feed_id, table in feeds.items():
        key = catalogue()[feed_id].natural_key
        counts = table.group_by(list(key)).aggregate([([], "count_all")])
        assert counts.num_rows == table.num_rows, feed_id


def test_every_event_lies_in_the_window_before_as_of(world: World) -> None:
    # given
    _population, feeds, _truth = world
    # then
    for feed_id, table in feeds.items():
        column = table[catalogue()[feed_id].event_date_column]
        if pa.types.is_timestamp(column.type):
            column = pc.cast(column, pa.date32())
        assert pc.min(column).as_py() >= WINDOW_START, feed_id
        assert pc.max(column).as_py() < AS_OF, feed_id


def test_truth_has_its_schema_and_a_level_exactly_on_warnings(world: World) -> None:
    # given
    _population, _feeds, truth = world
    rows = frame(truth)
    # then
    assert truth.schema == TRUTH_SCHEMA
    assert set(rows["rule"]) == set(RULES)
    warn = rows["expected"] == "warn"
    assert rows.loc[warn, "level"].isin(["red", "yellow", "blue"]).all()
    assert rows.loc[~warn, "level"].isna().all()
    assert set(rows.loc[~warn, "kind"]) == {"near_miss"}
    assert (rows.loc[rows["kind"] == "registry", "expected"] == "warn").all()
    assert rows.loc[rows["kind"] != "registry", "event_date"].notna().all()


def test_every_event_rule_has_planted_warnings_at_each_level_and_near_misses(
    world: World,
) -> None:
    # given
    _population, _feeds, truth = world
    # then
    for rule in EVENT_RULES:
        planted = truth_rows(truth, rule, "planted")
        near = truth_rows(truth, rule, "near_miss")
        assert len(planted) >= 5, rule
        assert len(near) >= 5, rule
        levels = {"yellow"} if rule == "enrolled_new_assets" else {"red", "yellow"}
        assert set(planted["level"]) == levels, rule


def test_a_household_holds_at_most_one_planted_or_near_miss_event(world: World) -> None:
    # given
    _population, _feeds, truth = world
    rows = frame(truth)
    # then
    events = rows[rows["kind"] != "registry"]
    assert events["household_key"].is_unique


# --------------------------------------------------------------------------------------
# Volumes and determinism
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_household", [10.0, 5.0])
def test_volume_is_records_per_household_a_year(per_household: float) -> None:
    # given: large enough for the planted meters not to count
    households = 20_000
    population = generate_population(households=households, seed=3, as_of=AS_OF)
    # when
    feeds, _truth = generate_feeds(
        population, seed=3, as_of=AS_OF, records_per_household=per_household
    )
    # then
    total = sum(table.num_rows for table in feeds.values())
    assert total / households == pytest.approx(per_household, rel=0.1)
    for feed_id, volume in VOLUMES.items():
        expected = volume * per_household / 10 * households
        assert feeds[feed_id].num_rows == pytest.approx(expected, rel=0.25), feed_id


def test_same_seed_gives_identical_tables_and_identical_files(tmp_path: Path) -> None:
    # given
    population = generate_population(households=800, seed=5, as_of=AS_OF)
    first = generate_feeds(population, seed=5, as_of=AS_OF)
    second = generate_feeds(population, seed=5, as_of=AS_OF)
    # when
    write_feeds(*first, tmp_path / "a")
    write_feeds(*second, tmp_path / "b")
    # then
    assert first[1].equals(second[1])
    files = [f"feeds/{f}.parquet" for f in FEED_IDS] + ["truth/truth.parquet"]
    for name in files:
        digest_a = hashlib.sha256((tmp_path / "a" / name).read_bytes()).digest()
        digest_b = hashlib.sha256((tmp_path / "b" / name).read_bytes()).digest()
        assert digest_a == digest_b, name
    for feed_id in FEED_IDS:
        assert first[0][feed_id].equals(second[0][feed_id]), feed_id


def test_another_seed_gives_other_feeds() -> None:
    # given
    population = generate_population(households=800, seed=5, as_of=AS_OF)
    # when
    first, _ = generate_feeds(population, seed=5, as_of=AS_OF)
    other, _ = generate_feeds(population, seed=6, as_of=AS_OF)
    # then
    assert not first["medical_settlement"].equals(other["medical_settlement"])


def test_written_files_read_back_equal(world: World, tmp_path: Path) -> None:
    # given
    _population, feeds, truth = world
    write_feeds(feeds, truth, tmp_path, {"seed": SEED})
    # when
    read = read_feeds(tmp_path)
    # then
    for feed_id in FEED_IDS:
        assert read[feed_id].equals(feeds[feed_id]), feed_id
    assert read_truth(tmp_path).equals(truth)
    assert read_truth(tmp_path / "truth").equals(truth)
    assert '"counts"' in (tmp_path / "feeds" / "manifest.json").read_text()


def test_a_tiny_county_still_gets_feeds_and_truth() -> None:
    # given
    population = generate_population(households=40, seed=2, as_of=AS_OF)
    # when
    feeds, truth = generate_feeds(population, seed=2, as_of=AS_OF)
    # then
    assert set(feeds) == set(FEED_IDS)
    assert truth.num_rows > 0


# --------------------------------------------------------------------------------------
# The rules, re-read independently over the generated data
# --------------------------------------------------------------------------------------


def test_medical_burden_finds_exactly_the_planted_households(world: World) -> None:
    # given
    population, feeds, truth = world
    persons = persons_frame(population)
    settlements = with_person(frame(feeds["medical_settlement"]), persons)
    settlements["oop"] = settlements["out_of_pocket"].astype(float)
    income = household_income(population)
    # when: the running total over the window, settlement by settlement
    settlements = settlements.sort_values(["household_key", "settled_on", "settlement_id"])
    settlements["running"] = settlements.groupby("household_key")["oop"].cumsum()
    settlements["income"] = settlements["household_key"].map(income)
    met = settlements[
        (settlements["running"] >= 10_000) & (settlements["running"] >= 0.5 * settlements["income"])
    ]
    first = met.groupby("household_key").first()
    window_total = settlements.groupby("household_key")["oop"].sum()
    found = {
        (key, "red" if window_total[key] >= income[key] else "yellow", row["settled_on"])
        for key, row in first.iterrows()
    }
    # then
    assert found == expected_set(truth, "medical_burden")
    assert not {key for key, _l, _d in found} & near_miss_households(truth, "medical_burden")


def test_serious_disease_finds_exactly_the_planted_stays(world: World) -> None:
    # given
    population, feeds, truth = world
    settlements = with_person(frame(feeds["medical_settlement"]), persons_frame(population))
    # when
    stays = settlements[
        (settlements["care_type"] == "inpatient") & settlements["icd10"].str[:3].isin(SERIOUS_CODES)
    ]
    found = {
        (
            row.household_key,
            "red" if float(row.out_of_pocket) >= 20_000 else "yellow",
            row.settled_on,
        )
        for row in stays.itertuples()
    }
    # then
    assert found == expected_set(truth, "serious_disease")
    # and the near-misses are there: pneumonia stays and listed diseases as outpatients
    near = near_miss_households(truth, "serious_disease")
    near_rows = settlements[settlements["household_key"].isin(near)]
    assert (near_rows["icd10"].str[:3] == "J18").any()
    assert (near_rows["care_type"] != "inpatient").any()


def test_working_age_death_finds_exactly_the_planted_deaths(world: World) -> None:
    # given
    population, feeds, truth = world
    persons = persons_frame(population)
    deaths = with_person(frame(feeds["death"]), persons)
    deaths["age"] = ages(deaths["birth_date"], deaths["died_on"])
    # when
    working = deaths[(deaths["age"] >= 16) & (deaths["age"] < 60)].copy()
    members = other_members(working, persons, "died_on")
    keeps = flag_any(working, members, (members["age"] < 18) | (members["age"] >= 60))
    found = set(
        zip(
            working["household_key"],
            np.where(keeps, "red", "yellow"),
            working["died_on"],
            strict=True,
        )
    )
    # then
    assert found == expected_set(truth, "working_age_death")
    assert deaths.loc[~deaths["household_key"].isin({k for k, _l, _d in found}), "age"].min() >= 60


def test_severe_disability_finds_exactly_the_planted_registrations(world: World) -> None:
    # given
    population, feeds, truth = world
    persons = persons_frame(population)
    registrations = with_person(frame(feeds["disability_registration"]), persons)
    registry_grade = persons.set_index("person_key")["disability_grade"]
    # when
    grade = registrations["grade"]
    mental = registrations["disability_type"].isin(["mental", "intellectual"])
    severe = registrations["action"].isin(["issued", "reassessed"]) & (
        (grade <= 2) | (mental & (grade <= 4))
    )
    recorded = registrations["person_key"].map(registry_grade)
    already = recorded.notna() & (recorded <= grade)
    new = registrations[severe & ~already].copy()
    members = other_members(new, persons, "registered_on")
    has_worker = flag_any(new, members, (members["age"] >= 18) & (members["age"] < 60))
    found = set(
        zip(
            new["household_key"],
            np.where(has_worker, "yellow", "red"),
            new["registered_on"],
            strict=True,
        )
    )
    # then
    assert found == expected_set(truth, "severe_disability")


def test_unemployment_with_dependants_finds_exactly_the_planted_registrations(
    world: World,
) -> None:
    # given
    population, feeds, truth = world
    persons = persons_frame(population)
    records = with_person(frame(feeds["unemployment_registration"]), persons)
    # when: a registration not followed by an end of the same person
    registered = records[records["action"] == "registered"]
    ended = records[records["action"] == "ended"]
    pairs = registered.merge(ended[["person_key", "registered_on"]], on="person_key", how="left")
    closed = pairs.loc[pairs["registered_on_y"] >= pairs["registered_on_x"], "person_key"].unique()
    still = registered[~registered["person_key"].isin(closed)].copy()
    members = other_members(still, persons, "registered_on")
    dependants = flag_any(still, members, (members["age"] < 18) | (members["age"] >= 60))
    worker = flag_any(still, members, (members["age"] >= 18) & (members["age"] < 60))
    hit = still[dependants]
    found = set(
        zip(
            hit["household_key"],
            np.where(worker[dependants], "yellow", "red"),
            hit["registered_on"],
            strict=True,
        )
    )
    # then
    assert found == expected_set(truth, "unemployment_dependants")


def test_school_hardship_finds_exactly_the_planted_records(world: World) -> None:
    # given
    population, feeds, truth = world
    records = with_person(frame(feeds["school_status"]), persons_frame(population))
    # when
    owed = records["amount_owed"].astype(float)
    hit = records[
        (records["status"] == "dropped_out")
        | ((records["status"] == "fee_arrears") & (owed >= 500))
    ]
    compulsory = (hit["status"] == "dropped_out") & hit["stage"].isin(["primary", "junior"])
    found = set(
        zip(
            hit["household_key"],
            np.where(compulsory, "red", "yellow"),
            hit["recorded_on"],
            strict=True,
        )
    )
    # then
    assert found == expected_set(truth, "school_hardship")


def test_unsafe_housing_reads_the_latest_rating_of_each_house(world: World) -> None:
    # given
    population, feeds, truth = world
    ratings = with_person(frame(feeds["housing_safety"]), persons_frame(population))
    # when
    latest = ratings.sort_values("rated_on").groupby("house_id").last()
    hit = latest[latest["rating"].isin(["C", "D"])]
    found = set(
        zip(
            hit["household_key"],
            np.where(hit["rating"] == "D", "red", "yellow"),
            hit["rated_on"],
            strict=True,
        )
    )
    # then
    assert found == expected_set(truth, "unsafe_housing")
    # and a repaired house (C, then B) is among the near-misses
    near = ratings[ratings["household_key"].isin(near_miss_households(truth, "unsafe_housing"))]
    assert set(near["rating"]) == {"B", "C"}


def test_water_anomaly_finds_exactly_the_planted_episodes(world: World) -> None:
    # given
    population, feeds, truth = world
    persons = persons_frame(population)
    readings = with_person(frame(feeds["water_meter_reading"]), persons)
    readings["day"] = readings["read_at"].dt.normalize()
    readings["litres"] = readings["litres"].astype(float)
    # when: complete days (1 daily reading or 24 hourly ones) in the last 30 days
    days = (
        readings.groupby(["meter_id", "household_key", "person_key", "day", "interval"])
        .agg(n=("litres", "size"), litres=("litres", "sum"))
        .reset_index()
    )
    complete = ((days["interval"] == "day") & (days["n"] == 1)) | (
        (days["interval"] == "hour") & (days["n"] == 24)
    )
    lookback = days["day"] >= pd.Timestamp(AS_OF - datetime.timedelta(days=30))
    days = days[complete & lookback].copy()
    days["kind"] = np.select([days["litres"] < 10, days["litres"] > 1_000], ["low", "high"], "")
    days = days[days["kind"] != ""].sort_values(["meter_id", "day"])
    # households of exactly one living member aged 70 or more on the day
    size = persons.groupby("household_key").size()
    days = days[days["household_key"].map(size) == 1]
    birth = days["person_key"].map(persons.set_index("person_key")["birth_date"])
    days = days[ages(birth, days["day"]) >= 70]
    # consecutive anomalous days of the same kind are one episode
    gap = days.groupby("meter_id")["day"].diff() != pd.Timedelta(days=1)
    changed = days.groupby("meter_id")["kind"].shift() != days["kind"]
    starts = days[gap | changed]
    found = {
        (row.household_key, "red" if row.kind == "low" else "yellow", row.day.date())
        for row in starts.itertuples()
    }
    # then
    assert found == expected_set(truth, "water_anomaly")


def test_background_water_use_is_ordinary_on_every_complete_day(world: World) -> None:
    # given
    _population, feeds, truth = world
    readings = frame(feeds["water_meter_reading"])
    readings["day"] = readings["read_at"].dt.normalize()
    readings["litres"] = readings["litres"].astype(float)
    truth_ids = set(truth_rows(truth, "water_anomaly")["person_key"])
    persons = frame(feeds["water_meter_reading"]).merge(
        frame(world[0]["persons"])[["id_number", "person_key"]], on="id_number"
    )
    background = set(persons.loc[~persons["person_key"].isin(truth_ids), "meter_id"])
    # when
    days = readings[readings["meter_id"].isin(background)]
    days = days.groupby(["meter_id", "day", "interval"]).agg(
        n=("litres", "size"), litres=("litres", "sum")
    )
    days = days.reset_index()
    complete = days[((days["interval"] == "day") & (days["n"] == 1)) | (days["n"] == 24)]
    # then
    assert len(complete) > 0
    assert complete["litres"].between(60, 400).all()


def test_enrolled_new_assets_finds_exactly_the_planted_acquisitions(world: World) -> None:
    # given
    population, feeds, truth = world
    persons = persons_frame(population)
    enrolments = frame(population["enrolments"])
    qualifying = enrolments[
        (enrolments["status"] == "active")
        & enrolments["category"].isin(ASSISTED | {"dibao_marginal"})
    ]
    started = qualifying.groupby("household_key")["start_date"].min()
    vehicles = with_person(frame(feeds["vehicle_registration"]), persons)
    estates = with_person(frame(feeds["property_registration"]), persons)
    firms = with_person(frame(feeds["business_registration"]), persons)
    # when: transfers in count as registrations too (a stricter reading than the rule's)
    events = pd.concat(
        [
            vehicles.loc[
                vehicles["action"].isin(["registered", "transferred_in"])
                & vehicles["kind"].isin(["car", "truck"]),
                ["household_key", "registered_on"],
            ],
            estates.loc[estates["action"] == "acquired", ["household_key", "registered_on"]],
            firms.loc[
                (firms["action"] == "registered") & firms["kind"].isin(["company", "individual"]),
                ["household_key", "registered_on"],
            ],
        ]
    )
    events["since"] = events["household_key"].map(started)
    hit = events[events["since"].notna() & (events["registered_on"] > events["since"])]
    found = set(zip(hit["household_key"], ["yellow"] * len(hit), hit["registered_on"], strict=True))
    # then
    assert found == expected_set(truth, "enrolled_new_assets")


# --------------------------------------------------------------------------------------
# Registry-state rules
# --------------------------------------------------------------------------------------


def registry_frame(population: dict[str, pa.Table]) -> pd.DataFrame:
    households = frame(population["households"]).set_index("household_key")
    persons = persons_frame(population)
    enrolments = frame(population["enrolments"])
    active = enrolments[enrolments["status"] == "active"]
    out = pd.DataFrame(index=households.index)
    out["standard"] = np.where(households["area_type"] == "urban", 828, 616)
    out["members"] = persons.groupby("household_key").size().reindex(out.index, fill_value=0)
    out["income"] = household_income(population)
    out["per_capita"] = out["income"] / 12 / out["members"]
    for name, categories in (
        ("assisted", ASSISTED),
        ("marginal", {"dibao_marginal"}),
        ("rigid", {"rigid_expenditure"}),
    ):
        out[name] = out.index.isin(active.loc[active["category"].isin(categories), "household_key"])
    out["enrolled"] = out.index.isin(active["household_key"])
    return out


def test_income_below_standard_truth_follows_the_definition(world: World) -> None:
    # given
    population, _feeds, truth = world
    registry = registry_frame(population)
    # when
    yellow = registry[(registry["per_capita"] < registry["standard"]) & ~registry["assisted"]]
    blue = registry[
        (registry["per_capita"] >= registry["standard"])
        & (registry["per_capita"] < 1.5 * registry["standard"])
        & ~registry["assisted"]
        & ~registry["marginal"]
    ]
    found = {(k, "yellow") for k in yellow.index} | {(k, "blue") for k in blue.index}
    # then
    assert found == {
        (k, level)
        for k, level in zip(
            truth_rows(truth, "income_below_standard")["household_key"],
            truth_rows(truth, "income_below_standard")["level"],
            strict=True,
        )
    }
    assert found  # the population has such households


def test_rigid_expenditure_truth_follows_the_definition(world: World) -> None:
    # given
    population, _feeds, truth = world
    registry = registry_frame(population)
    spending = frame(population["expenditures"])
    spending["amount"] = spending["amount"].astype(float)
    incomes = frame(population["incomes"])
    year = incomes.groupby("household_key")["year"].max()
    spending = spending[spending["year"] == spending["household_key"].map(year)]
    costs = spending.groupby("household_key")["amount"].sum().reindex(registry.index, fill_value=0)
    # when
    left = (registry["income"] - costs) / 12 / registry["members"]
    hit = registry[
        (left < registry["standard"])
        & (registry["per_capita"] >= registry["standard"])
        & ~registry["assisted"]
        & ~registry["rigid"]
    ]
    # then
    assert set(hit.index) == set(truth_rows(truth, "rigid_expenditure")["household_key"])
    assert len(hit) > 0


def test_hardship_score_truth_follows_the_definition(world: World) -> None:
    # given
    population, feeds, truth = world
    registry = registry_frame(population)
    persons = persons_frame(population)
    persons["age"] = ages(persons["birth_date"], pd.Series(pd.Timestamp(AS_OF), persons.index))
    illnesses = frame(population["illnesses"])
    serious = set(illnesses.loc[illnesses["is_serious"], "person_key"])
    per_household = persons.groupby("household_key")

    def count(flags: pd.Series) -> pd.Series:
        return flags.groupby(persons["household_key"]).sum().reindex(registry.index, fill_value=0)

    settlements = with_person(frame(feeds["medical_settlement"]), persons)
    oop = (
        settlements.assign(oop=settlements["out_of_pocket"].astype(float))
        .groupby("household_key")["oop"]
        .sum()
        .reindex(registry.index, fill_value=0)
    )
    ratings = with_person(frame(feeds["housing_safety"]), persons)
    latest = ratings.sort_values("rated_on").groupby("house_id").last()
    unsafe = set(latest.loc[latest["rating"].isin(["C", "D"]), "household_key"])
    # when
    working = (persons["age"] >= 18) & (persons["age"] < 60)
    score = (
        2.0 * (2 - registry["per_capita"] / registry["standard"]).clip(0, 2)
        + 1.5 * (count(working & (persons["labour_capacity"] == "full")) == 0)
        + 0.8 * count(persons["disability_grade"].between(1, 2)).clip(upper=2)
        + 0.8 * count(persons["person_key"].isin(serious)).clip(upper=2)
        + 1.0 * count((persons["age"] < 18) | (persons["age"] >= 60)) / registry["members"]
        + 1.0 * (oop / registry["income"].clip(lower=1)).clip(upper=2)
        + 1.0 * registry.index.isin(unsafe)
    )
    assert per_household.ngroups == len(registry)
    ranked = (
        pd.DataFrame({"score": score.round(6), "key": registry.index})
        .sort_values(["score", "key"], ascending=[False, True])["key"]
        .to_numpy()
    )
    red = ranked[: math.ceil(0.03 * len(ranked))]
    blue = ranked[len(red) : math.ceil(0.10 * len(ranked))]
    not_enrolled = set(registry.index[~registry["enrolled"]])
    found = {(k, "yellow") for k in red if k in not_enrolled} | {
        (k, "blue") for k in blue if k in not_enrolled
    }
    # then
    rows = truth_rows(truth, "hardship_score")
    assert found == set(zip(rows["household_key"], rows["level"], strict=True))
    assert found


# --------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------


def test_the_command_writes_feeds_and_truth_next_to_the_population(tmp_path: Path) -> None:
    # given
    out = StringIO()
    # when
    call_command("synth", households=150, seed=3, out=str(tmp_path), stdout=out)
    # then
    assert (tmp_path / "population" / "persons.parquet").exists()
    assert set(read_feeds(tmp_path)) == set(FEED_IDS)
    assert read_truth(tmp_path).num_rows > 0
    text = out.getvalue()
    assert "water_meter_reading" in text and "truth" in text


def test_the_command_can_skip_the_feeds(tmp_path: Path) -> None:
    # when
    call_command(
        "synth", households=60, seed=3, out=str(tmp_path), no_feeds=True, stdout=StringIO()
    )
    # then
    assert (tmp_path / "population" / "persons.parquet").exists()
    assert not (tmp_path / "feeds").exists()
    assert not (tmp_path / "truth").exists()
