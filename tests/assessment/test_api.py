"""/api/v1/assessment/: list, one, create and the instruments in use; the same refusals
and scoping as the pages."""

from __future__ import annotations

from typing import Any

from django.test import Client

from jiuzhu.accounts.services import api_token_create
from jiuzhu.assessment.models import Assessment
from tests.assessment.conftest import family_answers, make_warning, self_care_answers
from tests.conftest import Family, Personas

API = "/api/v1/assessment"


def _token(user: Any) -> dict[str, str]:
    _, token = api_token_create(user=user, name="pad")
    return {"Authorization": f"Bearer {token}"}


def _post(client: Client, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(f"{API}/", body, content_type="application/json", headers=headers)


def test_assess_read_and_list_through_the_api(personas: Personas, family: Family) -> None:
    # given
    client = Client()
    assistant = _token(personas.village_assistant)
    warning = make_warning(family)
    # when
    created = _post(
        client,
        {
            "household_id": family.household.pk,
            "instrument": "family_needs",
            "answers": family_answers("3"),
            "warning_id": warning.pk,
        },
        assistant,
    )
    person = _post(
        client,
        {
            "household_id": family.household.pk,
            "instrument": "self_care_6",
            "person_id": family.spouse.pk,
            "answers": self_care_answers(3),
        },
        assistant,
    )
    listed = client.get(f"{API}/?instrument=family_needs", headers=assistant)
    one = client.get(f"{API}/{created.json()['id']}", headers=assistant)
    instruments = client.get(
        f"{API}/instruments?household_id={family.household.pk}", headers=assistant
    )
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["tier"], body["colour"], body["score"]) == ("high", "red", "100.0")
    assert body["tier_label"] == "高" and body["warning_id"] == warning.pk
    assert len(body["answers"]) == 20 and body["answers"][0]["option_label"] == "严重困难"
    assert person.json()["tier"] == "partial"
    assert person.json()["person_name_masked"] == "李*英"
    assert [a["id"] for a in listed.json()["items"]] == [body["id"]]
    assert one.json()["id"] == body["id"]
    assert [i["code"] for i in instruments.json()] == ["family_needs", "self_care_6"]
    assert "身份证" not in one.content.decode() and "王建国" not in one.content.decode()


def test_refusals_and_scoping_through_the_api(personas: Personas, family: Family) -> None:
    # given
    client = Client()
    answers = family_answers("1")
    del answers["living_food"]
    body = {"household_id": family.household.pk, "instrument": "family_needs", "answers": answers}
    # when
    missing = _post(client, body, _token(personas.village_assistant))
    colleague = _post(client, {**body, "answers": family_answers("1")}, _token(personas.colleague))
    supervisor = _post(
        client, {**body, "answers": family_answers("1")}, _token(personas.supervisor)
    )
    provider_list = client.get(f"{API}/", headers=_token(personas.provider))
    # then
    assert missing.status_code == 422
    assert "living_food" in missing.json()["detail"]
    assert colleague.status_code == 404
    assert supervisor.status_code == 403
    assert provider_list.status_code == 404
    assert not Assessment.objects.exists()
