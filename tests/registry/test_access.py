"""Persona tests for every registry view: in scope sees, out of scope gets 404 exactly
like a missing object, outsiders see nothing personal, anonymous goes to login."""

from __future__ import annotations

import pytest
from django.test import Client

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.registry.models import HouseholdAssignment
from tests.conftest import Family, Personas, login

MISSING_ID = 999_999


def file_url(family: Family) -> str:
    return f"/households/{family.household.pk}/"


@pytest.mark.parametrize(
    "persona",
    ["village_assistant", "town_officer", "county_admin", "supervisor"],
)
def test_in_scope_roles_see_the_household_file(
    client: Client, personas: Personas, family: Family, persona: str
) -> None:
    # given
    login(client, getattr(personas, persona))
    # when
    response = client.get(file_url(family))
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert family.household.number in body
    assert "李*英" in body


@pytest.mark.parametrize(
    "persona",
    [
        "colleague",
        "other_town_officer",
        "caseworker",
        "provider",
        "volunteer",
        "donor",
        "feed_client",
    ],
)
def test_out_of_scope_gets_the_same_404_as_a_missing_household(
    client: Client, personas: Personas, family: Family, persona: str
) -> None:
    # given
    login(client, getattr(personas, persona))
    # when
    hidden = client.get(file_url(family))
    missing = client.get(f"/households/{MISSING_ID}/")
    # then
    assert hidden.status_code == 404
    assert missing.status_code == 404
    assert hidden.content == missing.content
    assert "王*国".encode() not in hidden.content


def test_caseworker_sees_an_assigned_household_outside_their_region(
    client: Client, personas: Personas, family: Family
) -> None:
    # given
    HouseholdAssignment.objects.create(household=family.household, user=personas.caseworker)
    login(client, personas.caseworker)
    # when
    response = client.get(file_url(family))
    # then
    assert response.status_code == 200


def test_anonymous_is_sent_to_login(client: Client, family: Family) -> None:
    for url in [file_url(family), "/households/", "/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_viewing_a_household_file_is_audited(
    client: Client, personas: Personas, family: Family
) -> None:
    # given
    login(client, personas.town_officer)
    # when
    client.get(file_url(family))
    # then
    event = AuditEvent.objects.get(action="view", actor=personas.town_officer)
    assert event.object_id == str(family.household.pk)
    assert event.region_code == family.household.region_id


def test_search_finds_in_scope_households_only(
    client: Client, personas: Personas, family: Family
) -> None:
    # given / when
    login(client, personas.village_assistant)
    mine = client.get("/households/", {"q": "王"}).content.decode()
    login(client, personas.colleague)
    theirs = client.get("/households/", {"q": "王"}).content.decode()
    # then
    assert family.household.number in mine
    assert family.household.number not in theirs


def test_search_by_id_number_uses_the_blind_index(
    client: Client, personas: Personas, family: Family
) -> None:
    # given: a valid number of nobody, a number of the spouse, a bad checksum
    login(client, personas.town_officer)
    nobody = "360823201501010014"
    # when
    found = client.post("/households/", {"id_number": "362423196005050021"})
    missing = client.post("/households/", {"id_number": nobody})
    wrong = client.post("/households/", {"id_number": "362423196005050024"})
    # then
    assert family.household.number in found.content.decode()
    assert family.household.number not in missing.content.decode()
    assert "校验位错误" in wrong.content.decode()
    # audited with the number masked, never in clear
    searches = AuditEvent.objects.filter(action="search").order_by("id")
    assert [e.detail["found"] for e in searches] == [1, 0]
    assert searches[0].detail["id_number"] == "3624**********0021"
    assert "362423196005050021" not in str([e.detail for e in searches])


def test_an_id_number_in_the_query_string_is_ignored(
    client: Client, personas: Personas, family: Family
) -> None:
    # Only POST carries ID numbers; a GET with one must not search by it.
    login(client, personas.town_officer)
    client.get("/households/", {"id_number": "362423196005050021"})
    assert not AuditEvent.objects.filter(action="search").exists()


def test_search_is_not_for_outsiders(client: Client, personas: Personas, family: Family) -> None:
    login(client, personas.volunteer)
    assert client.get("/households/").status_code == 404


def test_search_results_come_as_an_htmx_fragment(
    client: Client, personas: Personas, family: Family
) -> None:
    login(client, personas.town_officer)
    response = client.get("/households/", {"q": "王"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert family.household.number in body
    assert "<html" not in body


def test_unmasking_shows_the_number_and_writes_an_audit_row(
    client: Client, personas: Personas, family: Family
) -> None:
    # given
    login(client, personas.village_assistant)
    before = AuditEvent.objects.filter(action="unmask").count()
    # when
    response = client.post(f"/households/persons/{family.head.pk}/reveal/id_number/")
    # then
    assert response.status_code == 200
    assert "362423195803120018" in response.content.decode()
    event = AuditEvent.objects.filter(action="unmask").latest("id")
    assert AuditEvent.objects.filter(action="unmask").count() == before + 1
    assert event.actor == personas.village_assistant
    assert event.object_id == str(family.head.pk)
    assert event.detail == {"field": "id_number"}
    assert "362423195803120018" not in str(event.detail)


def test_unmasking_a_phone_number(client: Client, personas: Personas, family: Family) -> None:
    login(client, personas.town_officer)
    response = client.post(f"/households/persons/{family.head.pk}/reveal/phone/")
    assert "13807960001" in response.content.decode()


def test_unmasking_out_of_scope_is_404_and_not_audited(
    client: Client, personas: Personas, family: Family
) -> None:
    login(client, personas.colleague)
    response = client.post(f"/households/persons/{family.head.pk}/reveal/id_number/")
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="unmask").exists()


def test_supervisor_reads_but_may_not_unmask(
    client: Client, personas: Personas, family: Family
) -> None:
    login(client, personas.supervisor)
    response = client.post(f"/households/persons/{family.head.pk}/reveal/id_number/")
    assert response.status_code == 403
    assert "362423195803120018" not in response.content.decode()


def test_unmasking_needs_post(client: Client, personas: Personas, family: Family) -> None:
    login(client, personas.town_officer)
    response = client.get(f"/households/persons/{family.head.pk}/reveal/id_number/")
    assert response.status_code == 405


def test_a_name_matching_too_many_households_is_cut_short_with_a_hint(
    client: Client, personas: Personas, family: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a second household with a 王 in village A, and a cap of one
    from jiuzhu.registry import selectors
    from jiuzhu.registry.services import household_create, person_create

    other = household_create(actor=None, region_code=family.household.region_id)
    person_create(
        actor=None,
        household=other,
        name="王五",
        id_number="360823201501010014",
        relationship="head",
    )
    monkeypatch.setattr(selectors, "SEARCH_CAP", 1)
    login(client, personas.town_officer)
    # when
    body = client.get("/households/", {"q": "王"}).content.decode()
    # then
    assert "请输入更完整的姓名" in body
    assert body.count('data-label="户编号"') == 1


def test_search_by_household_number_prefix(
    client: Client, personas: Personas, family: Family
) -> None:
    login(client, personas.town_officer)
    hit = client.get("/households/", {"q": family.household.number[:12]}).content.decode()
    miss = client.get("/households/", {"q": "110101"}).content.decode()
    assert family.household.number in hit
    assert family.household.number not in miss
