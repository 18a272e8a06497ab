"""The assessment pages through the test client, persona by persona: who sees what, a
new assessment from the household file and from a verified warning, a refused form that
keeps what was typed, the household panel, and the instrument pages."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from jiuzhu.assessment.models import Assessment, Instrument
from jiuzhu.assessment.selectors import latest_version
from jiuzhu.assessment.services import assessment_create, instrument_copy
from jiuzhu.monitoring.services import warning_verify
from jiuzhu.registry.models import TimelineEvent
from tests.assessment.conftest import family_answers, make_warning, self_care_answers
from tests.conftest import Family, Personas, login


def _form(answers: dict[str, str], **extra: str) -> dict[str, str]:
    return {**{f"a_{code}": value for code, value in answers.items()}, **extra}


def _assessed(personas: Personas, family: Family, level: str = "2") -> Assessment:
    return assessment_create(
        actor=personas.village_assistant,
        household=family.household,
        instrument_code="family_needs",
        answers=family_answers(level),
    )


def test_the_list_is_scoped_by_area(personas: Personas, family: Family) -> None:
    # given
    assessment = _assessed(personas, family)
    link = f"/assessment/{assessment.pk}/"
    # when / then
    for user, sees in (
        (personas.village_assistant, True),
        (personas.town_officer, True),
        (personas.county_admin, True),
        (personas.supervisor, True),
        (personas.colleague, False),
        (personas.other_town_officer, False),
    ):
        page = login(Client(), user).get("/assessment/")
        assert page.status_code == 200
        assert (link in page.content.decode()) is sees, user
    assert login(Client(), personas.provider).get("/assessment/").status_code == 404
    assert Client().get("/assessment/").status_code == 302


def test_the_list_filters_by_tier_colour_instrument_area_and_date(
    personas: Personas, family: Family
) -> None:
    # given
    high = _assessed(personas, family, "3")
    low = _assessed(personas, family, "0")
    client = login(Client(), personas.town_officer)

    def shown(query: str) -> set[int]:
        return {a.pk for a, _ in client.get(f"/assessment/?{query}").context["rows"]}

    # when / then
    assert shown("") == {high.pk, low.pk}
    assert shown("tier=high") == {high.pk}
    assert shown("colour=blue") == {low.pk}
    assert shown("instrument=self_care_6") == set()
    assert shown("region=360823100202") == set()
    assert shown("region=360823100201") == {high.pk, low.pk}
    assert shown("from=2000-01-01&to=2000-12-31") == set()
    assert shown("latest=1") == {low.pk}


def test_an_assessment_page_is_404_outside_the_area(personas: Personas, family: Family) -> None:
    # given
    assessment = _assessed(personas, family)
    url = f"/assessment/{assessment.pk}/"
    # when
    page = login(Client(), personas.village_assistant).get(url)
    # then
    assert page.status_code == 200
    body = page.content.decode()
    assert "家庭需求评估" in body and "v1" in body
    assert "收入能否维持基本生活" in body
    assert "王建国" not in body and "王*国" in body
    for outsider in (personas.colleague, personas.other_town_officer, personas.provider):
        assert login(Client(), outsider).get(url).status_code == 404


def test_a_new_assessment_through_the_page(personas: Personas, family: Family) -> None:
    # given
    client = login(Client(), personas.village_assistant)
    form = client.get(f"/assessment/new/?household={family.household.pk}")
    assert form.status_code == 200
    assert form.content.decode().count('type="radio"') == 80  # 20 indicators × 4 answers
    # when
    response = client.post(
        "/assessment/new/",
        _form(family_answers("1"), household=str(family.household.pk), instrument="family_needs"),
    )
    # then
    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/assessment/{assessment.pk}/"
    assert (assessment.tier, assessment.colour, str(assessment.score)) == (
        "medium",
        "yellow",
        "33.3",
    )
    assert assessment.assessed_by == personas.village_assistant


def test_a_missing_answer_gives_422_and_keeps_what_was_typed(
    personas: Personas, family: Family
) -> None:
    # given
    client = login(Client(), personas.village_assistant)
    answers = family_answers("3", living_housing="1")
    del answers["care_elderly"]
    # when
    response = client.post(
        "/assessment/new/",
        _form(
            answers,
            household=str(family.household.pk),
            instrument="family_needs",
            note="老人独居",
        ),
    )
    # then
    assert response.status_code == 422
    body = response.content.decode()
    assert not Assessment.objects.exists()
    assert re.search(r'name="a_living_housing" value="1"\s+checked', body)
    assert re.search(r'name="a_living_income" value="3"\s+checked', body)
    assert not re.search(r'name="a_care_elderly" value="\d"\s+checked', body)
    assert "老人独居" in body
    assert response.context["errors"]["care_elderly"]
    assert 'id="i-care_elderly"' in body and 'class="indicator invalid"' in body


def test_self_care_of_a_member_through_the_page(personas: Personas, family: Family) -> None:
    # given
    client = login(Client(), personas.village_assistant)
    url = f"/assessment/new/?household={family.household.pk}&instrument=self_care_6"
    form = client.get(url)
    assert "王*国" in form.content.decode()
    # when
    without_person = client.post(
        "/assessment/new/",
        _form(self_care_answers(2), household=str(family.household.pk), instrument="self_care_6"),
    )
    response = client.post(
        "/assessment/new/",
        _form(
            self_care_answers(2),
            household=str(family.household.pk),
            instrument="self_care_6",
            person=str(family.spouse.pk),
        ),
    )
    # then
    assert without_person.status_code == 422
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert (assessment.person, assessment.tier) == (family.spouse, "partial")


def test_others_may_not_assess(personas: Personas, family: Family) -> None:
    # given
    url = f"/assessment/new/?household={family.household.pk}"
    data = _form(family_answers("1"), household=str(family.household.pk))
    # when / then
    assert login(Client(), personas.colleague).get(url).status_code == 404
    assert login(Client(), personas.colleague).post("/assessment/new/", data).status_code == 404
    assert login(Client(), personas.provider).post("/assessment/new/", data).status_code == 404
    assert login(Client(), personas.supervisor).get(url).status_code == 404
    assert not Assessment.objects.exists()


def test_verified_warning_to_assessment_to_timeline(personas: Personas, family: Family) -> None:
    # given
    open_warning = make_warning(family, verified=False)
    client = login(Client(), personas.village_assistant)
    button = f"/assessment/new/?household={family.household.pk}&amp;warning={open_warning.pk}"
    assert button not in client.get(f"/warnings/{open_warning.pk}/").content.decode()
    warning_verify(
        warning=open_warning,
        user=personas.village_assistant,
        visited_at=timezone.now() - datetime.timedelta(hours=1),
        findings="住院治疗，家中老人无人照料",
        outcome="referred",
        need_summary="陪护与助餐",
    )
    # when
    warning_page = client.get(f"/warnings/{open_warning.pk}/").content.decode()
    form = client.get(f"/assessment/new/?household={family.household.pk}&warning={open_warning.pk}")
    response = client.post(
        "/assessment/new/",
        _form(
            family_answers("3"),
            household=str(family.household.pk),
            warning=str(open_warning.pk),
            instrument="family_needs",
        ),
    )
    file_page = client.get(f"/households/{family.household.pk}/").content.decode()
    # then
    assert button in warning_page
    assert form.status_code == 200 and "medical_burden" not in form.content.decode()
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert assessment.warning_id == open_warning.pk
    event = TimelineEvent.objects.get(household=family.household, kind="assessment.assessed")
    assert event.summary in file_page
    assert f"/assessment/{assessment.pk}/" in file_page  # the panel links to it
    assert f"/assessment/new/?household={family.household.pk}" in file_page  # "new assessment"


def test_the_household_panel_shows_the_change_of_tier(personas: Personas, family: Family) -> None:
    # given
    _assessed(personas, family, "0")
    newer = _assessed(personas, family, "3")
    client = login(Client(), personas.town_officer)
    # when
    page = client.get(f"/households/{family.household.pk}/")
    detail = client.get(f"/assessment/{newer.pk}/")
    # then
    body = page.content.decode()
    assert f"/assessment/{newer.pk}/" in body
    panel = body[body.index('id="assessments"') :]
    assert "tier-red" in panel and "低" in panel  # now red, was low
    assert detail.context["previous"] == newer.previous
    assert len(detail.context["history"]) == 2


def test_instrument_pages_and_version_history(personas: Personas) -> None:
    # given
    admin = login(Client(), personas.county_admin)
    national = Instrument.objects.get(code="family_needs", region__isnull=True)
    # when: the county copies the national instrument, then edits its copy
    assert admin.get("/assessment/instruments/").status_code == 200
    assert admin.get(f"/assessment/instruments/{national.pk}/edit/").status_code == 404
    copied = admin.post(f"/assessment/instruments/{national.pk}/copy/")
    county = Instrument.objects.get(code="family_needs", region_id="360823")
    definition = latest_version(county).definition  # type: ignore[union-attr]
    definition["tiers"][1]["min_score"] = 35
    definition["dimensions"][0]["indicators"][0]["label"] = "收入能否维持家庭基本生活"
    edit_url = f"/assessment/instruments/{county.pk}/edit/"
    saved = admin.post(
        edit_url,
        {"definition": json.dumps(definition, ensure_ascii=False), "reason": "县里调整"},
    )
    page = admin.get(f"/assessment/instruments/{county.pk}/")
    old = admin.get(f"/assessment/instruments/{county.pk}/?version=1")
    # then
    assert copied.status_code == 302 and copied["Location"].endswith(f"/{county.pk}/")
    assert saved.status_code == 302
    assert county.versions.count() == 2
    body = page.content.decode()
    assert "县里调整" in body
    assert (
        "收入能否维持家庭基本生活" in body and "<del>30</del>" in body and "<ins>35</ins>" in body
    )
    assert "收入能否维持基本生活" in old.content.decode()
    assert old.context["shown"].number == 1


def test_a_bad_edit_gives_422_with_messages_and_saves_nothing(personas: Personas) -> None:
    # given
    admin = login(Client(), personas.county_admin)
    county = instrument_copy(
        actor=personas.county_admin,
        instrument=Instrument.objects.get(code="self_care_6", region__isnull=True),
    )
    definition = latest_version(county).definition  # type: ignore[union-attr]
    definition["dimensions"][0]["indicators"][1]["code"] = "eating"
    text = json.dumps(definition, ensure_ascii=False)
    # when
    refused = admin.post(
        f"/assessment/instruments/{county.pk}/edit/", {"definition": text, "reason": "试试"}
    )
    broken = admin.post(
        f"/assessment/instruments/{county.pk}/edit/", {"definition": "{oops", "reason": "试试"}
    )
    # then
    assert refused.status_code == 422
    assert "eating" in refused.context["errors"]["definition"][0]
    assert refused.context["text"] == text
    assert refused.context["reason"] == "试试"
    assert broken.status_code == 422
    assert "{oops" in broken.content.decode()
    assert county.versions.count() == 1


@pytest.mark.parametrize("persona", ["town_officer", "village_assistant", "supervisor"])
def test_only_instrument_managers_edit(personas: Personas, persona: str) -> None:
    # given
    county = instrument_copy(
        actor=personas.county_admin,
        instrument=Instrument.objects.get(code="family_needs", region__isnull=True),
    )
    client = login(Client(), getattr(personas, persona))
    # when / then
    assert client.get(f"/assessment/instruments/{county.pk}/").status_code == 200
    assert client.get(f"/assessment/instruments/{county.pk}/edit/").status_code == 404
    assert client.post(f"/assessment/instruments/{county.pk}/copy/").status_code == 404


def test_navigation_links_to_assessments(personas: Personas) -> None:
    # given
    client = login(Client(), personas.village_assistant)
    # when
    page = client.get("/assessment/")
    # then
    assert 'href="/assessment/"' in page.content.decode()
