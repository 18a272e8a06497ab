"""Loading a synthetic population into the database (SQLite or PostgreSQL)."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.core.crypto import field_cipher
from jiuzhu.core.masking import mask_id_number, mask_phone
from jiuzhu.regions.models import Region
from jiuzhu.registry.models import (
    Asset,
    Enrolment,
    Expenditure,
    Household,
    Illness,
    Income,
    Person,
    TimelineEvent,
)
from jiuzhu.registry.protected import (
    ID_COLUMN,
    id_number_index,
    reveal_id_number,
    reveal_phone,
)
from jiuzhu.synth.loader import PopulationLoadError, population_load
from jiuzhu.synth.population import generate_population, write_population

pytestmark = pytest.mark.django_db

TABLE_MODELS = {
    "households": Household,
    "persons": Person,
    "illnesses": Illness,
    "incomes": Income,
    "assets": Asset,
    "expenditures": Expenditure,
    "enrolments": Enrolment,
}


def db_counts() -> dict[str, int]:
    return {name: model.objects.count() for name, model in TABLE_MODELS.items()}


def expected_timeline(tables: dict[str, pa.Table]) -> int:
    enrolments = tables["enrolments"]
    ended = pc.sum(pc.equal(enrolments["status"], "ended")).as_py()
    return tables["households"].num_rows + enrolments.num_rows + ended


def test_counts_in_the_database_equal_the_generated_rows(
    demo_regions: None,
    population: dict[str, pa.Table],
) -> None:
    # when
    result = population_load(tables=population)
    # then
    expected = {name: population[name].num_rows for name in TABLE_MODELS}
    assert db_counts() == expected
    assert {k: v for k, v in result.counts.items() if k in expected} == expected
    assert TimelineEvent.objects.count() == expected_timeline(population)
    assert result.skipped_households == 0


def test_no_clear_id_or_phone_number_is_stored_in_any_column(
    demo_regions: None,
    population: dict[str, pa.Table],
) -> None:
    # given
    population_load(tables=population)
    ids = set(population["persons"]["id_number"].to_pylist())
    phones = {p for p in population["persons"]["phone"].to_pylist() if p}
    # when: every cell of the raw table, as the database returns it
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{Person._meta.db_table}"')  # noqa: S608
        rows = cursor.fetchall()
    # then
    assert len(rows) == len(ids)
    for row in rows:
        for cell in row:
            text = str(cell)
            for found in re.findall(r"\d{17}[\dX]", text):
                assert found not in ids
            for found in re.findall(r"1[3-9]\d{9}", text):
                assert found not in phones


def test_protected_fields_decrypt_to_the_generated_values(
    demo_regions: None,
    population: dict[str, pa.Table],
) -> None:
    # given
    population_load(tables=population)
    generated = {
        r["name"] + str(r["birth_date"]): r
        for r in population["persons"]
        .select(["name", "birth_date", "id_number", "phone"])
        .to_pylist()
    }
    # when
    people = list(Person.objects.all()[:200])
    # then
    for person in people:
        row = generated[person.name + str(person.birth_date)]
        assert reveal_id_number(person.id_number_encrypted) == row["id_number"]
        assert person.id_number_masked == mask_id_number(row["id_number"])
        assert reveal_phone(person.phone_encrypted) == row["phone"]
        assert person.phone_masked == (mask_phone(row["phone"]) if row["phone"] else "")


def test_a_person_is_found_by_the_blind_index_of_their_number(
    demo_regions: None,
    population: dict[str, pa.Table],
) -> None:
    # given
    population_load(tables=population)
    row = population["persons"].slice(5, 1).to_pylist()[0]
    # when
    index = field_cipher().blind_index(row["id_number"], column=ID_COLUMN)
    # then
    person = Person.objects.get(id_number_index=index)
    assert (person.name, person.birth_date, person.sex) == (
        row["name"],
        row["birth_date"],
        row["sex"],
    )


def test_a_person_is_found_through_id_number_index(
    demo_regions: None,
    population: dict[str, pa.Table],
) -> None:
    # given
    population_load(tables=population)
    row = population["persons"].slice(5, 1).to_pylist()[0]
    # when
    person = Person.objects.get(id_number_index=id_number_index(row["id_number"]))
    # then
    assert person.name == row["name"]


def test_loading_twice_adds_nothing(
    demo_regions: None,
    population: dict[str, pa.Table],
) -> None:
    # given
    population_load(tables=population)
    before = db_counts()
    events = TimelineEvent.objects.count()
    # when
    again = population_load(tables=population)
    # then
    assert db_counts() == before
    assert TimelineEvent.objects.count() == events
    assert again.skipped_households == population["households"].num_rows
    assert sum(again.counts.values()) == 0


def test_a_household_with_an_already_registered_member_is_skipped_whole(
    demo_regions: None,
    population: dict[str, pa.Table],
) -> None:
    # given: another population whose first person carries a number already loaded
    population_load(tables=population)
    other = generate_population(households=60, seed=99)
    households = other["households"]
    fresh_numbers = pc.binary_join_element_wise(
        households["region_code"], "-9", pc.cast(households["household_key"], pa.string()), ""
    )
    households = households.set_column(
        households.schema.get_field_index("number"), "number", fresh_numbers
    )
    persons = other["persons"]
    taken = population["persons"]["id_number"][0].as_py()
    ids = persons["id_number"].to_pylist()
    ids[0] = taken
    persons = persons.set_column(
        persons.schema.get_field_index("id_number"), "id_number", pa.array(ids)
    )
    clashing = persons["household_key"][0].as_py()
    members = pc.sum(pc.equal(persons["household_key"], clashing)).as_py()
    before = db_counts()
    # when
    result = population_load(tables={**other, "households": households, "persons": persons})
    # then
    assert result.skipped_households == 1
    after = db_counts()
    assert after["households"] - before["households"] == households.num_rows - 1
    assert after["persons"] - before["persons"] == persons.num_rows - members
    assert (
        Person.objects.filter(
            id_number_index=field_cipher().blind_index(taken, column=ID_COLUMN)
        ).count()
        == 1
    )


def test_new_rows_after_a_load_get_fresh_ids(
    demo_regions: None,
    population: dict[str, pa.Table],
) -> None:
    # given
    population_load(tables=population)
    highest = Household.objects.order_by("-id").values_list("id", flat=True)[0]
    # when: the ORM inserts afterwards (the sequence was moved past the loaded ids)
    household = Household.objects.create(number="360823100201-99999", region_id="360823100201")
    # then
    assert household.id > highest


def test_the_import_is_audited_without_personal_data(
    demo_regions: None,
    population: dict[str, pa.Table],
) -> None:
    # when
    population_load(tables=population, manifest={"seed": 7, "county_code": "360823"})
    # then
    event = AuditEvent.objects.get(action="import", object_type="synth.population")
    assert event.region_code == "360823"
    assert event.detail["counts"]["persons"] == population["persons"].num_rows
    text = str(event.detail)
    assert not re.search(r"\d{17}[\dX]", text)
    assert not re.search(r"1[3-9]\d{9}", text)


def test_timeline_has_one_event_a_household_and_one_a_spell(
    demo_regions: None,
    population: dict[str, pa.Table],
) -> None:
    # given
    population_load(tables=population)
    enrolment = Enrolment.objects.filter(end_date__isnull=False).first()
    assert enrolment is not None
    # when
    events = TimelineEvent.objects.filter(household_id=enrolment.household_id)
    kinds = [e.kind for e in events]
    # then
    assert kinds.count("registry.household_created") == 1
    started = events.get(kind="registry.enrolled", object_id=str(enrolment.pk))
    assert timezone.localtime(started.occurred_at).date() == enrolment.start_date
    assert started.source == "registry"
    assert events.filter(kind="registry.enrolment_ended", object_id=str(enrolment.pk)).exists()
    assert all(e.summary for e in events)


def test_missing_towns_are_reported(db: None, population: dict[str, pa.Table]) -> None:
    # when / then: no region tree at all
    with pytest.raises(PopulationLoadError, match="towns not in the database"):
        population_load(tables=population)
    assert Household.objects.count() == 0


def test_synthetic_households_never_move_into_a_real_village(
    demo_regions: None,
    population: dict[str, pa.Table],
) -> None:
    # given: one of the villages the population uses is a real one in this database
    Region.objects.filter(code="360823100201").update(is_synthetic=False)
    # when / then
    with pytest.raises(PopulationLoadError, match="real villages"):
        population_load(tables=population)
    assert Household.objects.count() == 0


def test_the_command_writes_parquet_and_loads(db: None, tmp_path: Path) -> None:
    # given
    out = StringIO()
    # when
    call_command("synth", households=120, seed=3, out=str(tmp_path), load=True, stdout=out)
    # then
    text = out.getvalue()
    assert "summary" in text and "seconds:" in text
    assert (tmp_path / "population" / "persons.parquet").exists()
    assert Household.objects.count() == 120
    assert Region.objects.filter(code="360823").exists()  # the demo county was loaded first


def test_the_command_loads_a_directory_written_earlier(
    db: None, demo_regions: None, tmp_path: Path
) -> None:
    # given
    tables = generate_population(households=80, seed=4)
    write_population(tables, tmp_path / "population", {"seed": 4, "county_code": "360823"})
    # when
    result = population_load(directory=tmp_path)
    # then
    assert result.counts["households"] == 80
    assert AuditEvent.objects.get(action="import").detail["seed"] == 4


def test_the_command_generates_for_a_county_from_the_database(db: None, tmp_path: Path) -> None:
    # given: 吉安县 and two towns, as `jiuzhu regions import` would leave them
    Region.objects.create(code="36", name="江西省", level=1)
    Region.objects.create(code="3608", name="吉安市", level=2, parent_id="36")
    Region.objects.create(code="360821", name="吉安县", level=3, parent_id="3608")
    Region.objects.create(code="360821100", name="敦厚镇", level=4, parent_id="360821")
    Region.objects.create(code="360821200", name="横江乡", level=4, parent_id="360821")
    # when
    call_command(
        "synth",
        households=50,
        seed=1,
        out=str(tmp_path),
        region="360821",
        load=True,
        stdout=StringIO(),
    )
    # then
    assert Household.objects.filter(region__code__startswith="360821").count() == 50
    assert Region.objects.filter(code__startswith="360821", is_synthetic=True).exists()
